"""RoutingStore on MongoDB: case views (with outbox and decisions), accounts, the rule set, hand-overs, refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from routing.adapters.outbound.mongo_aggregates import MongoHandovers, MongoRuleSets, MongoViews
from routing.core.view import CaseView
from routing.ports.store import RULES_ID
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_batch import MongoRefusalBook

_VIEW_EXCLUDE = {"_id": 0, "outbox": 0, "decisions": 0, "seq": 0, "_w": 0}


class MongoRoutingStore:
    """Every write is a single-document write; aggregate writes are compare-and-set, batched per unit of work."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._cases, self._accounts, self._rules = db["cases"], db["accounts"], db["rules"]
        self.views, self.rule_sets = MongoViews(self._cases), MongoRuleSets(self._rules)
        self.handovers, self.refusals = MongoHandovers(db["commands"]), MongoRefusalBook(db["refusals"])
        self.case_outbox, self.command_outbox_store = self.views.outbox, self.handovers.outbox

    async def ensure_indexes(self) -> None:
        """Indexes of the read-model queries and of the outbox sweeps."""
        await self._cases.create_index([("assignee", ASCENDING), ("is_open", ASCENDING)])
        await self._cases.create_index([("queue", ASCENDING), ("is_open", ASCENDING)])
        await self._cases.create_index([("next_due", ASCENDING)])  # the timers' earliest-first scan
        for outbox in (self.case_outbox, self.command_outbox_store, self.refusals.outbox):
            await outbox.ensure_indexes()

    async def open_load(self) -> dict[str, int]:
        pipeline = [{"$match": {"is_open": True, "assignee": {"$ne": None}}},
                    {"$group": {"_id": "$assignee", "n": {"$sum": 1}}}]
        return {d["_id"]: d["n"] async for d in await self._cases.aggregate(pipeline)}

    async def _find(self, query: dict[str, Any]) -> list[CaseView]:
        cursor = self._cases.find(query, _VIEW_EXCLUDE).sort([("opened_at", ASCENDING), ("_id", ASCENDING)])
        return [CaseView.model_validate(d) async for d in cursor]

    async def open_cases(self, assignee: str, case_types: list[str] | None = None) -> list[CaseView]:
        query: dict[str, Any] = {"assignee": assignee, "is_open": True}
        if case_types:
            query["case_type"] = {"$in": case_types}
        return await self._find(query)

    async def open_cases_of(self, people: Sequence[str]) -> dict[str, list[CaseView]]:
        found: dict[str, list[CaseView]] = {p: [] for p in people}
        for view in await self._find({"assignee": {"$in": list(people)}, "is_open": True}) if people else []:
            found[view.assignee or ""].append(view)
        return found

    async def available(self, queues: list[str]) -> list[CaseView]:
        return await self._find({"queue": {"$in": queues}, "assignee": None, "is_open": True})

    async def in_queue(self, queue: str) -> list[CaseView]:
        return await self._find({"queue": queue, "is_open": True})

    async def due_views(self, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        cursor = self._cases.find({"next_due": {"$ne": None, "$lte": now}}, {"next_due": 1}).sort("next_due", ASCENDING)
        return [(d["_id"], d["next_due"]) async for d in cursor.limit(limit)]

    async def next_due(self) -> datetime | None:
        doc = await self._cases.find_one({"next_due": {"$ne": None}}, {"next_due": 1}, sort=[("next_due", ASCENDING)])
        return doc["next_due"] if doc else None

    async def decisions(self, case_id: str) -> list[dict[str, Any]] | None:
        doc = await self._cases.find_one({"_id": case_id}, {"decisions": 1})
        return None if doc is None else doc.get("decisions", [])

    async def account_owners(self) -> dict[str, str | None]:
        return {doc["_id"]: doc.get("owner") async for doc in self._accounts.find({}, {"owner": 1})}

    async def upsert_accounts(self, entries: dict[str, dict[str, Any]]) -> None:
        if entries:
            await self._accounts.bulk_write([ReplaceOne({"_id": key}, {"_id": key, **entry}, upsert=True)
                                             for key, entry in entries.items()], ordered=False)

    async def rules(self) -> dict[str, Any] | None:
        return await self._rules.find_one({"_id": RULES_ID}, {"version": 1, "raw": 1, "command_id": 1, "_id": 0})

    async def save_rules(self, raw: dict[str, Any], expected_version: int | None, command_id: str | None = None) -> bool:
        entry = {"version": raw["version"], "raw": raw, "command_id": command_id}
        if expected_version is None:
            return await insert_new(self._rules, {"_id": RULES_ID, **entry})
        result = await self._rules.update_one({"_id": RULES_ID, "version": expected_version}, {"$set": entry})
        return result.modified_count == 1
