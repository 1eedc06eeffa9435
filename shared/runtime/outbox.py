"""Transactional outbox: events stored with the state, then relayed to Kafka and marked published."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import structlog
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from faststream.kafka import KafkaBroker

from shared.contract.envelope import now_utc
from shared.runtime.background import Loop
from shared.runtime.metrics import OutboxBacklog
from shared.runtime.outbox_dead_letter import publish_or_dead_letter, too_large
from shared.runtime.outbox_entry import OutboxEntry  # noqa: F401  (named here by its users, as before)
from shared.settings import Settings

CLOUDEVENTS_JSON = "application/cloudevents+json"
# An unreachable broker fails every owner alike: the sweep stops and the next one tries again.
OUTAGES = (KafkaConnectionError, KafkaTimeoutError, ConnectionError)


class OutboxStore(Protocol):
    """Where outbox entries live: inside the aggregate documents that produced them."""

    async def pending(self, older_than: datetime, limit: int) -> list[tuple[str, list[OutboxEntry]]]:
        """Owners (aggregate ids) with entries written before `older_than`, in write order."""

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        """Drop published entries from the owner's outbox."""


@runtime_checkable
class Leftovers(Protocol):
    """An outbox store with other crash leftovers (e.g. case history still to move), finished by the relay."""

    async def finish_leftovers(self, older_than: datetime) -> int:
        """Finish what was left before `older_than`; returns how many items."""


class Publisher:
    """Publishes outbox entries with the broker's idempotent producer (acks=all), in order.

    An entry refused for its content (too large, invalid) goes to `<topic>.dlq` instead, cut to
    `record_bytes`, with an error-level alert: it counts as done, so the entries behind it go out.
    Outages raise, and the entry stays in the outbox to be sent again.
    """

    def __init__(self, broker: KafkaBroker, record_bytes: int | None = None) -> None:
        self._broker = broker
        # Services pass settings.limits.record_bytes; the fallback reads the same environment, so that a
        # LIMITS__RECORD_BYTES raised for every service never turns valid events into dead letters.
        self._record_bytes = record_bytes or Settings().limits.record_bytes

    async def publish(self, entries: list[OutboxEntry]) -> None:
        """Send (or dead-letter) each entry and wait for the broker's acknowledgement, in order."""
        for entry in entries:
            await publish_or_dead_letter(self._broker, entry, self._send, self._record_bytes)

    async def publish_many(self, entries: list[OutboxEntry]) -> None:
        """Send every entry without waiting, in order, then await all acknowledgements at once.

        The idempotent producer keeps the order per partition. If any send fails, the whole list is
        sent again one by one (`publish`): consumers deduplicate by id, and a refused entry then goes
        to its dead-letter topic as usual.
        """
        futures = []
        try:
            for entry in entries:
                if too_large(entry, self._record_bytes) is not None:
                    await publish_or_dead_letter(self._broker, entry, self._send, self._record_bytes)
                else:
                    sent = await self._send(entry, confirm=False)
                    if isinstance(sent, asyncio.Future):  # the in-memory test broker has delivered already
                        futures.append(sent)
            await asyncio.gather(*futures)
        except Exception:
            for future in futures:  # no "exception was never retrieved" noise for the ones we resend
                if future.done() and not future.cancelled():
                    future.exception()
            await self.publish(entries)

    async def _send(self, entry: OutboxEntry, confirm: bool = True) -> Any:
        return await self._broker.publish(
            entry.payload.encode(),
            topic=entry.topic,
            key=entry.key.encode(),
            headers={"content-type": CLOUDEVENTS_JSON},
            correlation_id=entry.id,
            **({} if confirm else {"no_confirm": True}),
        )


async def flush(owner_id: str, entries: list[OutboxEntry], publisher: Publisher, store: OutboxStore) -> None:
    """Publish then mark; a crash in between republishes the same ids, never loses one."""
    if entries:
        await publisher.publish(entries)
        await store.mark_published(owner_id, [e.id for e in entries])


# Entries younger than this are left to the service that wrote them. Longer than a published mark is held
# (`marks.MARK_HOLD`) plus a flush, so a sweep finds only entries that were never sent (a crash, a failed
# publish) rather than pages of sent ones still waiting for their mark.
RELAY_GRACE = 15.0


class OutboxRelay:
    """Background sweep that publishes entries left behind by a crash or a failed publish."""

    def __init__(self, stores: list[OutboxStore], publisher: Publisher, interval: float, grace: float = RELAY_GRACE,
                 published: set[str] | None = None) -> None:
        self._stores, self._publisher, self._grace = stores, publisher, grace
        # PublishedMarks.published: sent by this process, mark not written yet (a busy store lags behind);
        # sending those again would only add duplicates and writes to a store that is already behind.
        self._published = published if published is not None else set()
        self._log = structlog.get_logger().bind(component="outbox-relay")
        self._loop = Loop(self.sweep, interval, "outbox-relay")

    async def sweep(self, grace: float | None = None) -> int:
        """Publish every entry older than the grace period; returns how many were sent."""
        cutoff = now_utc() - timedelta(seconds=self._grace if grace is None else grace)
        sent, backlog = 0, OutboxBacklog()  # the metrics hook: what this sweep found waiting
        for store in self._stores:
            if isinstance(store, Leftovers):
                await store.finish_leftovers(cutoff)
            pending = await store.pending(cutoff, limit=500)
            backlog.add(e for _, entries in pending for e in entries if e.id not in self._published)
            for owner_id, entries in pending:
                entries = [e for e in entries if e.id not in self._published]
                if not entries:
                    continue
                try:
                    await flush(owner_id, entries, self._publisher, store)
                except OUTAGES:
                    backlog.report()  # a stuck outbox shows while the broker is away
                    raise
                except Exception:  # one owner's failure must not strand the others behind it
                    self._log.exception("outbox.flush_failed", owner=owner_id, entries=len(entries))
                    continue
                sent += len(entries)
        backlog.report()
        if sent:
            self._log.info("outbox.relayed", count=sent)
        return sent

    async def start(self) -> None:
        """Publish what a crash left behind, then keep sweeping in the background.

        An after-startup hook, so consumers already run: a handler that touches a case publishes
        that case's stored entries before its new ones itself, so per-case order holds either way.
        A failing sweep (an outage) never fails the start-up: the background sweep tries again.
        """
        try:
            await self.sweep(grace=0)
        except Exception:
            self._log.exception("outbox.startup_sweep_failed")
        await self._loop.start()

    async def stop(self) -> None:
        """Stop the background sweep, then publish what is still queued (a shutdown hook, after the consumers)."""
        await self._loop.stop()
        try:
            await self.sweep(grace=0)
        except Exception:  # broker or store down: the entries stay in the outbox, the next start sends them
            self._log.exception("outbox.final_sweep_failed")

    @property
    def running(self) -> bool:
        """False once stopped, or if the background sweep died (the liveness probe asks)."""
        return self._loop.running
