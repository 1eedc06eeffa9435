"""In-memory NotifierStore and a fake MailSender for handler tests (same contract as the real ones)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from notifier.core.casefile import CaseFile
from notifier.core.delivery import AttemptResult, Delivery, Mail
from notifier.ports.sender import SendError
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded


class MemoryOutbox:
    """The `outbox` lists of a dict of documents, as the relay and the published marks see them."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs

    async def pending(self, older_than: datetime, limit: int) -> list[tuple[str, list[OutboxEntry]]]:
        return [(k, list(d["outbox"])) for k, d in self._docs.items() if d["outbox"]][:limit]

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        await self.mark_published_many({owner_id: entry_ids})

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for owner, ids in marks.items():
            doc = self._docs[owner]
            doc["outbox"] = [e for e in doc["outbox"] if e.id not in ids]


class MemoryNotifierStore:
    """Dicts instead of collections; compare-and-set like the Mongo adapter, and counts of its round trips."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.outbox, self.delivery_outbox = MemoryOutbox(self.files), MemoryOutbox(self.deliveries)
        self.loads: list[list[str]] = []
        self.saves: list[list[str]] = []
        self.finishes: list[list[str]] = []  # delivery ids of each finish_many (one write of the store)
        self.claims = self.next_dues = 0  # claim_due and next_due calls (each a store round trip, or two)
        self.interfere: dict[str, dict[str, Any]] = {}  # case id -> what another writer stores first (a race)
        self.handoff: Callable[[Sequence[Delivery]], None] = lambda deliveries: None

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[CaseFile]]:
        self.loads.append(list(keys))
        return {k: Loaded(k, CaseFile.model_validate(d["file"]), d["rev"], frozenset(d["applied"]), list(d["outbox"]))
                for k in keys if (d := self.files.get(k)) is not None}

    async def save(self, changes: Sequence[Change[CaseFile]]) -> set[str]:
        self.saves.append([c.key for c in changes])
        inserted = []
        for delivery in (d for c in changes for note in c.notes for d in note):
            if delivery.id not in self.deliveries:  # else planned before: left as it is, not handed off again
                self.deliveries[delivery.id] = {**delivery.model_dump(), "outbox": []}
                inserted.append(delivery)
        self.handoff(inserted)
        lost = set()
        for c in changes:
            doc = self.files.get(c.key)
            if c.key in self.interfere:
                self.files[c.key] = self.interfere.pop(c.key)
                lost.add(c.key)
            elif (doc["rev"] if doc else None) != (c.loaded.version if c.loaded else None):
                lost.add(c.key)
            else:
                self.files[c.key] = {"file": c.state.model_dump(mode="json"), "rev": (doc["rev"] if doc else 0) + 1,
                                     "applied": (doc["applied"] if doc else []) + c.message_ids,
                                     "outbox": (doc["outbox"] if doc else []) + list(c.entries)}
        return lost

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        self.claims += 1
        due = sorted((d for d in self.deliveries.values() if d["state"] == "pending" and d["next_attempt_at"] <= now),
                     key=lambda d: d["next_attempt_at"])[:limit]
        claimed = [Delivery.model_validate(copy.deepcopy(d)) for d in due]
        for d in due:
            d["next_attempt_at"] = lease_until
        return claimed

    async def next_due(self) -> datetime | None:
        self.next_dues += 1
        return min((d["next_attempt_at"] for d in self.deliveries.values() if d["state"] == "pending"), default=None)

    async def finish_many(self, results: Sequence[AttemptResult]) -> set[str]:
        self.finishes.append([r.delivery_id for r in results])
        lost = set()
        for r in results:
            doc = self.deliveries[r.delivery_id]
            if doc["next_attempt_at"] != r.lease:  # claimed by someone else after the lease ran out
                lost.add(r.delivery_id)
                continue
            doc.update(copy.deepcopy(r.changes))
            doc["outbox"] = doc["outbox"] + list(r.entries)
        return lost

    async def add_delivery(self, delivery: Delivery) -> None:
        """A pending delivery as the consumer would have planned it (for dispatcher tests)."""
        self.deliveries[delivery.id] = {**delivery.model_dump(), "outbox": []}

    def states(self) -> dict[str, str]:
        """recipient@event_type -> state, for assertions."""
        return {f"{d['recipient']}@{d['event_type']}": d["state"] for d in self.deliveries.values()}


class FakeSender:
    """Records accepted mails; `failures[address]` is a list of errors raised on the next sends to it."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.failures: dict[str, list[SendError]] = {}
        self.tries: list[str] = []

    async def send(self, mail: Mail) -> None:
        self.tries.append(mail.to)
        queue = self.failures.get(mail.to)
        if queue:
            raise queue.pop(0)
        self.sent.append(mail)
