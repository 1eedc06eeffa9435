"""Lenient models of approval events: only the fields the notifier needs.

The approval service owns the contract (shared/contract/approval.py); these read just what we use
and ignore the rest, so a richer or slightly different payload never stops notifications.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    case_id: str
    step: str | None = None


class ApprovalRequested(_Lenient):
    """`approval.requested`: a step waits for `approver`, who decides at `link`."""

    approver: str
    link: str | None = None
    due_at: str | None = None
    case_type: str | None = None
    requested_by: str | None = None


class ApprovalDecided(_Lenient):
    """`approval.decided`: an approver decided a step."""

    approver: str | None = None
    acting_approver: str | None = None
    decision: str | None = None
    comment: str | None = None
    step_outcome: str | None = None


class ApprovalReminder(_Lenient):
    """`approval.reminder`: the step still waits for `approver`."""

    approver: str
    link: str | None = None
    due_at: str | None = None


class ApprovalEscalated(_Lenient):
    """`approval.escalated`: the step was escalated to `escalated_to`."""

    escalated_to: str
    link: str | None = None


APPROVAL_TYPES: dict[str, type[_Lenient]] = {
    "approval.requested": ApprovalRequested,
    "approval.decided": ApprovalDecided,
    "approval.reminder": ApprovalReminder,
    "approval.escalated": ApprovalEscalated,
}
