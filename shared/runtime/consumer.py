"""Subscribing a service to a topic of envelopes: parse, hand over, dead-letter, never stop.

Records arrive in batches. Records with the same key (one case) are handled one after the other,
in offset order; different cases are handled concurrently; offsets are committed once the whole
batch is handled. A failure rewinds the batch (NACK), and handlers dedupe what they see again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import SkipValidation
from pymongo.errors import ConnectionFailure

from shared.contract.envelope import CloudEvent
from shared.logging import message_logger
from shared.runtime.inbound import Malformed, dead_letter_headers, parse_envelope
from shared.settings import Topics

Handler = Callable[[CloudEvent], Awaitable[str]]
MalformedHandler = Callable[[Malformed], Awaitable[None]]
MAX_FAILURES = 5  # then a record that keeps failing is dead-lettered so the partition moves on
# The store or the broker being unreachable is not the record's fault: such failures pause the
# partition (retried without limit) instead of counting towards the dead letter.
OUTAGES = (ConnectionFailure, KafkaConnectionError, KafkaTimeoutError)
RETRY_PAUSE = 1.0
MAX_RECORDS = 200
CONCURRENT_KEYS = 32


async def _raw(msg: Any) -> Any:
    # We parse envelopes ourselves so that bad input becomes a rejection, never a framework error.
    return msg.body


class _RecordHandler:
    """Handles one record: parse, refuse or dead-letter bad input, call the handler, count failures."""

    def __init__(self, broker: KafkaBroker, handle: Handler, on_malformed: MalformedHandler | None) -> None:
        self._broker, self._handle, self._on_malformed = broker, handle, on_malformed
        self._failures: dict[tuple[str, int, int], int] = {}

    async def dead_letter(self, rec: Any, error: str) -> None:
        """Publish the record as received to `<topic>.dlq`, the error in headers."""
        await self._broker.publish(rec.value or b"", topic=Topics.dlq(rec.topic), key=rec.key,
                                   headers=dead_letter_headers(error, rec.topic, rec.partition, rec.offset))

    async def __call__(self, rec: Any) -> None:
        log = message_logger(topic=rec.topic, partition=rec.partition, offset=rec.offset,
                             key=rec.key.decode(errors="replace") if rec.key else None)
        try:
            event = parse_envelope(rec.value)
        except Malformed as bad:
            if bad.rejectable and self._on_malformed is not None:
                await self._on_malformed(bad)
                log.warning("message.rejected_malformed", error=bad.error, command_id=bad.command_id)
            else:
                await self.dead_letter(rec, bad.error)
                log.warning("message.dead_lettered", error=bad.error)
            return
        log = log.bind(case_id=event.subject, message_id=event.id, type=event.type,
                       correlation_id=event.correlationid or event.id)
        where = (rec.topic, rec.partition, rec.offset)
        try:
            outcome = await self._handle(event)
        except OUTAGES:
            log.exception("message.outage_will_retry")
            raise
        except Exception as exc:
            self._failures[where] = self._failures.get(where, 0) + 1
            if self._failures[where] < MAX_FAILURES:
                log.exception("message.failed_will_retry", attempt=self._failures[where])
                raise
            self._failures.pop(where)
            await self.dead_letter(rec, f"{type(exc).__name__}: {exc}")
            log.exception("message.dead_lettered_after_retries", attempts=MAX_FAILURES)
            return
        self._failures.pop(where, None)
        log.info("message.handled", outcome=outcome)


def subscribe(broker: KafkaBroker, topic: str, group_id: str, handle: Handler,
              on_malformed: MalformedHandler | None = None, *, schema: Any = bytes,
              description: str | None = None) -> None:
    """Consume `topic` at least once; `schema` (the accepted envelopes) only documents it in AsyncAPI."""
    handle_record = _RecordHandler(broker, handle, on_malformed)
    slots = asyncio.Semaphore(CONCURRENT_KEYS)

    async def handle_key(records: list[Any]) -> None:
        async with slots:
            for rec in records:
                await handle_record(rec)

    async def consume(body: Any, msg: KafkaMessage) -> None:  # noqa: ARG001 (body is documentation)
        by_key: dict[tuple[int, bytes | None], list[Any]] = {}
        for rec in msg.raw_message:
            by_key.setdefault((rec.partition, rec.key), []).append(rec)
        results = await asyncio.gather(*(handle_key(rs) for rs in by_key.values()), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            await asyncio.sleep(RETRY_PAUSE)
            raise failed[0]  # NACK: the batch is delivered again; what was applied is deduped

    consume.__annotations__ = {"body": SkipValidation[list[schema]], "msg": KafkaMessage, "return": None}
    broker.subscriber(topic, group_id=group_id, auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR,
                      batch=True, max_records=MAX_RECORDS, decoder=_raw, title=topic,
                      description=description)(consume)
