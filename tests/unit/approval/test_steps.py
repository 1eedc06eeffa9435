"""The approval state machine: modes, eligibility, delegation, absences, reassignment, recall, timers."""

from __future__ import annotations

from datetime import timedelta

from approval.core import Absence, Refused, absence_started, cancel, decide, delegate, fire_timers, open_step, reassign, recall
from tests.unit.approval.helpers import DIRECTORY, LINKER, NOW, case, rules


def opened(case_type="csr", gbu="marine", step="final_approval", absences=None):
    return open_step(case(case_type, gbu), step, "A-1", "mary", NOW, rules(), DIRECTORY, absences or {}, LINKER)


def test_requested_once_per_approver_with_a_working_link():
    outcome = opened()
    requested = [d for t, d in outcome.events if t == "approval.requested"]
    assert [d["approver"] for d in requested] == ["peter", "john"]
    for d in requested:
        assert d["link"] == f"https://cases.example.com/approvals/{d['token']}"
        claim = LINKER.verify(d["token"])
        assert (claim.case_id, claim.approval_id, claim.person) == ("C-1", "A-1", d["approver"])
        assert (d["rule_set_version"], d["rule_id"], d["requested_by"]) == (1, "csr-marine", "mary")
    assert LINKER.verify(requested[0]["token"][:-2] + "xx") is None


def test_mode_all_needs_every_approval():
    state = opened().state
    first = decide(state, "final_approval", "peter", "approve", "fine", NOW)
    assert first.settled is None and first.events[0][1]["step_outcome"] == "pending"
    again = decide(first.state, "final_approval", "peter", "approve", None, NOW)
    assert isinstance(again, Refused) and again.code == "already_decided"
    second = decide(first.state, "final_approval", "john", "approve", None, NOW)
    decision, step, approver, comment = second.settled[:4]
    assert (decision, step, approver) == ("approve", "final_approval", "john")
    assert "rule set v1, rule csr-marine" in comment
    assert second.state.current.status == "approved"
    late = decide(second.state, "final_approval", "john", "approve", None, NOW)
    assert late.code == "already_decided"


def test_any_rejection_rejects_a_mode_all_step():
    state = opened().state
    rejected = decide(state, "final_approval", "john", "reject", "no capacity", NOW)
    assert rejected.settled[0] == "reject" and rejected.settled[3].startswith("no capacity (")
    assert [s.status for s in rejected.state.current.slots] == ["skipped", "rejected"]
    assert decide(rejected.state, "final_approval", "peter", "approve", None, NOW).code == "already_decided"


def test_mode_first_settles_on_the_first_answer():
    state = opened("csr", "packaging", "pre_approval").state
    outcome = decide(state, "pre_approval", "john", "approve", None, NOW)
    assert outcome.settled[0] == "approve" and outcome.events[0][1]["step_outcome"] == "approved"


def test_only_approvers_may_decide_and_only_the_open_step():
    state = opened().state
    assert decide(state, "final_approval", "mary", "approve", None, NOW).code == "forbidden"
    assert decide(state, "pre_approval", "john", "approve", None, NOW).code == "not_found"
    assert decide(None, "approval", "john", "approve", None, NOW).code == "not_found"


def test_delegate_keeps_original_and_acting_approver():
    state = opened().state
    out = delegate(state, "final_approval", "peter", "clara", "on leave", DIRECTORY, LINKER)
    kinds = [t for t, _ in out.events]
    assert kinds == ["approval.delegated", "approval.requested"]
    assert out.events[1][1]["approver"] == "clara" and out.events[1][1]["on_behalf_of"] == "peter"
    assert delegate(state, "final_approval", "mary", "clara", None, DIRECTORY, LINKER).code == "forbidden"
    assert delegate(state, "final_approval", "peter", "nobody", None, DIRECTORY, LINKER).code == "invalid"
    decided = decide(out.state, "final_approval", "clara", "approve", None, NOW)
    event = decided.events[0][1]
    assert (event["approver"], event["acting_approver"]) == ("peter", "clara")


def test_out_of_office_applies_when_the_step_opens():
    absences = {"peter": Absence("peter", "sam", NOW - timedelta(days=1), NOW + timedelta(days=1))}
    outcome = opened(absences=absences)
    slot = outcome.state.current.slots[0]
    assert (slot.approver, slot.acting, slot.acting_reason) == ("peter", "sam", "out_of_office")
    assert ("approval.delegated", "out_of_office") in [(t, d.get("reason")) for t, d in outcome.events]


