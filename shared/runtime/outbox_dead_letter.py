"""Outbox entries the broker refuses for their content go to `<topic>.dlq`, so they never block the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)

from shared.settings import Topics

if TYPE_CHECKING:
    from shared.runtime.outbox_entry import OutboxEntry

# The record itself is refused (by the producer before sending, or by the broker): sending it again
# would fail the same way for ever. Everything else (connection, timeout, not enough replicas, a
# producer being stopped, an unknown server error) is treated as an outage and retried, because
# moving a good event to the dead letter during an outage would take it out of its topic for good.
REFUSED = (
    MessageSizeTooLargeError,  # over the producer's max.request.size or the topic's max.message.bytes
    RecordListTooLargeError,
    RecordTooLargeError,
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    UnsupportedForMessageFormatError,
    InvalidTopicError,
    UnicodeError,  # key or payload holding text that cannot be encoded (a lone surrogate)
)
ERROR_CHARS = 1_000  # keeps the headers well inside the room `Limits.broker_bytes` leaves beside the value


def _text(value: str, limit: int | None = None) -> str:
    """`value` safe to encode as UTF-8 (lone surrogates escaped), cut to `limit` characters."""
    safe = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if limit is None else safe[:limit]


def dead_letter_headers(entry: "OutboxEntry", error: BaseException, size: int, truncated: bool) -> dict[str, str]:
    """Why and from where: the error, the original topic, the entry (event) id, its size, whether cut."""
    return {
        "dlq-error": _text(f"{type(error).__name__}: {error}", ERROR_CHARS),
        "dlq-original-topic": _text(entry.topic),
        "dlq-entry-id": _text(entry.id, ERROR_CHARS),
        "dlq-size": str(size),
        "dlq-truncated": "true" if truncated else "false",
    }


async def dead_letter(broker: Any, entry: "OutboxEntry", error: BaseException, record_bytes: int) -> bool:
    """Publish `entry` to `<topic>.dlq`, its value cut to `record_bytes`; False if even that was refused.

    If the cut value is refused too (a dead-letter topic with a smaller limit, say), the headers alone
    are sent: they name the entry, and the full event is in the log line of the alert.
    """
    value = entry.payload.encode("utf-8", "backslashreplace")
    key = entry.key.encode("utf-8", "backslashreplace")
    for body in (value[:record_bytes], b""):
        headers = dead_letter_headers(entry, error, len(value), truncated=len(body) < len(value))
        try:
            await broker.publish(body, topic=Topics.dlq(entry.topic), key=key, headers=headers,
                                 correlation_id=_text(entry.id, ERROR_CHARS))
        except REFUSED:
            continue
        return True
    return False


def too_large(entry: "OutboxEntry", record_bytes: int) -> MessageSizeTooLargeError | None:
    """The refusal of an entry over `record_bytes`, found before Kafka sees it; None if it fits."""
    size = len(entry.payload.encode("utf-8", "surrogatepass"))
    if size <= record_bytes:
        return None
    return MessageSizeTooLargeError(
        f"the event is {size} bytes, over the limit of {record_bytes} (LIMITS__RECORD_BYTES)")


async def publish_or_dead_letter(broker: Any, entry: "OutboxEntry", send: Any, record_bytes: int) -> None:
    """`send(entry)`; if the record is refused, dead-letter it and log the alert instead of raising.

    Size is checked here first, against the limit every topic is created with: a record the *broker*
    refuses leaves aiokafka's idempotent producer with a sequence number the broker never saw, so every
    later send to that partition fails with OutOfOrderSequenceNumber until the producer restarts
    (aio-libs/aiokafka#1017). Refused before sending, it never gets a sequence number.
    """
    error: BaseException | None = too_large(entry, record_bytes)
    if error is None:
        try:
            await send(entry)
            return
        except REFUSED as exc:
            error = exc
    log = structlog.get_logger().bind(component="outbox", topic=entry.topic, key=_text(entry.key, 200),
                                      entry_id=_text(entry.id, 200), size=len(entry.payload))
    if await dead_letter(broker, entry, error, record_bytes):
        log.error("outbox.entry_dead_lettered", error=f"{type(error).__name__}: {error}",
                  dead_letter_topic=Topics.dlq(entry.topic))
    else:  # not even the headers fit: the log line is all that is left of it, so it carries the event
        log.critical("outbox.entry_dropped", error=f"{type(error).__name__}: {error}",
                     payload=_text(entry.payload, 100_000))
