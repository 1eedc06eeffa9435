"""Reading `case.events` from a given position up to a given end, without a consumer group (rebuilds)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.contract.envelope import CloudEvent
from shared.runtime.inbound import Malformed, parse_envelope

Offsets = dict[TopicPartition, int]


class EventLog:
    """One topic read as a log: where it ends now, and its envelopes between two positions."""

    def __init__(self, bootstrap: str, topic: str, security: dict[str, Any] | None = None) -> None:
        # `security`: the client options of portal-sync's principal (shared/runtime/kafka_security.py).
        self._topic, self._bootstrap, self._security = topic, bootstrap, security or {}
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                          auto_offset_reset="earliest", **self._security)
        self.unreadable = 0

    async def __aenter__(self) -> "EventLog":
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id="portal-sync-rebuild", **self._security)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        if described.get("error_code"):
            raise RuntimeError(f"cannot read topic {self._topic} (error {described['error_code']})")
        await self._consumer.start()
        self._parts = sorted(TopicPartition(self._topic, p["partition"]) for p in described["partitions"])
        self._consumer.assign(self._parts)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def end(self) -> Offsets:
        """The offset after the last record of every partition, now."""
        return await self._consumer.end_offsets(self._parts)

    async def count(self, end: Offsets) -> int:
        """How many records lie between the beginning and `end` (a rebuild's total, for its progress)."""
        begin = await self._consumer.beginning_offsets(self._parts)
        return sum(max(end.get(tp, 0) - begin.get(tp, 0), 0) for tp in self._parts)

    async def read(self, start: Offsets | None, end: Offsets) -> AsyncIterator[CloudEvent]:
        """Envelopes from `start` (None = the beginning) up to `end`, each partition in order."""
        begin = start or await self._consumer.beginning_offsets(self._parts)
        todo = {tp for tp in self._parts if begin.get(tp, 0) < end.get(tp, 0)}
        for tp in self._parts:
            self._consumer.seek(tp, begin.get(tp, 0))
        while todo:
            batch = await self._consumer.getmany(*todo, timeout_ms=1000)
            for tp, records in batch.items():
                for rec in records:
                    if rec.offset >= end[tp]:
                        break
                    try:
                        yield parse_envelope(rec.value)
                    except Malformed:  # the live consumer dead-lettered it already
                        self.unreadable += 1
            for tp in list(todo):
                if await self._consumer.position(tp) >= end[tp]:
                    todo.discard(tp)
