"""What people do to an open step: decide, delegate, reassign, recall; and absences starting (pure)."""

from __future__ import annotations

from datetime import datetime

from approval.core.state import Absence, CaseApprovals, Outcome, Refused, Settled, Slot, Step
from approval.core.steps import delegated, requested, stand_in
from approval.core.tokens import Linker
from shared.directory import Directory


def _find_open(state: CaseApprovals | None, step_name: str | None) -> Step | Refused:
    """The open step, or the refusal that explains why there is none."""
    if state is None or state.current is None:
        return Refused("not_found", "This case has no approval request.")
    step = state.open_step(step_name)
    if step is not None:
        return step
    earlier = state.past(step_name) if step_name else state.current
    if earlier is not None and earlier.status in ("approved", "rejected"):
        return Refused("already_decided", f"Step {earlier.step} was already decided ({earlier.status}).")
    if earlier is not None and earlier.status in ("recalled", "cancelled"):
        return Refused("not_found", f"Step {earlier.step} is no longer open ({earlier.status}).")
    return Refused("not_found", f"There is no open approval step {step_name!r} on this case.")


def decide(state: CaseApprovals | None, step_name: str, actor: str, decision: str, comment: str | None,
           now: datetime) -> Outcome | Refused:
    """Record one approver's decision; settle the step when its mode is satisfied or anyone rejects."""
    found = _find_open(state, step_name)
    if isinstance(found, Refused):
        return found
    assert state is not None
    person = actor
    mine = [s for s in found.slots if person in s.eligible()]
    if not mine:
        return Refused("forbidden", f"{actor} is not an approver of step {step_name} of this case.")
    slot = next((s for s in mine if s.status == "pending"), None)
    if slot is None:
        return Refused("already_decided", f"{actor} already decided step {step_name}.")
    new = state.model_copy(deep=True)
    step = new.current
    assert step is not None
    slot = step.slots[found.slots.index(slot)]
    slot.status = "approved" if decision == "approve" else "rejected"
    slot.decided_by, slot.comment, slot.decided_at = person, comment, now
    outcome = _step_outcome(step)
    events = [_decided(new, step, slot, outcome, now)]
    settled = None
    if outcome != "pending":
        step.status, step.closed_at = outcome, now
        for other in step.slots:
            if other.status == "pending":
                other.status = "skipped"  # `first` answered, or a rejection made the others moot
        why = f"rule set v{step.rule_set_version}, rule {step.rule_id}, mode {step.mode}"
        text = f"{comment} ({why})" if comment else f"({why})"
        # Every decision of the step goes to intake (mode `all`: each approver's), the deciding one last.
        settled = Settled("approve" if outcome == "approved" else "reject", step.step, person, text, slot.on_behalf_of,
                          tuple(decision_entry(step, s) for s in _decided_slots(step, slot)))
    return Outcome(new, events, settled)


ENTRY_COMMENT_CHARS = 1000  # per decision in `case.record_approval`: a large group's command stays far below command_bytes


def decision_entry(step: Step, slot: Slot) -> dict:
    """One decided part as the case's approval history keeps it (who decided, for whom, what, when)."""
    comment = slot.comment[:ENTRY_COMMENT_CHARS] if slot.comment else slot.comment
    return {"approver": slot.decided_by or slot.approver, "on_behalf_of": slot.on_behalf_of,
            "decision": "approve" if slot.status == "approved" else "reject", "comment": comment,
            "at": slot.decided_at.isoformat() if slot.decided_at else None}


def _decided_slots(step: Step, last: Slot) -> list[Slot]:
    """The step's decided parts in the order they were decided, `last` (the deciding one) at the end."""
    done = [s for s in step.slots if s.status in ("approved", "rejected") and s is not last]
    return sorted(done, key=lambda s: s.decided_at or step.opened_at) + [last]


def _step_outcome(step: Step) -> str:
    decided = [s.status for s in step.slots]
    if "rejected" in decided:
        return "rejected"
    if step.mode == "first" and "approved" in decided:
        return "approved"
    return "approved" if all(s == "approved" for s in decided) else "pending"


def _decided(state: CaseApprovals, step: Step, slot: Slot, outcome: str, now: datetime) -> tuple[str, dict]:
    return "approval.decided", {
        "case_id": state.case_id, "approval_id": step.approval_id, "step": step.step, "approver": slot.approver,
        "acting_approver": slot.decided_by, "decision": "approve" if slot.status == "approved" else "reject",
        "comment": slot.comment, "decided_at": now.isoformat(), "step_outcome": outcome,
        "rule_set_version": step.rule_set_version, "rule_id": step.rule_id,
    }


