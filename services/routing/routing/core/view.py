"""Routing's copy of a case (a read model fed by case.events) and how each event changes it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_serializer

from shared.contract.events import (
    EVENT_TYPES,
    CaseAssigned,
    CaseEvent,
    CaseOpened,
    CaseStatusChanged,
    CaseUpdated,
    TeamMemberAdded,
)
from routing.core.timeframes import Timer
from shared.lifecycles import Lifecycle

OPENED = "opened"
CAUSE_SET = "cause_set"  # a cause given after opening: a triaged case may now be routed
DUE_DATE_FIELDS = ("due_date", "fields.due_date")  # where a case keeps its own due date


class CaseView(BaseModel):
    """What routing knows of one case: enough to route it and to list it."""

    case_id: str
    case_type: str
    gbu: str
    account_id: str
    subject: str | None = None
    country: str | None = None
    account_owner: str | None = None
    cause: str | None = None
    product_line: str | None = None
    status: str
    is_open: bool = True
    assignee: str | None = None
    queue: str | None = None
    team: list[tuple[str, str]] = Field(default_factory=list, description="(person, role) pairs on the case team.")
    version: int = 0
    seen: list[str] = Field(default_factory=list, description="Ids of the events applied at `version`.")
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    due_date: date | None = Field(None, description="The case's own due date (`fields.due_date`), if any.")
    timer: Timer | None = Field(None, description="The time-frame timer of an open case (routing/core/timeframes.py).")
    next_due: datetime | None = Field(None, description="When the timer fires next (indexed; None: nothing to fire).")

    @field_serializer("due_date")
    def _iso_date(self, value: date | None) -> str | None:
        return value.isoformat() if value else None  # BSON has no date-only type: stored as YYYY-MM-DD

    def summary(self) -> dict[str, Any]:
        """The JSON the read-model endpoints return for the case."""
        return self.model_dump(mode="json", include={
            "case_id", "case_type", "gbu", "account_id", "subject", "status", "assignee", "queue", "cause",
            "opened_at", "updated_at"})


def as_date(value: Any) -> date | None:
    """A due date as intake keeps it (ISO date, or the date part of a timestamp); anything else counts as none."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None  # not a date routing can time: the case keeps its time-frame rather than stop the consumer


def already_applied(view: CaseView | None, event_id: str, version: int) -> bool:
    """True for an event routing has applied before (events of a case arrive in version order)."""
    if view is None:
        return False
    return version < view.version or (version == view.version and event_id in view.seen)


def _is_open(lcs: dict[str, Lifecycle], case_type: str, status: str) -> bool:
    lc = lcs.get(case_type)
    found = lc.status(status) if lc else None
    return not (found and found.is_closed)


def from_snapshot(case: dict[str, Any], lcs: dict[str, Lifecycle]) -> CaseView:
    """The view of a case from the `case.opened` snapshot."""
    account = case.get("account") or {}
    fields = case.get("fields") or {}
    return CaseView(
        case_id=case["id"], case_type=case["case_type"], gbu=case["gbu"], account_id=case["account_id"],
        subject=case.get("subject"), country=account.get("country"), account_owner=account.get("owner"),
        cause=case.get("cause"), product_line=fields.get("product_line"), status=case["status"],
        is_open=_is_open(lcs, case["case_type"], case["status"]), assignee=case.get("assignee"), queue=case.get("queue"),
        team=[(m["person_id"], m["role"]) for m in case.get("team") or []], opened_at=case.get("created_at"),
        due_date=as_date(case.get("due_date") or fields.get("due_date")),
    )


def parse_case_event(type_: str, data: Any) -> CaseEvent:
    """The event's data as its contract model (a type routing does not know: the fields every case event has)."""
    return EVENT_TYPES.get(type_, CaseEvent).model_validate(data)  # type: ignore[return-value]


def apply_event(view: CaseView | None, data: CaseEvent, event_id: str, at: datetime,
                lcs: dict[str, Lifecycle]) -> tuple[CaseView, str | None]:
    """The view after the event, and the routing trigger it fires (`opened`, a status entered, or None)."""
    trigger: str | None = None
    if isinstance(data, CaseOpened):
        view = from_snapshot(data.case, lcs)
        untouched = view.assignee is None and view.queue is None  # routed at open only if nobody took it yet
        trigger = OPENED if untouched else None
    elif view is None:  # an event of a case opened before routing's history starts: keep what it says
        view = CaseView(case_id=data.case_id, case_type=data.case_type, gbu=data.gbu,
                        account_id=data.account_id, status=data.status)
    view = view.model_copy(deep=True)
    if isinstance(data, CaseAssigned):
        view.assignee, view.queue = data.assignee, data.queue
    elif isinstance(data, CaseStatusChanged):
        trigger = data.to
    elif isinstance(data, CaseUpdated):
        for change in data.changes:
            if change.field == "cause":
                view.cause = change.after
                trigger = CAUSE_SET if view.cause else None
            elif change.field == "fields.product_line":
                view.product_line = change.after
            elif change.field in DUE_DATE_FIELDS:
                view.due_date = as_date(change.after)
    elif isinstance(data, TeamMemberAdded):
        view.team.append((data.person_id, data.role))
    view.status = data.status
    view.is_open = _is_open(lcs, view.case_type, view.status)
    version = data.version
    view.seen = [*view.seen, event_id] if version == view.version else [event_id]
    view.version, view.updated_at = version, at
    return view, trigger
