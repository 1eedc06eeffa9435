"""Reading every output topic from the beginning while the run goes on: outcomes by command, approval requests."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.chaos.invariants import REJECTED
from shared.runtime.kafka_security import client_options
from shared.settings import Topics
from tests.support.credentials import ADMIN

log = logging.getLogger("chaos")


class Tap:
    """Group-less consumers of the output topics; keeps every decoded record and wakes who waits for one."""

    def __init__(self, bootstrap: str, topics: Topics, environ: Mapping[str, str]) -> None:
        self.topics = topics
        # Each topic read as a principal allowed to: the CRM mirrors its commands' outcomes, the rest only the admin.
        self.readers = {"crm": [topics.case_events, topics.case_rejections, topics.approval_events],
                        ADMIN: [topics.portal_case_status, topics.notification_events]}
        self._consumers = {who: AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                                 auto_offset_reset="earliest", **client_options(who, environ))
                           for who in self.readers}
        self.records: list[tuple[str, dict]] = []  # (topic, envelope) in arrival order
        self.undecodable: list[tuple[str, bytes]] = []
        self.portal_latest: dict[str, dict | None] = {}  # key -> latest value (None = tombstone)
        self.last_new = time.monotonic()
        self._outcomes: dict[str, asyncio.Future[dict]] = {}
        self._first: dict[str, dict] = {}  # cause id -> its first outcome record
        self._answered: set[str] = set()  # approval.requested ids the workload has answered
        self._requests: dict[str, list[dict]] = defaultdict(list)  # case id -> approval.requested, in order
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> "Tap":
        """Assign every partition of the topics, from the beginning, and read in the background."""
        for who, consumer in self._consumers.items():
            await consumer.start()
            names = self.readers[who]
            parts = [TopicPartition(t, p) for t in names for p in (consumer.partitions_for_topic(t) or ())]
            if len(parts) < len(names):  # metadata not fetched yet for some topic
                await consumer._client.force_metadata_update()  # noqa: SLF001 (aiokafka has no public way)
                parts = [TopicPartition(t, p) for t in names for p in (consumer.partitions_for_topic(t) or ())]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            self._tasks.append(asyncio.create_task(self._run(consumer)))
        return self

    async def stop(self) -> None:
        """Stop reading."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(consumer.stop() for consumer in self._consumers.values()))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=200)
            except Exception as exc:  # a broker being killed: the consumer reconnects by itself
                log.debug("tap: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if not batch:
                continue
            for records in batch.values():
                for rec in records:
                    self._take(rec.topic, rec.key, rec.value)
            self.last_new = time.monotonic()
            async with self._changed:
                self._changed.notify_all()

    def _take(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        if topic == self.topics.portal_case_status and key is not None:
            self.portal_latest[key.decode()] = json.loads(value) if value else None
        if value is None:
            return
        try:
            doc = json.loads(value)
        except ValueError:
            self.undecodable.append((topic, value[:200]))
            return
        self.records.append((topic, doc))
        cause = (doc.get("data") or {}).get("command_id") if doc.get("type") == REJECTED else doc.get("causationid")
        if cause:
            self._first.setdefault(cause, doc)
        waiter = self._outcomes.get(cause) if cause else None
        if waiter and not waiter.done():
            waiter.set_result(doc)
        if doc.get("type") == "approval.requested":
            self._requests[doc.get("subject")].append(doc)

    def expect(self, command_id: str) -> asyncio.Future[dict]:
        """A future that resolves with the first outcome record of the command (register before sending)."""
        future = self._outcomes.setdefault(command_id, asyncio.get_running_loop().create_future())
        if command_id in self._first and not future.done():
            future.set_result(self._first[command_id])
        return future

    async def outcome(self, command_id: str, timeout: float) -> dict | None:
        """The command's first outcome record, or None after `timeout` seconds."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.expect(command_id)), timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self._outcomes.pop(command_id, None)

    async def approval_request(self, case_id: str, step: str, timeout: float) -> dict | None:
        """The first `approval.requested` of the case's step not answered yet (waits up to `timeout`)."""
        deadline = time.monotonic() + timeout

        def pick() -> dict | None:
            return next((r for r in self._requests.get(case_id, []) if r["data"].get("step") == step
                         and r["id"] not in self._answered), None)
        async with self._changed:
            while (found := pick()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except asyncio.TimeoutError:
                    return None
        self._answered.add(found["id"])
        return found

    def of(self, *topics: str) -> list[dict]:
        """Decoded envelopes of the given topics, in arrival order."""
        return [doc for topic, doc in self.records if topic in topics]
