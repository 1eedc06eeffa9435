"""Rule resolution and rule-set checks of the routing service (pure: no broker, no store)."""

from __future__ import annotations

import copy

import pytest
import yaml

from routing.core.resolve import least_loaded, resolve
from routing.core.rules import RULES_FILE, RuleSetError, load_rule_file, parse_rule_set
from routing.core.view import CaseView
from shared.directory import load_directory

DIRECTORY = load_directory()
RULES = load_rule_file(DIRECTORY)
RAW = yaml.safe_load(RULES_FILE.read_text())


def case(case_type: str, **kw: object) -> CaseView:
    return CaseView(case_id="C-1", case_type=case_type, gbu=kw.pop("gbu", "marine"), account_id="ACC-1001",
                    status="new", **kw)


def no_load(people: list[str]) -> dict[str, int]:
    return {}


@pytest.mark.parametrize(("cause", "assignee", "queue", "rule"), [
    ("commercial", "seller.ingrid", None, "claim-commercial"),
    ("technical", "paula", "production", "claim-technical"),
    ("logistics", "leo", "logistics", "claim-logistics"),
])
def test_claim_routed_by_cause(cause: str, assignee: str, queue: str | None, rule: str) -> None:
    d = resolve(RULES, case("claim", cause=cause), "opened", DIRECTORY, no_load, owner="seller.ingrid")
    assert d is not None and (d.assignee, d.queue, d.rule_id) == (assignee, queue, rule)
    assert d.comment.startswith(f"routing rules v{RULES.version}, rule {rule}: ")


def test_claim_without_cause_goes_to_triage_saying_why() -> None:
    d = resolve(RULES, case("claim"), "opened", DIRECTORY, no_load, owner="seller.ingrid")
    assert (d.assignee, d.queue, d.rule_id) == (None, "claims-triage", "claim-triage")
    assert "no cause given" in d.comment


def test_claim_with_unrouted_cause_goes_to_triage() -> None:
    d = resolve(RULES, case("claim", cause="quality"), "opened", DIRECTORY, no_load)
    assert d.queue == "claims-triage" and "unknown cause 'quality'" in d.why


def test_commercial_claim_without_account_owner_goes_to_triage() -> None:
    d = resolve(RULES, case("claim", cause="commercial"), "opened", DIRECTORY, no_load, owner=None)
    assert d.queue == "claims-triage" and d.assignee is None
    assert "rule claim-commercial found nobody" in d.why and "no owner" in d.why


@pytest.mark.parametrize(("case_type", "queue"), [("helpdesk", "helpdesk"), ("sales", "sales"), ("purchase", "purchase")])
def test_erp_cases_go_to_their_queue(case_type: str, queue: str) -> None:
    d = resolve(RULES, case(case_type), "opened", DIRECTORY, no_load)
    assert (d.assignee, d.queue, d.rule_id) == (None, queue, f"{case_type}-queue")


def test_csr_assessor_is_the_least_loaded_of_the_group_ties_by_id() -> None:
    d = resolve(RULES, case("csr"), "under_assessment", DIRECTORY, no_load)
    assert (d.assignee, d.team_role) == ("frank", "assessor")  # frank and nina both 0: smallest id
    d = resolve(RULES, case("csr"), "under_assessment", DIRECTORY, lambda ps: {"frank": 3, "nina": 1})
    assert d.assignee == "nina" and "nina 1 open, frank 3 open" in d.why


def test_csr_implementer_and_more_specific_gbu_rule() -> None:
    assert resolve(RULES, case("csr"), "under_implementation", DIRECTORY, no_load).assignee == "frank"
    d = resolve(RULES, case("csr", gbu="lighting"), "under_assessment", DIRECTORY, lambda ps: {"nina": 9})
    assert (d.assignee, d.rule_id) == ("nina", "csr-lighting-assessor")


def test_no_rule_for_other_triggers_or_types() -> None:
    assert resolve(RULES, case("csr"), "registration", DIRECTORY, no_load) is None
    assert resolve(RULES, case("quotation"), "opened", DIRECTORY, no_load) is None


