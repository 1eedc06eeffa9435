"""Outcome events of deliveries (`notification.*`) as outbox entries, dead letter included."""

from __future__ import annotations

from datetime import datetime

from notifier.core.delivery import Delivery
from shared.contract.envelope import CloudEvent, derived_id, new_event
from shared.contract.notification import NotificationFailed, NotificationSent, NotificationSkipped
from shared.runtime.outbox import OutboxEntry
from shared.settings import Topics

SOURCE = "/services/notifier"


def _base(d: Delivery) -> dict:
    return {"delivery_id": d.id, "event_id": d.event_id, "event_type": d.event_type, "case_id": d.case_id,
            "recipient": d.recipient, "role": d.role, "template": d.template, "email": d.mail.to if d.mail else None}


def _entry(topic: str, type_: str, d: Delivery, data: object, cause: CloudEvent | None, at: datetime,
           tag: str) -> OutboxEntry:
    event = new_event(type_, d.case_id, data, source=SOURCE, id_=derived_id(d.id, tag), cause=cause, time=at)  # type: ignore[arg-type]
    return OutboxEntry.of(topic, event)


def skipped_entries(topics: Topics, d: Delivery, cause: CloudEvent, at: datetime) -> list[OutboxEntry]:
    """`notification.skipped` for a delivery nobody can receive."""
    data = NotificationSkipped(**_base(d), reason=d.reason or "", skipped_at=at)
    return [_entry(topics.notification_events, "notification.skipped", d, data, cause, at, "skipped")]


def sent_entries(topics: Topics, d: Delivery, attempts: int, at: datetime) -> list[OutboxEntry]:
    """`notification.sent` once the server accepted the e-mail."""
    assert d.mail
    data = NotificationSent(**_base(d), message_id=d.mail.message_id, attempts=attempts, sent_at=at)
    return [_entry(topics.notification_events, "notification.sent", d, data, None, at, "sent")]


def failed_entries(topics: Topics, d: Delivery, attempts: int, error: str, permanent: bool,
                   at: datetime) -> list[OutboxEntry]:
    """`notification.failed` on the events topic, and the same record in the dead letters."""
    assert d.mail
    data = NotificationFailed(**_base(d), message_id=d.mail.message_id, attempts=attempts, error=error,
                              permanent=permanent, failed_at=at)
    return [_entry(topics.notification_events, "notification.failed", d, data, None, at, "failed"),
            _entry(Topics.dlq(topics.notification_events), "notification.failed", d, data, None, at, "dead-letter")]
