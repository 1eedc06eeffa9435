"""The chaos run's invariant checker on hand-made records: each check passes on good input and fails on bad."""

from __future__ import annotations

from bench.chaos import invariants as inv
from bench.chaos.invariants import REJECTED, Sent


def event(id_: str, cause: str, case: str, version: int, type_: str = "case.updated", **more: object) -> dict:
    return {"id": id_, "type": type_, "subject": case, "causationid": cause,
            "data": {"case_id": case, "version": version, **more}}


def rejection(id_: str, command_id: str, code: str = "forbidden") -> dict:
    return {"id": id_, "type": REJECTED, "data": {"command_id": command_id, "code": code}}


CMDS = [Sent("c1", "case.open", "A"), Sent("c2", "case.update", "A"), Sent("c3", "case.close", "A")]
GOOD_EVENTS = [event("e1", "c1", "A", 1, "case.opened"), event("e2", "c2", "A", 2),
               event("e2b", "c2", "A", 2, "case.status_changed")]


def test_one_outcome_passes_for_events_or_a_single_rejection():
    check = inv.one_outcome(CMDS, GOOD_EVENTS, [rejection("r3", "c3"), rejection("r3", "c3")])
    assert check.passed and check.items == 3


def test_one_outcome_fails_for_a_lost_command():
    check = inv.one_outcome(CMDS, GOOD_EVENTS, [])
    assert check.violations == 1 and "c3" in check.examples[0] and "no outcome" in check.examples[0]


def test_one_outcome_fails_for_applied_and_refused():
    check = inv.one_outcome(CMDS, GOOD_EVENTS, [rejection("r3", "c3"), rejection("r2", "c2")])
    assert check.violations == 1 and "both applied" in check.examples[0]


def test_one_outcome_fails_for_two_different_rejections():
    check = inv.one_outcome(CMDS, GOOD_EVENTS, [rejection("r3", "c3"), rejection("r3x", "c3")])
    assert check.violations == 1 and "refused 2 times" in check.examples[0]


def test_one_outcome_fails_for_a_command_applied_twice():
    twice = [*GOOD_EVENTS, event("e9", "c2", "A", 3)]
    check = inv.one_outcome(CMDS, twice, [rejection("r3", "c3")])
    assert check.violations == 1 and "more than once" in check.examples[0]


def test_unique_ids_tolerates_identical_copies_and_counts_them():
    e = event("e1", "c1", "A", 1)
    check = inv.unique_ids([("case.events", e), ("case.events", dict(e)), ("case.events", event("e2", "c2", "A", 2))])
    assert check.passed and check.tolerated == 1 and check.items == 2


def test_unique_ids_fails_on_same_id_with_other_content():
    check = inv.unique_ids([("case.events", event("e1", "c1", "A", 1)), ("case.events", event("e1", "c1", "A", 2))])
    assert check.violations == 1


def test_contiguous_versions_passes_with_repeats_of_one_version():
    assert inv.contiguous_versions(GOOD_EVENTS + [event("e3", "c3", "A", 3)]).passed


def test_contiguous_versions_fails_on_a_gap():
    check = inv.contiguous_versions([event("e1", "c1", "A", 1), event("e3", "c3", "A", 3)])
    assert check.violations == 1 and "missing [2]" in check.examples[0]


def test_contiguous_versions_fails_when_a_version_goes_back():
    check = inv.contiguous_versions([event("e1", "c1", "A", 1), event("e2", "c2", "A", 2), event("e3", "c3", "A", 1)])
    assert check.violations == 1 and "out of order" in check.examples[0]


def test_contiguous_versions_fails_when_the_case_does_not_start_at_one():
    assert not inv.contiguous_versions([event("e2", "c2", "B", 2)]).passed


VIEW = ("ACC-1", "Claim", "In progress", None, None)


def test_portal_matches_passes_on_equal_views():
    assert inv.portal_matches({"A": VIEW}, {"A": VIEW}).passed


def test_portal_matches_fails_on_a_differing_a_missing_and_an_extra_case():
    other = ("ACC-1", "Claim", "Closed", "completed", None)
    check = inv.portal_matches({"A": VIEW, "C": VIEW}, {"A": other, "B": VIEW})
    assert check.violations == 3


def test_mails_once_passes_when_each_sent_delivery_arrived_once():
    assert inv.mails_once({"<m1>": "x", "<m2>": "y"}, {"<m1>": 1, "<m2>": 1}, 0).passed


def test_mails_once_fails_on_lost_duplicated_unknown_and_pending():
    check = inv.mails_once({"<m1>": "x", "<m2>": "y"}, {"<m2>": 2, "<m3>": 1}, 4)
    assert check.violations == 4
    assert any("received 0 times" in e for e in check.examples) and any("2 times" in e for e in check.examples)
    assert any("no delivery" in e for e in check.examples) and any("4 deliveries" in e for e in check.examples)


def test_outboxes_empty():
    assert inv.outboxes_empty(5, []).passed
    assert inv.outboxes_empty(5, ["cases_intake.cases A: 1 outbox entries"]).violations == 1


def test_nothing_dead_lettered():
    assert inv.nothing_dead_lettered(7, []).passed
    assert not inv.nothing_dead_lettered(7, [("case.commands.dlq", "boom")]).passed


def test_caught_up():
    assert inv.caught_up({"g-intake case.commands[0]": 0}).passed
    assert inv.caught_up({"g-intake case.commands[0]": 0, "g-intake case.commands[1]": 3}).violations == 1


def test_only_the_first_examples_are_kept_but_all_are_counted():
    check = inv.outboxes_empty(1, [f"doc {i}" for i in range(20)])
    assert check.violations == 20 and len(check.examples) == inv.EXAMPLES
