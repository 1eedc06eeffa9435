"""Subscribing a service to a topic of envelopes: parse, hand over, dead-letter, never stop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import SkipValidation

from shared.contract.envelope import CloudEvent
from shared.logging import message_logger
from shared.runtime.inbound import Malformed, dead_letter_headers, parse_envelope
from shared.settings import Topics

Handler = Callable[[CloudEvent], Awaitable[str]]
MalformedHandler = Callable[[Malformed], Awaitable[None]]
MAX_FAILURES = 5  # then a record that keeps failing is dead-lettered so the partition moves on
RETRY_PAUSE = 1.0


async def _raw(msg: Any) -> bytes:
    # We parse envelopes ourselves so that bad input becomes a rejection, never a framework error.
    return msg.body


def subscribe(broker: KafkaBroker, topic: str, group_id: str, handle: Handler,
              on_malformed: MalformedHandler | None = None, *, schema: Any = bytes,
              description: str | None = None) -> None:
    """Consume `topic` at least once (commit after handling); redelivered records are the handler's to dedupe.

    `schema` is the type of the accepted envelopes; it only documents the channel in AsyncAPI.
    """
    failures: dict[tuple[int, int], int] = {}

    async def dead_letter(msg: KafkaMessage, error: str) -> None:
        rec = msg.raw_message
        await broker.publish(rec.value or b"", topic=Topics.dlq(rec.topic), key=rec.key,
                             headers=dead_letter_headers(error, rec.topic, rec.partition, rec.offset))

    async def consume(body: Any, msg: KafkaMessage) -> None:  # noqa: ARG001 (body is documentation)
        rec = msg.raw_message
        log = message_logger(topic=rec.topic, partition=rec.partition, offset=rec.offset,
                             key=rec.key.decode(errors="replace") if rec.key else None)
        try:
            event = parse_envelope(rec.value)
        except Malformed as bad:
            if bad.rejectable and on_malformed is not None:
                await on_malformed(bad)
                log.warning("message.rejected_malformed", error=bad.error, command_id=bad.command_id)
            else:
                await dead_letter(msg, bad.error)
                log.warning("message.dead_lettered", error=bad.error)
            return
        log = log.bind(case_id=event.subject, message_id=event.id, type=event.type,
                       correlation_id=event.correlationid or event.id)
        try:
            outcome = await handle(event)
        except Exception as exc:
            where = (rec.partition, rec.offset)
            failures[where] = failures.get(where, 0) + 1
            if failures[where] < MAX_FAILURES:
                log.exception("message.failed_will_retry", attempt=failures[where])
                await asyncio.sleep(RETRY_PAUSE)
                raise  # NACK: the consumer seeks back and the record is delivered again
            failures.pop(where)
            await dead_letter(msg, f"{type(exc).__name__}: {exc}")
            log.exception("message.dead_lettered_after_retries", attempts=MAX_FAILURES)
            return
        failures.pop((rec.partition, rec.offset), None)
        log.info("message.handled", outcome=outcome)

    # The body is typed for the AsyncAPI document only: SkipValidation keeps bad input ours to refuse.
    consume.__annotations__ = {"body": SkipValidation[schema], "msg": KafkaMessage, "return": None}
    broker.subscriber(topic, group_id=group_id, auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR,
                      decoder=_raw, title=topic, description=description)(consume)
