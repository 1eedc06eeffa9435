"""Rule resolution per case type and refusal of invalid rule sets."""

from __future__ import annotations

import pytest

from approval.core import RuleSetError, find_cycle, open_step
from tests.unit.approval.helpers import DIRECTORY, LINKER, NOW, STEPS, case, raw_rules, rules


def approvers(state, step):
    outcome = open_step(state, step, "A-1", "mary", NOW, rules(), DIRECTORY, {}, LINKER)
    return outcome.state.current


def test_every_case_type_with_an_approval_step_is_covered():
    assert STEPS["csr"] == {"pre_approval", "final_approval"}
    assert STEPS["customer_request"] == {"approval"} and STEPS["claim"] == {"approval"}
    for case_type, steps in STEPS.items():
        for step in steps:
            assert rules().match(case_type, step, {"gbu": "nowhere"}) is not None, (case_type, step)


@pytest.mark.parametrize(("case_type", "gbu", "step", "rule_id", "people", "mode"), [
    ("customer_request", "marine", "approval", "customer-request-default", ["peter"], "first"),
    ("customer_request", "lighting", "approval", "customer-request-lighting", ["peter"], "first"),
    ("csr", "marine", "pre_approval", "csr-marine", ["john"], "first"),
    ("csr", "marine", "final_approval", "csr-marine", ["peter", "john"], "all"),
    ("csr", "packaging", "pre_approval", "csr-default", ["john"], "first"),
    ("csr", "packaging", "final_approval", "csr-default", ["peter"], "first"),
    ("claim", "marine", "approval", "claim-default", ["peter"], "first"),
])
def test_resolution_per_case_type(case_type, gbu, step, rule_id, people, mode):
    opened = approvers(case(case_type, gbu), step)
    assert (opened.rule_id, [s.approver for s in opened.slots], opened.mode) == (rule_id, people, mode)
    assert opened.rule_set_version == 1


def test_most_specific_rule_wins_account_over_country_over_gbu():
    raw = raw_rules()
    raw["rules"] += [
        {"id": "csr-norway", "case_type": "csr", "gbu": "marine", "country": "NO",
         "steps": {"pre_approval": {"approvers": [{"person": "clara"}]}}},
        {"id": "csr-account", "case_type": "csr", "account_id": "ACC-9",
         "steps": {"pre_approval": {"approvers": [{"person": "paula"}]}}},
    ]
    rs = rules(raw)
    assert rs.match("csr", "pre_approval", {"gbu": "marine", "country": "NO"}).id == "csr-norway"
    assert rs.match("csr", "pre_approval", {"gbu": "marine", "country": "NO", "account_id": "ACC-9"}).id == "csr-account"
    assert rs.match("csr", "pre_approval", {"gbu": "marine", "country": "SE"}).id == "csr-marine"
    # a rule that does not define the step is skipped for it
    assert rs.match("csr", "final_approval", {"gbu": "marine", "country": "NO"}).id == "csr-marine"


def test_group_approvers_resolve_through_the_directory():
    opened = approvers(case("csr", "lighting"), "pre_approval")
    assert [s.approver for s in opened.slots] == [p.id for p in DIRECTORY.in_group("csr-pre-approvers")]


def refused(raw) -> list[str]:
    with pytest.raises(RuleSetError) as exc:
        rules(raw)
    return exc.value.reasons


def test_unknown_case_type_is_refused():
    raw = raw_rules()
    raw["rules"].append({"id": "x", "case_type": "spaceship", "steps": {"approval": {"approvers": [{"person": "peter"}]}}})
    assert any("unknown case type 'spaceship'" in r for r in refused(raw))


def test_unknown_step_is_refused():
    raw = raw_rules()
    raw["rules"].append({"id": "x", "case_type": "claim", "steps": {"final_approval": {"approvers": [{"person": "peter"}]}}})
    assert any("has no approval step 'final_approval'" in r for r in refused(raw))


def test_step_without_approver_is_refused():
    raw = raw_rules()
    raw["rules"][0]["steps"]["approval"]["approvers"] = []
    assert any("step approval has no approver" in r for r in refused(raw))


def test_approver_resolving_to_no_one_is_refused():
    raw = raw_rules()
    raw["rules"][0]["steps"]["approval"]["approvers"] = [{"role": "astronaut"}]
    assert any("role astronaut resolves to no one" in r for r in refused(raw))


def test_cycles_in_deputies_and_escalation_chain_are_refused():
    raw = raw_rules()
    raw["deputies"] = {"john": "peter", "peter": "clara", "clara": "john"}
    raw["escalation_chain"] = {"john": "peter", "peter": "john"}
    reasons = refused(raw)
    assert "deputies has a cycle: john → peter → clara → john" in reasons
    assert "escalation_chain has a cycle: john → peter → john" in reasons


def test_missing_fallback_and_bad_references_are_refused():
    raw = raw_rules()
    raw["rules"] = [r for r in raw["rules"] if r["id"] != "claim-default"]
    raw["gbus"]["marine"]["calendar"] = "moon"
    reasons = refused(raw)
    assert "no fallback rule (without conditions) for step approval of case type claim" in reasons
    assert "GBU marine uses unknown calendar 'moon'" in reasons


def test_schema_problems_name_the_field():
    raw = raw_rules()
    raw["rules"][0]["steps"]["approval"]["mode"] = "most"
    raw["version"] = 0
    reasons = refused(raw)
    assert any(r.startswith("version:") for r in reasons)
    assert any(r.startswith("rules.0.steps.approval.mode:") for r in reasons)
    assert refused("not a mapping") == ["a rule set must be a mapping"]


def test_escalation_must_come_after_the_reminder():
    raw = raw_rules()
    raw["rules"][0]["steps"]["approval"]["escalate_after_hours"] = 2
    assert any("escalate_after_hours must be later" in r for r in refused(raw))


def test_find_cycle():
    assert find_cycle({"a": "b", "b": "c"}) is None
    assert find_cycle({"a": "a"}) == ["a", "a"]
