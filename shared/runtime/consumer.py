"""Subscribing a service to a topic of envelopes: parse, hand over, refuse or dead-letter, never stop.

Records arrive in batches. Records with the same key (one case) are handled one after the other,
in offset order; different cases are handled concurrently. Each record ends handled, refused
(`on_malformed`) or dead-lettered; a record that fails is tried again (up to MAX_FAILURES, an outage
without limit) by rewinding only its own partition, after a pause that grows with each try. The
other partitions of the batch are committed and go on. Handlers dedupe what they see again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import SkipValidation
from pymongo.errors import ConnectionFailure

from shared.contract.envelope import CloudEvent
from shared.logging import message_logger
from shared.runtime.batch_path import FastPath, ManyHandler, key_of
from shared.runtime.inbound import Malformed, dead_letter_headers, dead_letter_value, parse_envelope
from shared.runtime.json_guard import printable
from shared.runtime.metrics_consumer import ConsumerMetrics
from shared.runtime.partitions import Cursor, Stop, partition_of, plan
from shared.runtime.prompt_fetch import prompt
from shared.runtime.unit_of_work import Message
from shared.settings import Limits, Settings, Topics

Handler = Callable[[CloudEvent], Awaitable[str]]
IngressHandler = Callable[[CloudEvent, str], Awaitable[str]]  # also given the principal that wrote the topic
MalformedHandler = Callable[[Malformed], Awaitable[None]]
MAX_FAILURES = 5  # then a record that keeps failing is dead-lettered so the partition moves on
# The store or the broker being unreachable is not the record's fault: such failures pause the
# partition (retried without limit) instead of counting towards the dead letter.
OUTAGES = (ConnectionFailure, KafkaConnectionError, KafkaTimeoutError)
RETRY_PAUSE = 1.0  # first pause of a failing partition; doubles with each try of the same record
MAX_PAUSE = 5.0  # an outage is retried at least this often, so the service resumes soon after it ends
DEAD_LETTER_MAX_PAUSE = 30.0  # a dead-letter topic that refuses writes is an alert, retried more slowly
CONCURRENT_KEYS = 32
Where = tuple[str, int, int]


class DeadLetterFailed(Exception):
    """The dead-letter topic did not take the record; it is tried again after a pause (never dropped)."""


async def _raw(msg: Any) -> Any:
    # We parse envelopes ourselves so that bad input becomes a rejection, never a framework error.
    return msg.body


async def _readable_headers(records: tuple[Any, ...], parse: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decodes every header as UTF-8 before we see the batch; drop the ones that are not (unused)."""

    def readable(rec: Any) -> Any:
        try:
            for _, value in rec.headers:
                (value or b"").decode()
        except (UnicodeDecodeError, AttributeError):
            return dataclasses.replace(rec, headers=tuple(
                (k, v) for k, v in rec.headers if isinstance(v, bytes) and v.isascii()))
        return rec

    return await parse(tuple(readable(rec) for rec in records))


def _where(rec: Any) -> Where:
    return (rec.topic, rec.partition, rec.offset)


