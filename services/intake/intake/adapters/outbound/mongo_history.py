"""Case history in its own collection, so a case document stays small however long the case lives.

A command's history entries are written in the same compare-and-set update as the state, into the
case's small `history_pending` array, then moved: inserted into `case_history` (one document per
entry, `_id` = `<case id>:<version>:<index>`, so a repeated move inserts nothing twice) and pulled
from the case. Publish-then-mark, as the outbox: a crash in between leaves entries pending, which the
next command on the case or the relay's sweep moves; a reader merges both, so nothing is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.contract.envelope import now_utc
from shared.runtime.mongo_outbox import MongoOutbox

DUPLICATE_KEY = 11000
SWEEP_BATCH = 500


def pending_docs(case_id: str, version: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries a write adds, as kept in `history_pending` until moved; ordered by (version, index)."""
    at = now_utc()
    return [{"hid": f"{case_id}:{version}:{i}", "version": version, "i": i, "at": at, "entry": e}
            for i, e in enumerate(entries)]


def _order(doc: dict[str, Any]) -> tuple[int, int]:
    return doc["version"], doc["i"]


class CaseHistory:
    """The `case_history` collection, fed from the `history_pending` arrays of the `cases` collection."""

    def __init__(self, cases: AsyncCollection, history: AsyncCollection) -> None:
        self._cases, self._history = cases, history
        self._log = structlog.get_logger().bind(component="case-history")

    async def ensure_indexes(self) -> None:
        """Reading a case's history in order, and the sweep of entries left pending."""
        await self._history.create_index([("case_id", ASCENDING), ("version", ASCENDING), ("i", ASCENDING)])
        await self._cases.create_index("history_pending.at", sparse=True)

    async def move(self, case_id: str, pending: list[dict[str, Any]]) -> None:
        """Insert the entries (a repeat inserts nothing: same `_id`), then pull them from the case."""
        if not pending:
            return
        docs = [{"_id": p["hid"], "case_id": case_id, "version": p["version"], "i": p["i"], "entry": p["entry"]}
                for p in pending]
        await self._insert(docs)
        await self._cases.update_one({"_id": case_id},
                                     {"$pull": {"history_pending": {"hid": {"$in": [p["hid"] for p in pending]}}}})

    async def move_quietly_many(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        """`move` for many cases with one insert and one bulk pull; a failure leaves the entries pending a while."""
        if not pending:
            return
        docs = [{"_id": p["hid"], "case_id": case_id, "version": p["version"], "i": p["i"], "entry": p["entry"]}
                for case_id, entries in pending.items() for p in entries]
        try:
            await self._insert(docs)
            await self._cases.bulk_write(
                [UpdateOne({"_id": case_id}, {"$pull": {"history_pending": {"hid": {"$in": [p["hid"] for p in entries]}}}})
                 for case_id, entries in pending.items()], ordered=False)
        except Exception:
            self._log.warning("history.move_deferred", cases=len(pending), exc_info=True)

    async def _insert(self, docs: list[dict[str, Any]]) -> None:
        try:
            await self._history.insert_many(docs, ordered=False)
        except BulkWriteError as exc:  # entries moved before (a crash after the insert): fine
            if any(err.get("code") != DUPLICATE_KEY for err in exc.details.get("writeErrors", [])):
                raise

    async def entries(self, case_id: str, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every entry in order: those moved, then those still pending (read first by the caller).

        The case document is read before the collection, so an entry moved in between is found here.
        """
        moved = [d async for d in self._history.find({"case_id": case_id}).sort(
            [("version", ASCENDING), ("i", ASCENDING)])]
        ids = {d["_id"] for d in moved}
        return [d["entry"] for d in sorted([*moved, *(p for p in pending if p["hid"] not in ids)], key=_order)]

    async def finish_leftovers(self, older_than: datetime) -> int:
        """Move entries a crash left pending before `older_than`; returns how many."""
        moved = 0
        cursor = self._cases.find({"history_pending.at": {"$lt": older_than}}, {"history_pending": 1})
        async for doc in cursor.limit(SWEEP_BATCH):
            await self.move(doc["_id"], doc["history_pending"])
            moved += len(doc["history_pending"])
        if moved:
            self._log.info("history.leftovers_moved", entries=moved)
        return moved


class CaseOutbox(MongoOutbox):
    """The cases' outbox for the relay, whose sweep also moves history a crash left pending."""

    def __init__(self, cases: AsyncCollection, history: CaseHistory) -> None:
        super().__init__(cases)
        self._history = history

    async def finish_leftovers(self, older_than: datetime) -> int:
        """Move pending history older than `older_than` (see `shared.runtime.outbox.Leftovers`)."""
        return await self._history.finish_leftovers(older_than)
