"""Opening, timing, cancelling and standing in for approval steps (pure: no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from approval.core.rules import PartyRef, RuleSet
from approval.core.state import Absence, CaseApprovals, Outcome, Slot, Step
from approval.core.tokens import Linker
from approval.core.validate import resolve_party
from shared.directory import Directory


def stand_in(person: str, now: datetime, absences: dict[str, Absence], deputies: dict[str, str]) -> tuple[str, str] | None:
    """Who decides for `person` now and why (`out_of_office`), following absent stand-ins; None if present."""
    chain, current = [person], person
    while (absence := absences.get(current)) is not None and absence.active(now):
        nxt = absence.delegate or deputies.get(current)
        if nxt is None or nxt in chain:  # nobody named, or a loop of absences: the last one reached decides
            break
        chain.append(nxt)
        current = nxt
    return (current, "out_of_office") if current != person else None


def requested(state: CaseApprovals, step: Step, slot: Slot, linker: Linker) -> tuple[str, dict[str, Any]]:
    """The `approval.requested` event asking the slot's current person to decide."""
    token = linker.token(state.case_id, step.approval_id, slot.current)
    return "approval.requested", {
        "case_id": state.case_id, "approval_id": step.approval_id, "step": step.step,
        "case_type": state.case_type, "gbu": state.gbu, "account_id": state.account_id,
        "approver": slot.current, "on_behalf_of": slot.approver if slot.acting else None,
        "token": token, "link": linker.link(token), "due_at": _iso(step.remind_at),
        "rule_set_version": step.rule_set_version, "rule_id": step.rule_id, "mode": step.mode,
        "requested_by": step.requested_by,
    }


def open_step(state: CaseApprovals, step_name: str, approval_id: str, requested_by: str | None, now: datetime,
              rules: RuleSet, directory: Directory, absences: dict[str, Absence], linker: Linker) -> Outcome | None:
    """Open the step with the matching rule's approvers; None when no rule matches (cannot happen for valid sets)."""
    facts = {"gbu": state.gbu, "account_id": state.account_id, **state.facts}
    rule = rules.match(state.case_type or "", step_name, facts)
    if rule is None:
        return None
    step_rule = rule.steps[step_name]
    people: list[str] = []
    for ref in step_rule.approvers:
        people += [p for p in resolve_party(ref, directory, None) if p not in people]
    calendar = rules.calendar_for(state.gbu or "")
    escalate_at = (calendar.add_business_hours(now, step_rule.escalate_after_hours)
                   if step_rule.escalate_after_hours else None)
    step = Step(approval_id=approval_id, step=step_name, rule_id=rule.id, rule_set_version=rules.version,
                mode=step_rule.mode, requested_by=requested_by, opened_at=now,
                remind_at=calendar.add_business_hours(now, step_rule.remind_after_hours), escalate_at=escalate_at,
                escalate_to=step_rule.escalate_to.model_dump(exclude_none=True) if step_rule.escalate_to else None,
                slots=[Slot(approver=p) for p in people])
    new = state.model_copy(deep=True)
    events = []
    if new.current is not None:
        if new.current.is_open:  # superseded without a decision: keep the record honest
            events.append(_cancelled(new, new.current, "superseded", now))
        new.history.append(new.current)
    new.current = step
    for slot in step.slots:
        standing = stand_in(slot.approver, now, absences, rules.deputies)
        if standing:
            slot.acting, slot.acting_reason = standing
            events.append(delegated(new, step, slot, "out_of_office", None, linker))
        events.append(requested(new, step, slot, linker))
    return Outcome(new, events)


def delegated(state: CaseApprovals, step: Step, slot: Slot, reason: str, comment: str | None,
              linker: Linker) -> tuple[str, dict[str, Any]]:
    """The `approval.delegated` fact for a slot now acted on by someone else."""
    return "approval.delegated", {
        "case_id": state.case_id, "approval_id": step.approval_id, "step": step.step,
        "approver": slot.approver, "acting_approver": slot.current, "reason": reason, "comment": comment,
        "link": linker.link(linker.token(state.case_id, step.approval_id, slot.current)),
    }


def cancel(state: CaseApprovals, to_status: str, now: datetime) -> Outcome | None:
    """The case left the pending status another way: void the open step; None if nothing is open."""
    if state.open_step() is None:
        return None
    new = state.model_copy(deep=True)
    return Outcome(new, [_cancelled(new, new.current, to_status, now)])  # type: ignore[arg-type]


def _cancelled(state: CaseApprovals, step: Step, to_status: str, now: datetime) -> tuple[str, dict[str, Any]]:
    step.status, step.closed_at = "cancelled", now
    return "approval.cancelled", {"case_id": state.case_id, "approval_id": step.approval_id, "step": step.step,
                                  "case_status": to_status}


def fire_timers(state: CaseApprovals, now: datetime, directory: Directory, rules_chain: dict[str, str],
                linker: Linker) -> Outcome | None:
    """Reminders and escalations that are due; None when nothing is."""
    step = state.open_step()
    if step is None or (due := step.next_due()) is None or due > now:
        return None
    new = state.model_copy(deep=True)
    step = new.current
    assert step is not None
    events = []
    pending = [s for s in step.slots if s.status == "pending"]
    if not step.reminded and step.remind_at and step.remind_at <= now:
        step.reminded = True
        for slot in pending:
            token = linker.token(new.case_id, step.approval_id, slot.current)
            events.append(("approval.reminder", {
                "case_id": new.case_id, "approval_id": step.approval_id, "step": step.step,
                "approver": slot.current, "link": linker.link(token), "due_at": _iso(step.remind_at),
                "escalate_at": _iso(step.escalate_at)}))
    if not step.escalated and step.escalate_at and step.escalate_at <= now:
        step.escalated = True
        for slot in pending:
            target = escalation_target(step, slot, directory, rules_chain)
            if target is None:
                continue
            slot.escalated_to = target
            token = linker.token(new.case_id, step.approval_id, target)
            events.append(("approval.escalated", {
                "case_id": new.case_id, "approval_id": step.approval_id, "step": step.step,
                "approver": slot.current, "escalated_to": target, "token": token, "link": linker.link(token),
                "due_at": _iso(step.escalate_at)}))
    return Outcome(new, events)


def escalation_target(step: Step, slot: Slot, directory: Directory, chain: dict[str, str]) -> str | None:
    """Who a late slot escalates to: the rule's target; `manager` = escalation chain, then directory manager."""
    if not step.escalate_to:
        return None
    ref = PartyRef.model_validate(step.escalate_to)
    if ref.manager:
        return chain.get(slot.current) or next(iter(resolve_party(ref, directory, slot.current)), None)
    people = [p for p in resolve_party(ref, directory, None) if p != slot.current]
    return people[0] if people else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
