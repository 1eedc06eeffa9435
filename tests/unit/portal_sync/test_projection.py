"""The projection core: every portal case type and status, publish only on a visible change, stale and duplicates."""

from __future__ import annotations

import pytest

from portal_sync.core import InvalidEvent, ProjectionState, load_mapping, project, read_facts
from shared.contract.envelope import CloudEvent
from tests.unit.portal_sync.events import case_event, closing, moved, opened
from tests.unit.portal_sync.test_mapping import SEED_003

MAPPING, _ = load_mapping()


def run(events: list[CloudEvent], state: ProjectionState | None = None) -> tuple[ProjectionState | None, list]:
    """Project events in order; returns the final state and the records that would be published."""
    published = []
    for event in events:
        facts = read_facts(event)
        assert facts is not None
        outcome = project(state, facts, MAPPING, generation=1)
        if outcome.state is not None:
            state = outcome.state
        if outcome.publish:
            published.append(outcome.state.record)
    return state, published


@pytest.mark.parametrize(("case_type", "status"), [(t, s) for t, (_, table) in SEED_003.items() for s in table
                                                   if s != "closed"])
def test_every_status_of_every_portal_case_type_is_shown_as_the_seed_says(case_type, status):
    state, published = run([opened("C-1", case_type), moved("C-1", case_type, "new", status, 2)])
    label, table = SEED_003[case_type]
    assert (state.record.portal_type, state.record.portal_status) == (label, table[status])
    assert [r.portal_status for r in published] == (["In Progress"] if table[status] == "In Progress"
                                                    else ["In Progress", table[status]])


@pytest.mark.parametrize("case_type", list(SEED_003))
@pytest.mark.parametrize("reason", ["completed", "duplicated", "rejected"])
def test_closing_publishes_closed_once_with_its_reason(case_type, reason):
    dup = "C-0" if reason == "duplicated" else None
    state, published = run([opened("C-1", case_type), *closing("C-1", case_type, "new", 2, reason, dup)])
    assert [(r.portal_status, r.closure_reason, r.duplicate_of) for r in published] == [
        ("In Progress", None, None), ("Closed", reason, dup)]
    assert state.record.version == 2 and not state.holding


def test_publishes_only_when_what_the_customer_sees_changes():
    events = [opened("C-1", "claim"), moved("C-1", "claim", "new", "in_progress", 2),
              case_event("case.assigned", "C-1", "claim", "in_progress", 3, assignee="x"),
              moved("C-1", "claim", "in_progress", "waiting_for_feedback", 4),
              moved("C-1", "claim", "waiting_for_feedback", "waiting_for_technical_feedback", 5),
              moved("C-1", "claim", "waiting_for_technical_feedback", "response_received", 6)]
    state, published = run(events)
    assert [(r.portal_status, r.version) for r in published] == [
        ("In Progress", 1), ("Awaiting Feedback", 4), ("In Progress", 6)]
    assert state.record.version == 6 and state.record.changed_at == events[-1].time


def test_changed_at_stays_when_only_the_internal_status_moves():
    events = [opened("C-1", "claim"), moved("C-1", "claim", "new", "in_progress", 2)]
    state, _ = run(events)
    assert state.record.changed_at == events[0].time and state.record.version == 2


def test_a_stale_event_never_overwrites_a_newer_projection():
    state, _ = run([opened("C-1", "claim"), moved("C-1", "claim", "new", "waiting_for_feedback", 3)])
    stale = moved("C-1", "claim", "new", "in_progress", 2)
    outcome = project(state, read_facts(stale), MAPPING, 1)
    assert (outcome.label, outcome.state, outcome.publish) == ("stale", None, False)


def test_the_same_event_twice_changes_nothing():
    event = moved("C-1", "claim", "new", "waiting_for_feedback", 2)
    state, _ = run([opened("C-1", "claim"), event])
    outcome = project(state, read_facts(event), MAPPING, 1)
    assert (outcome.label, outcome.state) == ("duplicate", None)


def test_events_of_one_command_share_a_version_and_each_is_applied_once():
    state, published = run([opened("C-1", "quotation"), *closing("C-1", "quotation", "new", 2, "rejected")])
    assert len(state.seen) == 2 and len(published) == 2
    sibling = project(state, read_facts(closing("C-1", "quotation", "new", 2, "rejected")[1]), MAPPING, 1)
    assert sibling.label == "projected" and sibling.publish is False  # new id, same version, same view


def test_case_types_the_portal_does_not_show_are_ignored():
    outcome = project(None, read_facts(opened("CSR-1", "csr", status="registration")), MAPPING, 1)
    assert (outcome.label, outcome.state) == ("not_projected", None)


def test_a_status_missing_from_the_mapping_is_reported_not_guessed():
    outcome = project(None, read_facts(opened("C-1", "claim", status="on_hold")), MAPPING, 1)
    assert (outcome.label, outcome.state) == ("unmapped_status", None)


def test_events_about_other_things_are_not_case_facts():
    event = CloudEvent(id="a", source="/services/intake", type="account.upserted", subject="ACC-1",
                       data={"account_id": "ACC-1", "name": "X"})
    assert read_facts(event) is None


def test_a_case_event_without_its_case_fields_is_invalid():
    event = CloudEvent(id="a", source="/x", type="case.status_changed", subject="C-1", data={"case_id": "C-1"})
    with pytest.raises(InvalidEvent, match="version"):
        read_facts(event)


def test_records_carry_the_mapping_version_generation_and_account():
    state, published = run([opened("C-1", "order", account_id="ACC-9")])
    assert published[0].model_dump(include={"account_id", "mapping_version", "generation", "case_type"}) == {
        "account_id": "ACC-9", "mapping_version": 2, "generation": 1, "case_type": "order"}
