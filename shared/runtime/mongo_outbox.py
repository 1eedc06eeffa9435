"""Outbox kept as an array inside each aggregate document of a MongoDB collection."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection

from shared.runtime.outbox import OutboxEntry

# Ids of the messages applied to an aggregate are kept in its document for dedupe; only the last
# APPLIED_WINDOW are kept, so the document never grows with its age. A redelivery comes from the
# uncommitted tail of a partition (a few hundred records at most), far inside the window.
APPLIED_WINDOW = 1_000


def push_bounded(*items: object, keep: int = APPLIED_WINDOW) -> dict:
    """A `$push` value that appends `items` and keeps only the last `keep` elements of the array."""
    return {"$each": list(items), "$slice": -keep}


def outbox_docs(entries: list[OutboxEntry]) -> list[dict]:
    """Entries as stored: plain dicts, written in the same update as the state they belong to."""
    return [e.model_dump() for e in entries]


class MongoOutbox:
    """OutboxStore over one collection whose documents carry an `outbox` array."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._coll = collection

    async def ensure_indexes(self) -> None:
        """Index the entry time so the relay's sweep does not scan every document."""
        await self._coll.create_index("outbox.at", sparse=True)

    async def pending(self, older_than: datetime, limit: int) -> list[tuple[str, list[OutboxEntry]]]:
        """Documents with entries older than `older_than`, each with all its entries in order."""
        cursor = self._coll.find({"outbox.at": {"$lt": older_than}}, {"outbox": 1}).limit(limit)
        return [(doc["_id"], [OutboxEntry.model_validate(e) for e in doc["outbox"]]) async for doc in cursor]

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        """Remove the published entries; the document keeps any written since."""
        await self._coll.update_one({"_id": owner_id}, {"$pull": {"outbox": {"id": {"$in": entry_ids}}}})

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        """Drop published entries of many documents, a statement per `PULL_OWNERS` documents (see `pull_many`)."""
        await pull_many(self._coll, "outbox", "id", marks)


PULL_OWNERS = 50  # documents per statement: the store checks each element against every id of the statement


async def pull_many(coll: AsyncCollection, array: str, id_field: str, pulls: dict[str, list[str]]) -> None:
    """Remove from each document's `array` the elements whose `id_field` it lists, in few `update_many` statements.

    One statement is one commit of the store where a bulk of `update_one`s is one each. Each document is pulled
    the ids of its whole statement: they are unique per element (event or entry ids), so that removes exactly
    its own; a document changes atomically on its own, as with `update_one`.
    """
    owners = [owner for owner, ids in pulls.items() if ids]
    for i in range(0, len(owners), PULL_OWNERS):
        part = owners[i:i + PULL_OWNERS]
        ids = [entry for owner in part for entry in pulls[owner]]
        await coll.update_many({"_id": {"$in": part}}, {"$pull": {array: {id_field: {"$in": ids}}}})
