"""Case history in its own collection, so a case document stays small however long the case lives.

A command's history entries are written in the same compare-and-set update as the state, into the
case's `history_pending` array. Once that array is large enough (`due_to_move`), or has waited
`LINGER_SECONDS` (the relay's sweep), its entries move: inserted into `case_history` as one chunk
document (its `_id` names the entries it holds, so a repeated move inserts nothing twice), then
pulled from the case. Moving many entries at once spares the store a write per command. A crash in
between leaves entries pending, which a later move or the sweep finishes; a reader merges both and
drops repeats by entry id, so nothing is lost or shown twice.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.contract.envelope import now_utc
from shared.runtime.mongo_outbox import MongoOutbox, pull_many

DUPLICATE_KEY = 11000
SWEEP_BATCH = 500
MOVE_ENTRIES = 32  # pending entries that make a move worth its writes
MOVE_BYTES = 256 * 1024  # ... or pending bytes: a case document stays small even with large entries
LINGER_SECONDS = 60.0  # pending entries older than this are moved by the relay's sweep


def pending_docs(case_id: str, version: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries a write adds, as kept in `history_pending` until moved; ordered by (version, index).

    `n`: the entry's size as JSON, measured once here, so `due_to_move` need not serialise them all again.
    """
    at = now_utc()
    return [{"hid": f"{case_id}:{version}:{i}", "version": version, "i": i, "at": at, "entry": e,
             "n": _size(e)} for i, e in enumerate(entries)]


def _size(entry: Any) -> int:
    return len(json.dumps(entry, default=str))


def due_to_move(pending: list[dict[str, Any]]) -> bool:
    """True when a case's pending entries are many or large enough to move now."""
    if len(pending) >= MOVE_ENTRIES:
        return True
    return bool(pending) and sum(p.get("n") or _size(p["entry"]) for p in pending) >= MOVE_BYTES


def _order(doc: dict[str, Any]) -> tuple[int, int]:
    return doc["version"], doc["i"]


def _chunk(case_id: str, pending: list[dict[str, Any]]) -> dict[str, Any]:
    """One `case_history` document holding the entries of one move."""
    first, last = min(pending, key=_order), max(pending, key=_order)
    entries = [{k: p[k] for k in ("hid", "version", "i", "entry")} for p in pending]
    return {"_id": f"{first['hid']}..{last['version']}:{last['i']}:{len(pending)}", "case_id": case_id,
            "entries": entries}


def _flatten(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a chunk, or of a one-entry document written before chunks (`_id` = its entry id)."""
    if "entries" in doc:
        return doc["entries"]
    return [{"hid": doc["_id"], "version": doc["version"], "i": doc["i"], "entry": doc["entry"]}]


class CaseHistory:
    """The `case_history` collection, fed from the `history_pending` arrays of the `cases` collection."""

    def __init__(self, cases: AsyncCollection, history: AsyncCollection) -> None:
        self._cases, self._history = cases, history
        self._log = structlog.get_logger().bind(component="case-history")

    async def ensure_indexes(self) -> None:
        """Reading a case's history, and the sweep of entries left pending."""
        await self._history.create_index("case_id")
        await self._cases.create_index("history_pending.at", sparse=True)

    async def move(self, case_id: str, pending: list[dict[str, Any]]) -> None:
        """Insert the entries as one chunk (a repeat inserts nothing: same `_id`), then pull them from the case."""
        await self.move_many({case_id: pending})

    async def move_many(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        """`move` for many cases: one insert of their chunks, one bulk of pulls."""
        pending = {case_id: entries for case_id, entries in pending.items() if entries}
        if not pending:
            return
        try:
            await self._history.insert_many([_chunk(c, e) for c, e in pending.items()], ordered=False)
        except BulkWriteError as exc:  # chunks moved before (a crash after the insert): fine
            if any(err.get("code") != DUPLICATE_KEY for err in exc.details.get("writeErrors", [])):
                raise
        await pull_many(self._cases, "history_pending", "hid", {c: [p["hid"] for p in e] for c, e in pending.items()})

    async def move_quietly_many(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        """`move_many` after writes that already count: a failure only leaves the entries pending a while."""
        try:
            await self.move_many(pending)
        except Exception:
            self._log.warning("history.move_deferred", cases=len(pending), exc_info=True)

    async def entries(self, case_id: str, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every entry in order: those moved, then those still pending (read first by the caller).

        The case document is read before the collection, so an entry moved in between is found here.
        """
        found: dict[str, dict[str, Any]] = {}
        async for doc in self._history.find({"case_id": case_id}):
            for e in _flatten(doc):
                found.setdefault(e["hid"], e)
        for p in pending:
            found.setdefault(p["hid"], p)
        return [e["entry"] for e in sorted(found.values(), key=_order)]

    async def finish_leftovers(self, older_than: datetime) -> int:
        """Move entries pending since `LINGER_SECONDS` before `older_than`; returns how many."""
        cutoff = older_than - timedelta(seconds=LINGER_SECONDS)
        cursor = self._cases.find({"history_pending.at": {"$lt": cutoff}}, {"history_pending": 1})
        found = {doc["_id"]: doc["history_pending"] async for doc in cursor.limit(SWEEP_BATCH)}
        await self.move_many(found)
        moved = sum(len(e) for e in found.values())
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