def test_least_loaded() -> None:
    assert least_loaded(["b", "a", "c"], lambda ps: {"a": 2, "b": 1, "c": 1})[0] == "b"


def broken(mutate) -> str:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(RuleSetError) as err:
        parse_rule_set(raw, DIRECTORY)
    return str(err.value)


def test_shipped_rules_are_valid() -> None:
    assert parse_rule_set(RAW, DIRECTORY).version == RAW["version"]


def test_unknown_case_type_refused() -> None:
    msg = broken(lambda r: r["rules"].append({"id": "x", "case_type": "spaceship", "at": "opened", "to": {"queue": "helpdesk"}}))
    assert "rule x: unknown case type 'spaceship'" in msg


def test_route_without_target_refused() -> None:
    msg = broken(lambda r: r["rules"].append({"id": "x", "case_type": "claim", "at": "opened", "match": {"gbu": "g"}}))
    assert "rule x: routes to nobody" in msg


def test_missing_queue_refused() -> None:
    msg = broken(lambda r: r["rules"][0]["to"].update(queue="nowhere"))
    assert "queue 'nowhere' does not exist" in msg


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r["rules"][0]["to"].update(person="ghost", account_owner=False), "person 'ghost' is not in the people directory"),
    (lambda r: r["rules"][0]["to"].update(group="production"), "give only one of person, role, group, account_owner"),
    (lambda r: r["rules"].append(dict(r["rules"][0])), "rule id 'claim-commercial' is used 2 times"),
    (lambda r: r["rules"][0]["match"].update(cause="weather"), "'weather' is not a cause of claim"),
    (lambda r: r["rules"][4].update(at="nowhere"), "'nowhere' is not 'opened' nor a status of csr"),
    (lambda r: r["rules"][-1].update(team_role="buyer"), "purchase does not let system:routing add team members"),
    (lambda r: r["queues"]["helpdesk"].update(groups=["nobody-here"]), "group 'nobody-here' has nobody"),
    (lambda r: r.update(version=0), "version"),
])
def test_invalid_rule_sets_refused(mutate, expected: str) -> None:
    assert expected in broken(mutate)


def test_most_specific_rule_wins_over_file_order() -> None:
    raw = copy.deepcopy(RAW)
    raw["rules"] += [
        {"id": "tech-no", "case_type": "claim", "at": "opened", "match": {"cause": "technical", "country": "NO"},
         "to": {"person": "john"}},
        {"id": "tech-no-acc", "case_type": "claim", "at": "opened",
         "match": {"cause": "technical", "country": "NO", "account_id": "ACC-1001"}, "to": {"person": "nina"}},
        {"id": "tech-line", "case_type": "claim", "at": "opened", "match": {"cause": "technical", "product_line": "led"},
         "to": {"role": "quality"}},
    ]
    rules = parse_rule_set(raw, DIRECTORY)
    assert resolve(rules, case("claim", cause="technical", country="NO"), "opened", DIRECTORY, no_load).rule_id == "tech-no-acc"
    other = CaseView(case_id="C-2", case_type="claim", gbu="marine", account_id="ACC-9", status="new",
                     cause="technical", country="NO")
    assert resolve(rules, other, "opened", DIRECTORY, no_load).assignee == "john"
    d = resolve(rules, case("claim", cause="technical", product_line="led"), "opened", DIRECTORY, no_load)
    assert (d.rule_id, d.assignee) == ("tech-line", "john")  # the only holder of role quality
    assert resolve(rules, case("claim", cause="technical", country="SE"), "opened", DIRECTORY, no_load).rule_id == "claim-technical"


def test_ambiguous_rules_refused() -> None:
    msg = broken(lambda r: r["rules"].append({"id": "dup", "case_type": "claim", "at": "opened",
                                              "match": {"cause": "technical"}, "to": {"person": "leo"}}))
    assert "rule dup: same case type, trigger and conditions as rule claim-technical" in msg
