"""What people read of approval states: a case's approval history, and the steps waiting for a person (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from approval.core.state import CaseApprovals, Step
from approval.core.tokens import Linker


def approval_history(state: CaseApprovals) -> list[dict[str, Any]]:
    """Every decision of every step, oldest step first (mode `all`: each approver's; who acted for whom)."""
    steps = list(state.history) + ([state.current] if state.current else [])
    out = []
    for step in steps:
        decided = sorted((s for s in step.slots if s.status in ("approved", "rejected")),
                         key=lambda s: s.decided_at or step.opened_at)
        out += [{"step": step.step, "approver": s.decided_by or s.approver, "on_behalf_of": s.on_behalf_of,
                 "decision": "approve" if s.status == "approved" else "reject", "comment": s.comment,
                 "at": _iso(s.decided_at), "step_status": step.status} for s in decided]
        if step.status in ("recalled", "cancelled"):
            out.append({"step": step.step, "approver": None, "on_behalf_of": None, "decision": step.status,
                        "comment": None, "at": _iso(step.closed_at), "step_status": step.status})
    return out


def waiting_for(person: str, states: Iterable[CaseApprovals], linker: Linker) -> list[dict[str, Any]]:
    """The open steps in which `person` may decide a pending part (approver, delegate, stand-in, escalation target).

    `link` is a freshly signed approval link for that person: the same page the e-mail opens.
    """
    items = []
    for state in states:
        step = state.open_step()
        if step is None or not _may_decide(step, person):
            continue
        items.append({"case_id": state.case_id, "approval_id": step.approval_id, "step": step.step,
                      "case_type": state.case_type, "gbu": state.gbu, "subject": state.content.subject,
                      "opened_at": _iso(step.opened_at), "escalate_at": _iso(step.escalate_at),
                      "link": linker.link(linker.token(state.case_id, step.approval_id, person))})
    return sorted(items, key=lambda i: (i["opened_at"] or "", i["case_id"]))


def _may_decide(step: Step, person: str) -> bool:
    return any(s.status == "pending" and person in s.eligible() for s in step.slots)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
