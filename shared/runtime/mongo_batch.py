"""Batched MongoDB access for the unit of work: many documents read with `$in`, written in few statements.

Every write is still a single-document write (inserts, and updates that compare-and-set on a version
field), so it holds on any MongoDB 6+; only the round trips and the store's commits are shared.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.runtime.mongo import unordered_bulk_write
from shared.runtime.mongo_outbox import outbox_docs
from shared.runtime.mongo_pipeline import chunks, shape_of, statement
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import MongoRefusals
from shared.runtime.unit_of_work import Refusal

DUPLICATE_KEY = 11000
TOKEN = "_w"  # which write last won: read back only when a bulk reports fewer matches than it sent


@dataclass
class CasWrite:
    """Insert `doc` (a new aggregate), or apply `update` if the document's `field` still equals `expected`."""

    key: str
    expected: int | None = None
    doc: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    field: str = "version"


LOAD_IDS = 50  # ids per query: a store checks each document it finds against every id of its `$in`


async def load_docs(coll: AsyncCollection, keys: Sequence[str], projection: dict[str, Any] | None = None
                    ) -> dict[str, dict[str, Any]]:
    """The documents with these ids, by id: one `$in` query per LOAD_IDS ids, sent together.

    Whole documents unless a `projection` is needed to leave a large field out: a projection is work
    for the store (SecantusDB copies the fields kept), and these documents hold little else.
    """
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    parts = await asyncio.gather(*(_find(coll, unique[i:i + LOAD_IDS], projection)
                                   for i in range(0, len(unique), LOAD_IDS)))
    return {key: doc for part in parts for key, doc in part.items()}


async def _find(coll: AsyncCollection, keys: list[str], projection: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc async for doc in coll.find({"_id": {"$in": keys}}, projection)}


async def write_cas(coll: AsyncCollection, writes: Sequence[CasWrite]) -> set[str]:
    """Every write in as few statements as the store allows; the keys whose insert found the id taken or whose
    version moved on. Inserts go in one unordered insert; updates of one shape in one `update_many` each
    (`mongo_pipeline`), any other update in one unordered bulk."""
    if not writes:
        return set()
    token = uuid.uuid4().hex
    inserts = [InsertOne({**(w.doc or {}), "_id": w.key, TOKEN: token}) for w in writes if w.expected is None]
    shaped: dict[tuple, list[tuple[str, Any, dict[str, Any]]]] = {}
    others: list[Any] = []
    for w in writes:
        if w.expected is None:
            continue
        update = dict(w.update or {})
        update["$set"] = {**update.get("$set", {}), TOKEN: token}
        shape = shape_of(update)
        if shape is None:
            others.append(UpdateOne({"_id": w.key, w.field: w.expected}, update))
        else:
            shaped.setdefault((w.field, shape), []).append((w.key, w.expected, update))
    results = await asyncio.gather(_inserts(coll, inserts, [w.key for w in writes if w.expected is None]),
                                   _bulk_updates(coll, others),
                                   *(_pipeline(coll, field, shape, part) for (field, shape), items in shaped.items()
                                     for part in chunks(items)))
    lost: set[str] = results[0]
    matched = sum(results[1:])
    updates = [w.key for w in writes if w.expected is not None]
    if matched < len(updates):  # some compare-and-set missed: find which by the token they would carry
        docs = await load_docs(coll, updates, {TOKEN: 1})
        won = {key for key, doc in docs.items() if doc.get(TOKEN) == token}
        lost |= set(updates) - won
    return lost


async def _inserts(coll: AsyncCollection, ops: list[Any], keys: list[str]) -> set[str]:
    """The keys among the inserts whose id was taken."""
    if not ops:
        return set()
    try:
        await unordered_bulk_write(coll, ops)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(err.get("code") != DUPLICATE_KEY for err in errors):
            raise
        return {keys[err["index"]] for err in errors}
    return set()


async def _bulk_updates(coll: AsyncCollection, ops: list[Any]) -> int:
    """Updates that have no pipeline form, one statement each; how many matched."""
    return (await unordered_bulk_write(coll, ops)).matched_count if ops else 0


async def _pipeline(coll: AsyncCollection, field: str, shape: tuple, items: list[tuple[str, Any, dict[str, Any]]]) -> int:
    """One statement for updates of one shape; how many documents still held their expected version (and changed)."""
    query, pipeline, let = statement(field, shape, items)
    return (await coll.update_many(query, pipeline, let=let)).modified_count


class MongoRefusalBook:
    """The unit of work's refusals over a `refusals` collection (one document per refused command)."""

    def __init__(self, coll: AsyncCollection) -> None:
        self._coll = coll
        self.outbox = MongoRefusals(coll)

    async def seen(self, command_ids: Sequence[str]) -> dict[str, list[OutboxEntry]]:
        """Commands refused before, with their unpublished entries, in one query."""
        docs = await load_docs(self._coll, command_ids)
        return {cid: [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])] for cid, doc in docs.items()}

    async def record(self, refusals: Sequence[Refusal]) -> set[str]:
        """Insert every refusal in one bulk; the ids that were refused before (their first record stands)."""
        writes = [CasWrite(r.command_id, doc={"outbox": outbox_docs(r.entries)}) for r in refusals]
        return await write_cas(self._coll, writes)
