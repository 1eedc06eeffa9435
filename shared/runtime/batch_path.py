"""The fast path of a consumer: a whole batch of readable records handed to the service in one call.

Records that are not readable, or are being retried, take the careful path (one record at a time,
failures counted, dead-lettered after MAX_FAILURES) together with every other record of their key,
so a key's records stay in offset order. If the batch call fails for any other reason than an
outage, its records take the careful path too: the service's unit of work is idempotent, so what
the failed call already wrote is found again as applied.
"""

from __future__ import annotations

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


def key_of(rec: Any) -> Key:
    """Records of one key of one partition are handled in offset order."""
    return (rec.topic, rec.partition, rec.key)


class FastPath:
    """Splits a batch into keys for the service's batch call and keys for the careful path."""

    def __init__(self, many: ManyHandler, read: Callable[[Any], CloudEvent | None],
                 principal: Callable[[Any], str | None], pause: Callable[[Any], float],
                 outages: tuple[type[BaseException], ...], metrics: ConsumerMetrics | None = None) -> None:
        self._many, self._read, self._principal, self._pause, self._outages = many, read, principal, pause, outages
        self._metrics = metrics or ConsumerMetrics(())
        self._log = structlog.get_logger().bind(component="consumer")

    async def run(self, records: list[Any]) -> tuple[list[Any], list[Stop]]:
        """Handle what it can; the records left for the careful path, and the stops of an outage."""
        readable: dict[Key, list[tuple[Any, CloudEvent]]] = {}
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
        started = time.perf_counter()
        try:
            outcomes = await self._many([Message(event, self._principal(rec)) for rec, event in batch])
        except self._outages as exc:
            self._log.warning("batch.outage_will_retry", records=len(batch), error=f"{type(exc).__name__}: {exc}")
            firsts: dict[Any, Any] = {}
            for rec, _ in batch:
                firsts.setdefault(partition_of(rec), rec)
            return [r for r in records if key_of(r) in careful], [Stop(r, exc, self._pause(r)) for r in firsts.values()]
        except Exception:
            self._log.exception("batch.failed_one_by_one", records=len(batch))
            return records, []
        self._metrics.fast_path_done(batch, outcomes, time.perf_counter() - started)
        for (rec, event), outcome in zip(batch, outcomes, strict=True):
            message_logger(topic=rec.topic, partition=rec.partition, offset=rec.offset, case_id=event.subject,
                           message_id=event.id, type=event.type,
                           correlation_id=event.correlationid or event.id).info("message.handled", outcome=outcome)
        return [r for r in records if key_of(r) in careful], []
