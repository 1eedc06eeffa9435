"""ProjectionStore on MongoDB: one collection per generation, a pointer document to the active one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_sync.core import ProjectionState
from portal_sync.ports.store import Generation, StoredProjection
from shared.contract.envelope import now_utc
from shared.runtime.mongo_batch import CasWrite, load_docs, write_cas
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded

ACTIVE, COUNTER = "active", "counter"


class MongoProjectionStore:
    """Collections `generations` (pointer + counter) and `projections_g<n>`; single-document writes only."""

    replaces_outbox = True  # `save` sets the outbox: published entries leave with the next write

    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db
        self.generations = db["generations"]
        self._outboxes: dict[int, MongoOutbox] = {}

    def collection(self, generation: int) -> AsyncCollection:
        """The collection holding one generation."""
        return self._db[f"projections_g{generation}"]

    async def ensure_indexes(self, generation: int) -> None:
        """Indexes of one generation: the account listing and the outbox sweep."""
        await self.collection(generation).create_index("state.record.account_id")
        await self.outbox(generation).ensure_indexes()

    def outbox(self, generation: int) -> MongoOutbox:
        """The generation's outboxes (one object per generation: published marks are grouped by it)."""
        if generation not in self._outboxes:
            self._outboxes[generation] = MongoOutbox(self.collection(generation))
        return self._outboxes[generation]

    async def active(self) -> Generation | None:
        """The active generation, None before the first start."""
        doc = await self.generations.find_one({"_id": ACTIVE})
        return Generation(doc["generation"], doc["mapping_text"], doc["mapping_version"]) if doc else None

    async def activate_first(self, mapping_text: str, mapping_version: int) -> Generation:
        """Generation 1 with this mapping, unless one is active (then that one stays)."""
        await self.generations.update_one({"_id": COUNTER}, {"$max": {"value": 1}}, upsert=True)
        await self.generations.update_one(
            {"_id": ACTIVE},
            {"$setOnInsert": {"generation": 1, "mapping_text": mapping_text, "mapping_version": mapping_version,
                              "switched_at": now_utc()}},
            upsert=True)
        active = await self.active()
        assert active is not None
        await self.ensure_indexes(active.number)
        return active

    async def get(self, generation: int, case_id: str) -> StoredProjection | None:
        """One case's projection."""
        doc = await self.collection(generation).find_one({"_id": case_id})
        return _stored(doc) if doc else None

    async def load(self, generation: int, case_ids: Sequence[str]) -> dict[str, Loaded[ProjectionState]]:
        """The stored cases among `case_ids`, in one query; the ids seen at the current version are the applied ones."""
        docs = await load_docs(self.collection(generation), case_ids)
        return {key: _loaded(doc) for key, doc in docs.items()}

    async def save(self, generation: int, changes: Sequence[Change[ProjectionState]]) -> set[str]:
        """State and records land together, every case in one bulk: insert, or compare-and-set on `rev`."""
        writes = []
        for change in changes:
            body, entries = change.state.model_dump(mode="json"), outbox_docs(change.outbox)
            if change.loaded is None:
                writes.append(CasWrite(change.key, doc={"state": body, "rev": 1, "outbox": entries}, field="rev"))
                continue
            update: dict[str, Any] = {"$set": {"state": body, "rev": change.loaded.version + 1, "outbox": entries}}
            writes.append(CasWrite(change.key, change.loaded.version, update=update, field="rev"))
        return await write_cas(self.collection(generation), writes)

    async def mark_published(self, generation: int, case_id: str, entry_ids: list[str]) -> None:
        """Drop published records (the relay's sweep; the service marks in bulk through `outbox`)."""
        await self.outbox(generation).mark_published(case_id, entry_ids)

    async def by_account(self, generation: int, account_id: str) -> list[ProjectionState]:
        """Every projected case of one account."""
        cursor = self.collection(generation).find({"state.record.account_id": account_id}, {"state": 1})
        return [ProjectionState.model_validate(doc["state"]) async for doc in cursor]

    async def new_generation(self) -> int:
        """Reserve the next number; concurrent rebuilds never share one."""
        await self.generations.update_one({"_id": COUNTER}, {"$max": {"value": 1}}, upsert=True)
        doc = await self.generations.find_one_and_update(
            {"_id": COUNTER}, {"$inc": {"value": 1}}, return_document=ReturnDocument.AFTER)
        await self.ensure_indexes(doc["value"])
        return doc["value"]

    async def all(self, generation: int) -> dict[str, StoredProjection]:
        """Every case of a generation."""
        return {doc["_id"]: _stored(doc) async for doc in self.collection(generation).find({})}

    async def insert_many(self, generation: int, items: list[tuple[ProjectionState, list[OutboxEntry]]]) -> None:
        """Fill a generation being built (nobody else writes it yet)."""
        docs = [{"_id": s.record.case_id, "state": s.model_dump(mode="json"), "rev": 1, "outbox": outbox_docs(o)}
                for s, o in items]
        for start in range(0, len(docs), 500):
            await self.collection(generation).insert_many(docs[start:start + 500], ordered=False)

    async def switch(self, generation: Generation) -> None:
        """One write: from now on the service reads and writes `generation`."""
        await self.generations.update_one(
            {"_id": ACTIVE},
            {"$set": {"generation": generation.number, "mapping_text": generation.mapping_text,
                      "mapping_version": generation.mapping_version, "switched_at": now_utc()}},
            upsert=True)


class ActiveOutbox:
    """OutboxStore for the relay: sweeps whichever generation is active (owner id = `<gen>/<case id>`)."""

    def __init__(self, store: MongoProjectionStore) -> None:
        self._store = store

    async def pending(self, older_than: datetime, limit: int) -> list[tuple[str, list[OutboxEntry]]]:
        """Unpublished records of the active generation."""
        active = await self._store.active()
        if active is None:
            return []
        found = await self._store.outbox(active.number).pending(older_than, limit)
        return [(f"{active.number}/{owner}", entries) for owner, entries in found]

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        """Drop published records from the generation they were read from."""
        generation, case_id = owner_id.split("/", 1)
        await self._store.mark_published(int(generation), case_id, entry_ids)


def _loaded(doc: dict[str, Any]) -> Loaded[ProjectionState]:
    state = ProjectionState.model_validate(doc["state"])
    return Loaded(doc["_id"], state, doc["rev"], frozenset(state.seen),
                  [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])])


def _stored(doc: dict[str, Any]) -> StoredProjection:
    return StoredProjection(ProjectionState.model_validate(doc["state"]), doc["rev"],
                            [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])])
