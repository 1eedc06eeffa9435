"""Lenient models of routing's time-frame events (`routing.events`): only the fields the notifier needs.

Routing owns the contract (shared/contract/timeframes.py); these read just what we use and ignore the
rest, as for approval events, so a richer payload never stops notifications.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    case_id: str
    case_type: str | None = None
    status: str | None = None
    due_at: str | None = None


class CaseOverdueReminded(_Lenient):
    """`timeframe.reminded`: the case is past its due time; `assignee` (if any) is reminded."""

    assignee: str | None = None
    escalate_at: str | None = None


class CaseOverdueEscalated(_Lenient):
    """`timeframe.escalated`: the case is still open past its escalation time; `escalated_to` is told."""

    escalated_to: str
    assignee: str | None = None
    reason: str | None = None


TIMEFRAME_TYPES: dict[str, type[_Lenient]] = {
    "timeframe.reminded": CaseOverdueReminded,
    "timeframe.escalated": CaseOverdueEscalated,
}
ASSIGNEE_NAMED = {"case.assigned", "timeframe.reminded"}
"""Events whose own `assignee` is the one to tell (for the others: the case file's current assignee)."""
