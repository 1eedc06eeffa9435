"""The fast path of a consumer: a whole batch of readable records handed to the service in one call.

Records that are not readable, or are being retried, take the careful path (one record at a time,
failures counted, dead-lettered after MAX_FAILURES) together with every other record of their key,
so a key's records stay in offset order. If the batch call fails for any other reason than an
outage, its records take the careful path too: the service's unit of work is idempotent, so what
the failed call already wrote is found again as applied.

With lanes (settings `KAFKA_CLIENT__LANES` > 1), a large batch (a backlog) is split by partition into
that many calls run side by side: while one waits on the store, the other decides, so the service's CPU
and the store's overlap. A key lives in one partition, so no key spans two lanes (the careful path already
runs keys side by side). Small batches, the usual case below saturation, stay whole: each lane costs its
own round trips.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from shared.contract.envelope import CloudEvent
from shared.logging import message_logger
from shared.runtime.metrics_consumer import ConsumerMetrics
from shared.runtime.partitions import Stop, partition_of
from shared.runtime.unit_of_work import Message

ManyHandler = Callable[[list[Message]], Awaitable[list[str]]]
Key = tuple[str, int, bytes | None]
Pair = tuple[Any, CloudEvent]
LANES = 1  # the default: side by side only where the store has cores of its own (docs/design.md, "Lanes")
LANE_MIN = 32  # records a lane gets at least; below that the round trips saved outweigh the overlap


def key_of(rec: Any) -> Key:
    """Records of one key of one partition are handled in offset order."""
    return (rec.topic, rec.partition, rec.key)


def lanes_of(batch: list[Pair], lanes: int = LANES, least: int = LANE_MIN) -> list[list[Pair]]:
    """The batch split by partition into at most `lanes` parts of about equal size, each of `least` records or more
    (fewer parts when the batch is small); a partition's records stay together and in order."""
    count = max(1, min(lanes, len(batch) // least))
    if count == 1:
        return [batch]
    by_partition: dict[Any, list[Pair]] = {}
    for pair in batch:
        by_partition.setdefault(partition_of(pair[0]), []).append(pair)
    parts: list[list[Pair]] = [[] for _ in range(count)]
    for group in sorted(by_partition.values(), key=len, reverse=True):  # largest first into the smallest part
        min(parts, key=len).extend(group)
    return [part for part in parts if part]


class FastPath:
    """Splits a batch into keys for the service's batch call and keys for the careful path."""

    def __init__(self, many: ManyHandler, read: Callable[[Any], CloudEvent | None],
                 principal: Callable[[Any], str | None], pause: Callable[[Any], float],
                 outages: tuple[type[BaseException], ...], metrics: ConsumerMetrics | None = None,
                 lanes: int = LANES) -> None:
        self._many, self._read, self._principal, self._pause, self._outages = many, read, principal, pause, outages
        self._lanes = lanes
        self._metrics = metrics or ConsumerMetrics(())
        self._log = structlog.get_logger().bind(component="consumer")

    async def run(self, records: list[Any]) -> tuple[list[Any], list[Stop]]:
        """Handle what it can; the records left for the careful path, and the stops of an outage."""
        readable: dict[Key, list[Pair]] = {}
        careful: set[Key] = set()
        for rec in records:
            key = key_of(rec)
            if key in careful:
                continue
            event = self._read(rec)
            if event is None:
                careful.add(key)
                readable.pop(key, None)
            else:
                readable.setdefault(key, []).append((rec, event))
        batch = [pair for pairs in readable.values() for pair in pairs]
        if not batch:
            return records, []
        done = await asyncio.gather(*(self._lane(part) for part in lanes_of(batch, self._lanes)))
        careful.update(*(failed for failed, _ in done))
        return [r for r in records if key_of(r) in careful], [stop for _, stops in done for stop in stops]

    async def _lane(self, batch: list[Pair]) -> tuple[set[Key], list[Stop]]:
        """One batch call; the keys to take the careful path (all of them if it failed), and an outage's stops."""
        started = time.perf_counter()
        try:
            outcomes = await self._many([Message(event, self._principal(rec)) for rec, event in batch])
        except self._outages as exc:
            self._log.warning("batch.outage_will_retry", records=len(batch), error=f"{type(exc).__name__}: {exc}")
            firsts: dict[Any, Any] = {}
            for rec, _ in batch:
                firsts.setdefault(partition_of(rec), rec)
            return set(), [Stop(r, exc, self._pause(r)) for r in firsts.values()]
        except Exception:
            self._log.exception("batch.failed_one_by_one", records=len(batch))
            return {key_of(rec) for rec, _ in batch}, []
        self._metrics.fast_path_done(batch, outcomes, time.perf_counter() - started)
        for (rec, event), outcome in zip(batch, outcomes, strict=True):
            message_logger(topic=rec.topic, partition=rec.partition, offset=rec.offset, case_id=event.subject,
                           message_id=event.id, type=event.type,
                           correlation_id=event.correlationid or event.id).info("message.handled", outcome=outcome)
        return set(), []
