"""CaseReader on intake's collections: `cases` (state, pending history) and `case_history` (moved chunks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from intake.adapters.outbound.mongo_history import CaseHistory
from intake.core.listing import CaseFilter, Cursor

NEWEST_FIRST = [("case.updated_at", DESCENDING), ("_id", DESCENDING)]
# Equality indexes for the selective filters (the account's is the store's own, `case.account_id`); type, GBU,
# status and open/closed are broad. SecantusDB serves an equality from an index but sorts the matches in
# memory, so (filter, order) compound indexes bought nothing there and cost every case write (docs/lifecycles.md).
INDEXED_FILTERS = ("assignee", "queue")


def list_query(where: CaseFilter, closed: Mapping[str, frozenset[str]], after: Cursor | None) -> dict[str, Any]:
    """The Mongo filter for `where` (see `CaseFilter.matches`) and the rows after `after` (see `listing.before`)."""
    parts: list[dict[str, Any]] = [{f"case.{k}": v} for k, v in where.equalities().items()]
    if where.is_open is not None:
        types = [where.case_type] if where.case_type else sorted(closed)
        per_type = [{"case.case_type": t, "case.status": {"$nin" if where.is_open else "$in": sorted(closed.get(t, ()))}}
                    for t in types]
        if where.is_open and not where.case_type:  # a type no lifecycle knows has no closed status
            per_type.append({"case.case_type": {"$nin": types}})
        parts.append({"$or": per_type})
    if after is not None:
        parts.append({"$or": [{"case.updated_at": {"$lt": after.updated_at}},
                              {"case.updated_at": after.updated_at, "_id": {"$lt": after.case_id}}]})
    return {"$and": parts} if parts else {}


class MongoCaseReader:
    """The read side of intake's store; the history is merged as `CaseHistory.entries` does it."""

    def __init__(self, db: AsyncDatabase, closed: Mapping[str, frozenset[str]]) -> None:
        self._cases, self._closed = db["cases"], closed
        self._history = CaseHistory(self._cases, db["case_history"])

    async def ensure_indexes(self) -> None:
        """The list's order (a MongoDB server pages the whole list from it), and the selective filters."""
        await self._cases.create_index(NEWEST_FIRST)
        await self._cases.create_index("case.account_id")  # the store makes it too: the reader may start first
        for name in INDEXED_FILTERS:
            await self._cases.create_index(f"case.{name}")

    async def case(self, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The state and the full history: moved chunks, then entries still pending (read first)."""
        doc = await self._cases.find_one({"_id": case_id}, {"case": 1, "history": 1, "history_pending": 1})
        if doc is None:
            return None
        # `history`: entries of documents written before history moved out of them, kept as they were.
        history = (doc.get("history") or []) + await self._history.entries(case_id, doc.get("history_pending", []))
        return {k: v for k, v in doc["case"].items() if k != "history"}, history

    async def cases(self, where: CaseFilter, after: Cursor | None, limit: int) -> list[dict[str, Any]]:
        """One page of the list, in one query."""
        found = self._cases.find(list_query(where, self._closed, after), {"case": 1}).sort(NEWEST_FIRST).limit(limit)
        return [doc["case"] async for doc in found]