class _RecordHandler:
    """Handles one record: parse, refuse or dead-letter bad input, call the handler, count failures."""

    def __init__(self, broker: KafkaBroker, handle: Handler | IngressHandler, on_malformed: MalformedHandler | None, *,
                 limits: Limits | None = None, commands: bool = False, ingress: Mapping[str, str] | None = None,
                 metrics: ConsumerMetrics | None = None) -> None:
        self._broker, self._handle, self._on_malformed = broker, handle, on_malformed
        self.metrics = metrics or ConsumerMetrics(list(ingress or ()))
        self._ingress = ingress  # topic -> the one principal the ACLs let write it
        self._limits, self._commands = limits or Limits(), commands
        self._failures: dict[Where, int] = {}  # failures that count towards the dead letter
        self._tries: dict[Where, int] = {}  # every failed try, outages included: the pause grows with it
        self._doomed: dict[Where, str] = {}  # to be dead-lettered, with the reason (the write may fail)

    def pause(self, rec: Any) -> float:
        """How long the record's partition waits before it is tried again."""
        where = _where(rec)
        cap = DEAD_LETTER_MAX_PAUSE if where in self._doomed else MAX_PAUSE
        return min(cap, RETRY_PAUSE * 2 ** max(self._tries.get(where, 1) - 1, 0))

    async def __call__(self, rec: Any) -> None:
        where = _where(rec)
        log = message_logger(topic=rec.topic, partition=rec.partition, offset=rec.offset,
                             key=rec.key.decode(errors="replace") if rec.key else None)
        if where in self._doomed:
            await self._dead_letter(rec, self._doomed[where], log)
            return
        try:
            event: CloudEvent | Malformed = parse_envelope(rec.value, self._limits, command=self._commands)
        except Malformed as bad:
            event = bad
        else:
            log = log.bind(case_id=event.subject, message_id=event.id, type=event.type,
                           correlation_id=event.correlationid or event.id)
        try:
            outcome = await (self._malformed(rec, event, log) if isinstance(event, Malformed) else self._call(rec, event))
        except DeadLetterFailed:
            raise
        except OUTAGES:
            log.exception("message.outage_will_retry", attempt=self._tried(where))
            raise
        except Exception as exc:
            self._tried(where)
            failures = self._failures[where] = self._failures.get(where, 0) + 1
            if failures < MAX_FAILURES:
                log.exception("message.failed_will_retry", attempt=failures)
                raise
            log.exception("message.failed_for_good", attempts=failures)
            self._doomed[where] = f"{type(exc).__name__}: {exc}"
            await self._dead_letter(rec, self._doomed[where], log)
            return
        self._forget(where)
        if not isinstance(event, Malformed):  # a malformed record logged (and counted) its own outcome
            self.metrics.handled(rec.topic, event.type, outcome)
            log.info("message.handled", outcome=outcome)

    def _call(self, rec: Any, event: CloudEvent) -> Awaitable[str]:
        if self._ingress is None:
            return self._handle(event)  # type: ignore[call-arg]
        return self._handle(event, self._ingress[rec.topic])  # type: ignore[call-arg]

    def principal(self, rec: Any) -> str | None:
        """The principal that alone may write the record's topic (None off ingress topics)."""
        return None if self._ingress is None else self._ingress[rec.topic]

    def readable(self, rec: Any) -> CloudEvent | None:
        """The record's envelope for the fast path; None if it is not readable or is being retried."""
        if _where(rec) in self._tries or _where(rec) in self._doomed:
            return None
        try:
            return parse_envelope(rec.value, self._limits, command=self._commands)
        except Malformed:
            return None

    async def _malformed(self, rec: Any, bad: Malformed, log: Any) -> str:
        if bad.refusable and self._on_malformed is not None:
            await self._on_malformed(bad)
            self.metrics.refused_malformed(rec.topic, bad.type)
            log.warning("message.rejected_malformed", error=bad.error, code=bad.code, command_id=bad.command_id)
            return "refused"
        self._doomed[_where(rec)] = bad.error
        await self._dead_letter(rec, bad.error, log)
        return "dead_lettered"

    async def _dead_letter(self, rec: Any, error: str, log: Any) -> None:
        """Publish the record as received (cut to fit) to `<topic>.dlq`, the error in headers."""
        where = _where(rec)
        value, cut = dead_letter_value(rec.value, self._limits)
        headers = {**dead_letter_headers(error, rec.topic, rec.partition, rec.offset), **cut}
        try:
            await self._broker.publish(value, topic=Topics.dlq(rec.topic), key=rec.key, headers=headers)
        except Exception as exc:
            attempt = self._tried(where)
            log.error("dead_letter.publish_failed", alert=True, attempt=attempt, reason=printable(error, 300),
                      error=f"{type(exc).__name__}: {exc}")
            raise DeadLetterFailed(f"{Topics.dlq(rec.topic)}: {type(exc).__name__}: {exc}") from exc
        self._forget(where)
        self.metrics.dead_lettered(rec.topic, self._type_of(rec))
        log.warning("message.dead_lettered", error=printable(error, 300), truncated=bool(cut))

    def _type_of(self, rec: Any) -> str | None:
        """The record's type as far as it reads (for the dead-letter count: a rare path, so parsed again)."""
        try:
            return parse_envelope(rec.value, self._limits, command=self._commands).type
        except Malformed as bad:
            return bad.type

    def _tried(self, where: Where) -> int:
        self._tries[where] = self._tries.get(where, 0) + 1
        return self._tries[where]

    def _forget(self, where: Where) -> None:
        for counts in (self._failures, self._tries, self._doomed):
            counts.pop(where, None)