def delegate(state: CaseApprovals | None, step_name: str, actor: str, to: str, comment: str | None,
             directory: Directory, linker: Linker) -> Outcome | Refused:
    """The approver (or current stand-in) hands their pending part to `to`."""
    found = _find_open(state, step_name)
    if isinstance(found, Refused):
        return found
    assert state is not None
    if directory.get(to) is None:
        return Refused("invalid", f"{to} is not in the people directory.")
    index = next((i for i, s in enumerate(found.slots) if s.status == "pending" and actor in (s.approver, s.acting)), None)
    if index is None:
        return Refused("forbidden", f"{actor} has no pending part of step {step_name} to delegate.")
    if to in found.slots[index].eligible():
        return Refused("invalid", f"{to} may already decide this part of step {step_name}.")
    new = state.model_copy(deep=True)
    step = new.current
    assert step is not None
    slot = step.slots[index]
    slot.acting, slot.acting_reason = to, "delegated"
    return Outcome(new, [delegated(new, step, slot, "delegated", comment, linker), requested(new, step, slot, linker)])


def reassign(state: CaseApprovals | None, step_name: str, actor: str, actor_roles: list[str], from_person: str,
             to: str, comment: str | None, directory: Directory, reassigners: list[str],
             linker: Linker) -> Outcome | Refused:
    """A manager of `from_person` (or a holder of a reassigner role) moves that part of the step to `to`."""
    found = _find_open(state, step_name)
    if isinstance(found, Refused):
        return found
    assert state is not None
    person = directory.get(from_person)
    if not (person and person.manager == actor) and not set(actor_roles) & set(reassigners):
        return Refused("forbidden", f"Only {from_person}'s manager or a holder of {', '.join(reassigners) or 'a reassigner role'}"
                                    f" may reassign their approval.")
    if directory.get(to) is None:
        return Refused("invalid", f"{to} is not in the people directory.")
    index = next((i for i, s in enumerate(found.slots) if s.status == "pending" and from_person in (s.approver, s.acting)), None)
    if index is None:
        return Refused("not_found", f"{from_person} has no pending part of step {step_name}.")
    new = state.model_copy(deep=True)
    step = new.current
    assert step is not None
    slot = step.slots[index]
    slot.reassigned_from, slot.approver, slot.acting, slot.acting_reason = from_person, to, None, None
    token = linker.token(new.case_id, step.approval_id, to)
    event = ("approval.reassigned", {"case_id": new.case_id, "approval_id": step.approval_id, "step": step.step,
                                     "from": from_person, "to": to, "by": actor, "comment": comment,
                                     "link": linker.link(token)})
    return Outcome(new, [event, requested(new, step, slot, linker)])


def recall(state: CaseApprovals | None, step_name: str | None, actor: str, actor_roles: list[str],
           comment: str | None, now: datetime) -> Outcome | Refused:
    """The submitter (or an admin) withdraws the open request; intake is told `recall`: back to before submit."""
    found = _find_open(state, step_name)
    if isinstance(found, Refused):
        return found
    assert state is not None
    if actor != found.requested_by and "admin" not in actor_roles:
        return Refused("forbidden", f"Only the submitter ({found.requested_by}) may recall this approval request.")
    new = state.model_copy(deep=True)
    step = new.current
    assert step is not None
    step.status, step.closed_at = "recalled", now
    for slot in step.slots:
        if slot.status == "pending":
            slot.status = "skipped"
    event = ("approval.recalled", {"case_id": new.case_id, "approval_id": step.approval_id, "step": step.step,
                                   "by": actor, "comment": comment})
    text = f"Recalled by {actor}" + (f": {comment}" if comment else "")
    return Outcome(new, [event], Settled("recall", step.step, actor, text))


def absence_started(state: CaseApprovals, absence: Absence, now: datetime, absences: dict[str, Absence],
                    deputies: dict[str, str], linker: Linker) -> Outcome | None:
    """An absence in force: its person's pending parts go to their stand-in; None if nothing changes."""
    step = state.open_step()
    if step is None:
        return None
    new = state.model_copy(deep=True)
    step = new.current
    assert step is not None
    events = []
    for slot in step.slots:
        if slot.status != "pending" or slot.current != absence.person:
            continue
        standing = stand_in(absence.person, now, absences, deputies)
        if standing is None:
            continue
        slot.acting, slot.acting_reason = standing
        events += [delegated(new, step, slot, "out_of_office", None, linker), requested(new, step, slot, linker)]
    return Outcome(new, events) if events else None
