"""Talking to the real broker as an external system would: publish envelopes, read topics."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.support import credentials


def command(type_: str, subject: str, data: dict[str, Any], *, id_: str | None = None, **extra: Any) -> dict:
    """A CloudEvent command as a third-party client would write it."""
    return {"specversion": "1.0", "id": id_ or str(uuid.uuid4()), "source": "/tests/crm", "type": type_,
            "subject": subject, "time": "2026-11-25T10:00:00Z", "datacontenttype": "application/json",
            "data": data, **extra}


class Producer:
    """A plain aiokafka producer keyed by case id, connected as `principal` (e.g. `crm`, `portal`)."""

    def __init__(self, bootstrap: str, principal: str = credentials.ADMIN) -> None:
        self.principal = principal
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          **credentials.options(principal))

    async def __aenter__(self) -> "Producer":
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, topic: str, message: dict | bytes, key: str | None = None) -> None:
        """Publish a dict as JSON (or raw bytes), keyed by the case id."""
        value = message if isinstance(message, bytes) else json.dumps(message).encode()
        subject = None if isinstance(message, bytes) else message.get("subject")
        key = key or subject
        await self._producer.send_and_wait(topic, value, key=key.encode() if key else None)


class TopicReader:
    """Reads topics from the beginning with its own group; collects every record seen."""

    def __init__(self, bootstrap: str, *topics: str, principal: str = credentials.ADMIN, group_prefix: str = "") -> None:
        # A group under the principal's name: external principals may only use their own (ACL, prefixed).
        self._consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=f"{group_prefix}{principal}-probe-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest", enable_auto_commit=False, **credentials.options(principal))
        self.records: list[Any] = []

    async def __aenter__(self) -> "TopicReader":
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    def values(self, topic: str | None = None) -> list[dict]:
        """Decoded JSON values seen so far (optionally of one topic)."""
        return [json.loads(r.value) for r in self.records if topic is None or r.topic == topic]

    async def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 30.0) -> list[Any]:
        """Poll until `predicate(records)` holds; fail with what was seen otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self.records):
            if time.monotonic() > deadline:
                seen = [(r.topic, r.value[:200]) for r in self.records[-10:]]
                raise AssertionError(f"timed out after {timeout}s; last records: {seen}")
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(records)
        return self.records

    async def quiet(self, seconds: float) -> None:
        """Keep collecting for `seconds` (to prove nothing more arrives)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for records in (await self._consumer.getmany(timeout_ms=200)).values():
                self.records.extend(records)


def of_type(records: list[Any], type_: str, subject: str | None = None) -> list[dict]:
    """Decoded envelopes of one type (and case) among raw records."""
    out = []
    for r in records:
        try:
            doc = json.loads(r.value)
        except ValueError:
            continue
        if doc.get("type") == type_ and (subject is None or doc.get("subject") == subject):
            out.append(doc)
    return out


async def settle(seconds: float = 0.2) -> None:
    """Give background tasks a moment."""
    await asyncio.sleep(seconds)
