"""Data models of the events routing publishes on `routing.events` about case time-frames (CloudEvent `data` per `type`).

A case is a task with a time-frame (seed 004). Routing keeps one timer per open case; when the case is
overdue it reminds the assignee, and later escalates to the person the time-frame data names. Each
event fires once per due time (a moved due date starts a new timer). Key and subject: the case id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

from pydantic import BaseModel, Field

from shared.contract.catalog import envelope_model


class _TimeframeEvent(BaseModel):
    """Fields common to every time-frame event."""

    case_id: str = Field(description="The case (also the envelope subject and Kafka key).")
    case_type: str = Field(description="Case type.")
    gbu: str = Field(description="Global business unit of the case.")
    status: str = Field(description="Case status when the timer fired.")
    subject: str | None = Field(None, description="Case subject, for the e-mail.")
    assignee: str | None = Field(None, description="Responsible person (none: the case waits in `queue`).")
    queue: str | None = Field(None, description="Queue holding the case.")
    due_at: datetime = Field(description="When the case was due: its due date, else opened + the time-frame "
                                         "in business hours of the GBU's calendar.")
    time_frame: str = Field(description="Id of the time-frame rule that set the due time (`due_date`: the case's own).")
    calendar: str = Field(description="Business calendar the hours were counted in.")


class CaseOverdueReminded(_TimeframeEvent):
    """`timeframe.reminded`: the case passed its due time; its assignee is reminded."""

    escalate_at: datetime | None = Field(None, description="When it escalates if still open.")


class CaseOverdueEscalated(_TimeframeEvent):
    """`timeframe.escalated`: the case is still open past its escalation time; `escalated_to` is told."""

    escalate_at: datetime = Field(description="The escalation time that passed.")
    escalated_to: str = Field(description="Person told: the assignee's manager, else the queue's owner (per the data).")
    reason: str = Field(description="Why this person: e.g. `manager of hank`, `owner of queue helpdesk`.")


TIMEFRAME_EVENT_TYPES: dict[str, type[BaseModel]] = {
    "timeframe.reminded": CaseOverdueReminded,
    "timeframe.escalated": CaseOverdueEscalated,
}
"""Event type -> model of its `data`."""

TimeframeEnvelope = Annotated[Union[tuple(envelope_model(t, m, "Event") for t, m in TIMEFRAME_EVENT_TYPES.items())],  # noqa: UP007
                              Field(discriminator="type")]
"""Any record on `routing.events`, discriminated by `type`."""