def test_out_of_office_without_delegate_uses_the_deputy_and_follows_absent_stand_ins():
    absences = {"john": Absence("john", None, NOW, NOW + timedelta(days=1)),
                "peter": Absence("peter", "carl", NOW, NOW + timedelta(days=1))}
    outcome = opened("csr", "marine", "pre_approval", absences)
    assert outcome.state.current.slots[0].acting == "carl"  # john → deputy peter → peter's stand-in carl


def test_out_of_office_in_the_future_is_not_applied_and_applies_when_it_starts():
    later = Absence("peter", "sam", NOW + timedelta(hours=1), NOW + timedelta(days=1))
    state = opened(absences={"peter": later}).state
    assert state.current.slots[0].acting is None
    assert absence_started(state, later, NOW, {"peter": later}, {}, LINKER) is None  # not yet in force
    started = absence_started(state, later, NOW + timedelta(hours=2), {"peter": later}, {}, LINKER)
    assert started.state.current.slots[0].acting == "sam"
    assert [t for t, _ in started.events] == ["approval.delegated", "approval.requested"]


def test_reassign_by_the_manager_or_a_reassigner_role():
    state = opened("csr", "marine", "pre_approval").state
    assert reassign(state, "pre_approval", "mary", ["sales_rep"], "john", "nina", None, DIRECTORY, ["admin"], LINKER).code == "forbidden"
    out = reassign(state, "pre_approval", "boss", ["admin"], "john", "nina", "john is busy", DIRECTORY, ["admin"], LINKER)
    assert [t for t, _ in out.events] == ["approval.reassigned", "approval.requested"]
    assert out.state.current.slots[0].approver == "nina" and out.state.current.slots[0].reassigned_from == "john"
    assert decide(out.state, "pre_approval", "john", "approve", None, NOW).code == "forbidden"
    # peter has no manager in the directory: only reassigner roles may move his part
    claim = open_step(case("claim"), "approval", "A-2", "mary", NOW, rules(), DIRECTORY, {}, LINKER).state
    assert reassign(claim, "approval", "clara", [], "peter", "carl", None, DIRECTORY, [], LINKER).code == "forbidden"
    # sam (acting for john) reports to peter: peter may move sam's part
    handed = delegate(state, "pre_approval", "john", "sam", None, DIRECTORY, LINKER).state
    moved = reassign(handed, "pre_approval", "peter", [], "sam", "nina", None, DIRECTORY, [], LINKER)
    assert moved.state.current.slots[0].approver == "nina" and moved.state.current.slots[0].acting is None


def test_recall_by_the_submitter_only():
    state = opened().state
    assert recall(state, None, "john", [], None, NOW).code == "forbidden"
    out = recall(state, None, "mary", ["sales_rep"], "wrong product", NOW)
    assert out.state.current.status == "recalled" and out.settled[0] == "recall"
    assert "Recalled by mary: wrong product" == out.settled[3]
    assert decide(out.state, "final_approval", "peter", "approve", None, NOW).code == "not_found"


def test_reminder_then_escalation_once_each():
    state = opened("csr", "marine", "pre_approval").state
    step = state.current
    assert fire_timers(state, NOW, DIRECTORY, {}, LINKER) is None
    reminded = fire_timers(state, step.remind_at, DIRECTORY, {}, LINKER)
    assert [(t, d["approver"]) for t, d in reminded.events] == [("approval.reminder", "john")]
    assert fire_timers(reminded.state, step.remind_at, DIRECTORY, {}, LINKER) is None
    escalated = fire_timers(reminded.state, step.escalate_at, DIRECTORY, rules().escalation_chain, LINKER)
    assert [(t, d["escalated_to"]) for t, d in escalated.events] == [("approval.escalated", "peter")]
    assert escalated.state.current.next_due() is None
    by_target = decide(escalated.state, "pre_approval", "peter", "approve", None, NOW)
    assert by_target.settled[:3] == ("approve", "pre_approval", "peter")


def test_deadlines_follow_the_gbu_calendar():
    step = opened("csr", "marine", "pre_approval").state.current
    assert step.remind_at == rules().calendars["eu-office"].add_business_hours(NOW, 8)


def test_leaving_the_pending_status_cancels_the_step():
    state = opened().state
    out = cancel(state, "closed_rejected", NOW)
    assert out.events[0][0] == "approval.cancelled" and out.state.current.next_due() is None
    assert cancel(out.state, "closed_rejected", NOW) is None


def test_a_new_round_supersedes_the_old_one_and_keeps_history():
    first = opened("customer_request", "marine", "approval").state
    rejected = decide(first, "approval", "peter", "reject", "no", NOW).state
    again = open_step(rejected, "approval", "A-2", "carl", NOW, rules(), DIRECTORY, {}, LINKER).state
    assert [s.approval_id for s in again.history] == ["A-1"] and again.current.approval_id == "A-2"
