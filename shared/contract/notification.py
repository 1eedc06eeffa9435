"""Data models of the events the notifier publishes on `notification.events` (CloudEvent `data` per `type`).

One event per delivery outcome. A delivery is one e-mail for one (event, recipient) pair; its id is
derived from both, so a redelivered event can never yield a second delivery or a second outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

from pydantic import BaseModel, Field

from shared.contract.catalog import envelope_model


class NotificationOutcome(BaseModel):
    """Fields common to every delivery outcome."""

    delivery_id: str = Field(description="Id of the delivery, derived from (event id, recipient).")
    event_id: str = Field(description="Id of the case or approval event that caused the notification.")
    event_type: str = Field(description="Type of that event, e.g. `approval.requested`.")
    case_id: str = Field(description="Case the notification is about (also subject and Kafka key).")
    recipient: str = Field(description="Person id of the recipient.")
    role: str = Field(description="Why they are told: the subscription role, e.g. `approver`, `requester`.")
    template: str = Field(description="Template the e-mail is rendered from.")
    email: str | None = Field(None, description="Address written to (null when the person has none).")


class NotificationSent(NotificationOutcome):
    """`notification.sent`: the SMTP server accepted the e-mail."""

    message_id: str = Field(description="Message-ID header, derived from the delivery id.")
    attempts: int = Field(ge=1, description="Attempts it took.")
    sent_at: datetime = Field(description="When the server accepted it.")


class NotificationFailed(NotificationOutcome):
    """`notification.failed`: given up (permanent refusal or retry limit reached); also dead-lettered."""

    message_id: str = Field(description="Message-ID header the e-mail carried.")
    attempts: int = Field(ge=1, description="Attempts made.")
    error: str = Field(description="Last error, e.g. the SMTP reply.")
    permanent: bool = Field(description="True when the server refused it for good (5xx), false when retries ran out.")
    failed_at: datetime = Field(description="When it was given up.")


class NotificationSkipped(NotificationOutcome):
    """`notification.skipped`: nobody to write to (e.g. the person has no directory entry)."""

    reason: str = Field(description="Why it was not sent.")
    skipped_at: datetime = Field(description="When it was decided.")


NOTIFICATION_TYPES: dict[str, type[BaseModel]] = {
    "notification.sent": NotificationSent,
    "notification.failed": NotificationFailed,
    "notification.skipped": NotificationSkipped,
}
"""Event type -> model of its `data`."""

NotificationEnvelope = Annotated[Union[tuple(envelope_model(t, m, "Event") for t, m in NOTIFICATION_TYPES.items())],  # noqa: UP007
                                 Field(discriminator="type")]
"""Any record on `notification.events` (and its dead letters), discriminated by `type`."""
