"""Marking outbox entries as published in bulk, so publishing costs no store round trip per event."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

import structlog

from shared.runtime.background import Loop
from shared.runtime.metrics import watch_marks

MARK_HOLD = 10.0  # seconds; see PublishedMarks

if TYPE_CHECKING:
    from shared.runtime.outbox import OutboxEntry, Publisher


class BulkMarkable(Protocol):
    """An outbox store that can drop published entries of many owners in one request."""

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        """Drop each owner's listed entries."""


async def publish_unsent(publisher: "Publisher", marks: "PublishedMarks", store: BulkMarkable, owner_id: str,
                         entries: list["OutboxEntry"]) -> None:
    """Publish the owner's entries not on the broker yet, then leave their marks to the next bulk write."""
    unsent = [e for e in entries if e.id not in marks.published]
    if unsent:
        await publisher.publish_many(unsent)
        marks.add(store, owner_id, [e.id for e in unsent])


class PublishedMarks:
    """Remembers what was published and marks it in the store in batches.

    Until a mark is written the entry stays in its document's outbox; `published` tells the
    service not to send it again, and after a crash the relay re-sends it under the same id.
    """

    # A mark waits `hold` seconds: long enough that the next write of an aggregate in the middle of a
    # journey (seconds apart under load) drops its published entries itself (`cleared`), which saves the
    # store a write per event. Shorter than the relay's grace (`outbox.RELAY_GRACE`), so the relay's sweep
    # never pages through entries that only wait for their mark; the relay skips `published` anyway.
    def __init__(self, interval: float = 0.25, hold: float = MARK_HOLD) -> None:
        self._pending: dict[BulkMarkable, dict[str, list[str]]] = {}
        self._since: dict[tuple[BulkMarkable, str], float] = {}  # when an owner's oldest pending mark was added
        self.published: set[str] = set()
        self._hold = hold
        self._loop = Loop(self._flush_due, interval, "published-marks")
        self._log = structlog.get_logger().bind(component="published-marks")
        watch_marks(self)  # backbone_outbox_marks_pending counts `published` at scrape time

    def add(self, store: BulkMarkable, owner_id: str, entry_ids: list[str]) -> None:
        """Record that these entries are on the broker."""
        self._pending.setdefault(store, {}).setdefault(owner_id, []).extend(entry_ids)
        self._since.setdefault((store, owner_id), time.monotonic())
        self.published.update(entry_ids)

    def cleared(self, store: BulkMarkable, owner_id: str, entry_ids: list[str]) -> None:
        """A write of the owner dropped these entries from its outbox already: no mark needed any more."""
        owners = self._pending.get(store)
        if owners and owner_id in owners:
            gone = set(entry_ids)
            owners[owner_id] = [i for i in owners[owner_id] if i not in gone]
            if not owners[owner_id]:
                del owners[owner_id]
                self._since.pop((store, owner_id), None)
            self.published.difference_update(gone)

    async def _flush_due(self) -> None:
        """The background flush: the marks held for `hold` seconds (younger ones may still be cleared for free)."""
        await self.flush(older_than=time.monotonic() - self._hold)

    async def flush(self, older_than: float | None = None) -> None:
        """Write the pending marks (only those added before `older_than`, if given); entries stay known as
        published until their mark is written."""
        pending: dict[BulkMarkable, dict[str, list[str]]] = {}
        for store, owners in self._pending.items():
            due = [o for o in owners if older_than is None or self._since[(store, o)] <= older_than]
            if due:
                pending[store] = {o: owners.pop(o) for o in due}
                for o in due:
                    del self._since[(store, o)]
        self._pending = {store: owners for store, owners in self._pending.items() if owners}
        for store, marks in pending.items():
            try:
                await store.mark_published_many(marks)
            except Exception:  # keep them for the next flush; the relay re-sends if we never get there
                self._log.exception("marks.flush_failed", owners=len(marks))
                for owner, ids in marks.items():
                    self._pending.setdefault(store, {}).setdefault(owner, []).extend(ids)
                    self._since.setdefault((store, owner), 0.0)  # due again at the next flush
                continue
            for ids in marks.values():
                self.published.difference_update(ids)

    async def start(self) -> None:
        """Flush in the background every `interval` seconds."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop the background flush and write what is left."""
        await self._loop.stop()
        await self.flush()

    @property
    def running(self) -> bool:
        """False once stopped, or if the background flush died (the liveness probe asks)."""
        return self._loop.running
