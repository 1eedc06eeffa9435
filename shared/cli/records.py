"""Reading topics as a log (no consumer group) and writing single records, for the CLI's commands."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.cli.env import Env


@dataclass(frozen=True)
class Record:
    """One record read: where it is, its key, value and headers."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: str | None
    value: bytes
    headers: dict[str, str]

    @property
    def where(self) -> str:
        """`partition:offset`, how the CLI names a record of a topic."""
        return f"{self.partition}:{self.offset}"

    def json(self) -> dict | None:
        """The value as a JSON object, or None when it is not one."""
        try:
            doc = json.loads(self.value)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None


def to_record(rec: Any) -> Record:
    """An aiokafka ConsumerRecord as a Record (key and headers decoded leniently)."""
    key = rec.key.decode("utf-8", "replace") if rec.key is not None else None
    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in (rec.headers or ())}
    return Record(rec.topic, rec.partition, rec.offset, rec.timestamp, key, rec.value or b"", headers)


async def list_topics(env: Env) -> list[str]:
    """Every topic name the broker shows this client."""
    admin = AIOKafkaAdminClient(bootstrap_servers=env.bootstrap, client_id="backbone-cli", **env.kafka())
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


class Log:
    """Topics read from chosen positions, partition by partition, without committing anything."""

    def __init__(self, env: Env, *topics: str) -> None:
        self.env, self.topics = env, topics
        self.consumer = AIOKafkaConsumer(bootstrap_servers=env.bootstrap, group_id=None, enable_auto_commit=False,
                                         client_id="backbone-cli", **env.kafka())
        self.parts: list[TopicPartition] = []

    async def __aenter__(self) -> "Log":
        admin = AIOKafkaAdminClient(bootstrap_servers=self.env.bootstrap, client_id="backbone-cli", **self.env.kafka())
        await admin.start()
        try:
            described = await admin.describe_topics(list(self.topics))
        finally:
            await admin.close()
        for topic in described:
            if topic.get("error_code") or not topic["partitions"]:
                raise LookupError(f"topic {topic['topic']!r} does not exist (or this principal may not describe it)")
            self.parts += sorted(TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"])
        await self.consumer.start()
        self.consumer.assign(self.parts)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def bounds(self) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """(first offset, offset after the last) of every partition."""
        return await self.consumer.beginning_offsets(self.parts), await self.consumer.end_offsets(self.parts)

    async def count(self) -> int:
        """Records retained now, over every partition."""
        first, end = await self.bounds()
        return sum(end[tp] - first[tp] for tp in self.parts)

    async def seek(self, start: dict[TopicPartition, int]) -> None:
        """Read next from `start` (per partition)."""
        for tp in self.parts:
            self.consumer.seek(tp, start[tp])

    async def from_time(self, ms: int) -> dict[TopicPartition, int]:
        """The first offset at or after `ms` of each partition (its end when none)."""
        found = await self.consumer.offsets_for_times({tp: ms for tp in self.parts})
        end = await self.consumer.end_offsets(self.parts)
        return {tp: found[tp].offset if found.get(tp) else end[tp] for tp in self.parts}

    async def until(self, end: dict[TopicPartition, int]) -> AsyncIterator[Record]:
        """Records from the current positions up to `end` (exclusive), then stop."""
        todo = {tp for tp in self.parts if await self.consumer.position(tp) < end[tp]}
        while todo:
            batch = await self.consumer.getmany(*todo, timeout_ms=1000)
            for tp, records in batch.items():
                for rec in records:
                    if rec.offset < end[tp]:
                        yield to_record(rec)
            for tp in list(todo):
                if await self.consumer.position(tp) >= end[tp]:
                    todo.discard(tp)

    async def poll(self, timeout_ms: int = 500) -> list[Record]:
        """What arrived within `timeout_ms` (possibly nothing)."""
        batch = await self.consumer.getmany(timeout_ms=timeout_ms)
        return [to_record(rec) for records in batch.values() for rec in records]

    async def follow(self, idle: float | None = None) -> AsyncIterator[Record]:
        """Records as they come; stops after `idle` seconds without one (None: never)."""
        last = time.monotonic()
        while idle is None or time.monotonic() - last < idle:
            for record in await self.poll():
                last = time.monotonic()
                yield record


async def send(env: Env, topic: str, value: bytes, key: str | None, headers: dict[str, str] | None = None,
               principal: str | None = None) -> None:
    """One record, acknowledged by every in-sync replica, as `principal` (default: the admin)."""
    producer = AIOKafkaProducer(bootstrap_servers=env.bootstrap, enable_idempotence=True, acks="all",
                                client_id="backbone-cli", **env.kafka(principal))
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key.encode() if key is not None else None,
                                     headers=[(k, v.encode()) for k, v in (headers or {}).items()])
    finally:
        await producer.stop()