class _BatchHandler:
    """Handles a batch key by key, then commits what was handled and rewinds each partition that failed."""

    def __init__(self, handle_record: _RecordHandler, many: ManyHandler | None = None, lanes: int = 1) -> None:
        self._handle_record = handle_record
        self._slots = asyncio.Semaphore(CONCURRENT_KEYS)
        self._metrics = handle_record.metrics
        self._fast = None if many is None else FastPath(
            many, handle_record.readable, handle_record.principal, handle_record.pause, OUTAGES, self._metrics, lanes)

    async def _key(self, records: list[Any]) -> Stop | None:
        async with self._slots:
            for rec in records:
                started = time.perf_counter()
                try:
                    await self._handle_record(rec)
                except Exception as exc:  # noqa: BLE001  # logged by the record handler
                    return Stop(rec, exc, self._handle_record.pause(rec))
                finally:
                    self._metrics.record_took(rec.topic, time.perf_counter() - started)
        return None

    async def handle(self, records: list[Any]) -> list[Stop]:
        """Handle every key of the batch; the stops of the keys that failed."""
        stops: list[Stop] = []
        if self._fast is not None:
            records, stops = await self._fast.run(records)
        by_key: dict[tuple[str, int, bytes | None], list[Any]] = {}
        for rec in records:
            by_key.setdefault(key_of(rec), []).append(rec)
        return stops + [s for s in await asyncio.gather(*(self._key(rs) for rs in by_key.values())) if s is not None]

    async def __call__(self, records: list[Any], cursor: Cursor) -> None:
        started = time.perf_counter()
        try:
            await self._settle(records, cursor)
        finally:
            self._metrics.batch_took(time.perf_counter() - started)

    async def _settle(self, records: list[Any], cursor: Cursor) -> None:
        stops = await self.handle(records)
        if not cursor.redelivers:
            return await self._redeliver_here(records, stops)
        commits, rewinds = plan(records, stops)
        await cursor.commit(commits)
        for tp, rewind in rewinds.items():
            cursor.rewind(tp, rewind.offset, rewind.pause)

    async def _redeliver_here(self, records: list[Any], stops: list[Stop]) -> None:
        # FastStream's in-memory test broker never redelivers: deliver the rest again at once, with a bound.
        for _ in range(MAX_FAILURES + 2):
            if not stops:
                return
            _, rewinds = plan(records, stops)
            records = [r for r in records
                       if partition_of(r) in rewinds and r.offset >= rewinds[partition_of(r)].offset]
            stops = await self.handle(records)
        if stops:
            raise stops[0].error


FETCH_MAX_BYTES = 50 * 1024 * 1024  # aiokafka's default for a whole fetch; raised only if one record needs more


def fetch_sizes(limits: Limits) -> dict[str, int]:
    """Consumer fetch sizes (`broker.subscriber(**fetch_sizes(limits))`) that hold one record of the largest size."""
    return {"max_partition_fetch_bytes": max(limits.broker_bytes, 1024 * 1024),
            "fetch_max_bytes": max(limits.broker_bytes, FETCH_MAX_BYTES)}


def one_by_one(many: ManyHandler) -> IngressHandler:
    """The careful path's handler over a batch handler: a batch of one message."""

    async def handle(event: CloudEvent, principal: str | None = None) -> str:
        return (await many([Message(event, principal)]))[0]

    return handle


def subscribe(broker: KafkaBroker, topic: str | Mapping[str, str], group_id: str,
              handle: Handler | IngressHandler | None = None, on_malformed: MalformedHandler | None = None, *,
              many: ManyHandler | None = None, limits: Limits | None = None,
              commands: bool | None = None, schema: Any = bytes, description: str | None = None) -> None:
    """Consume `topic` at least once within `limits`; `schema` (the accepted envelopes) only documents it in AsyncAPI.

    `many`: the service's batch handler (a unit of work), given every readable record of a batch in one
    call; `handle` (by default `many` with one message) takes the rest one by one (see batch_path.py).
    `commands`: a command topic, where `command_bytes` and the case-id rules apply too (by default, a topic
    whose bad records are refused through `on_malformed`). `topic` may be ingress topics (`Topics.ingress`:
    topic -> the principal that alone may write it); then `handle(event, principal)` is told the sender.
    """
    is_commands = on_malformed is not None if commands is None else commands
    ingress = dict(topic) if isinstance(topic, Mapping) else None
    names = list(ingress) if ingress is not None else [topic]
    if handle is None:
        assert many is not None, "subscribe needs `handle` or `many`"
        handle = one_by_one(many)
    client = Settings().kafka_client
    handle_batch = _BatchHandler(_RecordHandler(broker, handle, on_malformed, limits=limits, commands=is_commands,
                                                ingress=ingress, metrics=ConsumerMetrics(names)), many, client.lanes)

    async def consume(body: Any, msg: KafkaMessage) -> None:  # noqa: ARG001 (body is documentation)
        await handle_batch(list(msg.raw_message), Cursor(msg.consumer))

    consume.__annotations__ = {"body": SkipValidation[list[schema]], "msg": KafkaMessage, "return": None}
    # MANUAL: we commit per partition ourselves (FastStream's NACK would rewind every partition of the batch).
    # Fetch wait, batch timeout and max records from KAFKA_CLIENT__* (the same environment create_broker reads).
    # prompt: each batch also takes what waited on the broker behind it (prompt_fetch.py).
    subscriber = broker.subscriber(*names, group_id=group_id, auto_offset_reset="earliest",
                                   ack_policy=AckPolicy.MANUAL, batch=True, parser=_readable_headers, decoder=_raw,
                                   title=",".join(names), description=description, **fetch_sizes(limits or Limits()),
                                   **client.consumer_options())
    prompt(subscriber)(consume)
