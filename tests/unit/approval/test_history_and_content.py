"""Pure core: every decision of a mode-`all` step goes to intake (delegates with on_behalf_of); the page's history."""

from __future__ import annotations

from datetime import timedelta

from approval.core import decide, delegate, fire_timers, open_step, recall
from approval.core.views import approval_history, waiting_for
from tests.unit.approval.helpers import DIRECTORY, LINKER, NOW, case, rules


def _final():
    return open_step(case("csr", "marine"), "final_approval", "A-1", "frank", NOW, rules(), DIRECTORY, {}, LINKER).state


def test_mode_all_settles_with_every_decision_in_order_and_the_delegates_principal():
    state = delegate(_final(), "final_approval", "john", "nina", None, DIRECTORY, LINKER).state
    first = decide(state, "final_approval", "nina", "approve", "for John", NOW + timedelta(minutes=5))
    assert first.settled is None
    second = decide(first.state, "final_approval", "peter", "approve", "Fine", NOW + timedelta(minutes=9))
    settled = second.settled
    assert (settled.decision, settled.approver, settled.on_behalf_of) == ("approve", "peter", None)
    assert [(d["approver"], d["on_behalf_of"], d["decision"], d["comment"]) for d in settled.decisions] == [
        ("nina", "john", "approve", "for John"), ("peter", None, "approve", "Fine")]
    assert settled.decisions[0]["at"] == (NOW + timedelta(minutes=5)).isoformat()


def test_a_delegates_rejection_names_the_approver_it_acted_for():
    state = delegate(_final(), "final_approval", "john", "nina", None, DIRECTORY, LINKER).state
    rejected = decide(state, "final_approval", "nina", "reject", "No", NOW).settled
    assert (rejected.decision, rejected.approver, rejected.on_behalf_of) == ("reject", "nina", "john")
    assert [d["approver"] for d in rejected.decisions] == ["nina"]  # peter's pending part was skipped, not decided


def test_an_escalation_targets_decision_is_on_behalf_of_the_late_approver():
    state = fire_timers(_final(), NOW + timedelta(days=30), DIRECTORY, {}, LINKER).state  # escalated to clara
    outcome = decide(state, "final_approval", "clara", "approve", None, NOW + timedelta(days=30))
    assert outcome.events[0][1]["approver"] == "peter" and outcome.state.current.slots[0].on_behalf_of == "peter"


def test_history_lists_every_decision_of_every_step_and_recalls():
    pre = open_step(case("csr", "marine"), "pre_approval", "A-0", "mary", NOW, rules(), DIRECTORY, {}, LINKER).state
    pre = recall(pre, None, "mary", [], "typo", NOW + timedelta(minutes=1)).state
    again = open_step(pre, "pre_approval", "A-1", "mary", NOW + timedelta(minutes=2), rules(), DIRECTORY, {}, LINKER).state
    done = decide(again, "pre_approval", "john", "approve", "ok", NOW + timedelta(minutes=3)).state
    assert [(e["step"], e["approver"], e["decision"]) for e in approval_history(done)] == [
        ("pre_approval", None, "recalled"), ("pre_approval", "john", "approve")]


def test_waiting_for_skips_decided_parts_and_signs_a_link_for_the_person():
    state = _final()
    state.content.subject = "Labels"
    assert [i["subject"] for i in waiting_for("peter", [state], LINKER)] == ["Labels"]
    decided = decide(state, "final_approval", "peter", "approve", None, NOW).state
    assert waiting_for("peter", [decided], LINKER) == [] and len(waiting_for("john", [decided], LINKER)) == 1
    assert LINKER.verify(waiting_for("john", [decided], LINKER)[0]["link"].rsplit("/", 1)[1]).person == "john"


def test_comments_sent_per_decision_are_cut_so_the_command_stays_small():
    state = decide(_final(), "final_approval", "john", "approve", "y" * 5000, NOW).state
    settled = decide(state, "final_approval", "peter", "approve", "z" * 5000, NOW).settled
    assert [len(d["comment"]) for d in settled.decisions] == [1000, 1000]
    assert settled.comment.startswith("z" * 5000)  # the deciding comment travels whole, as before
