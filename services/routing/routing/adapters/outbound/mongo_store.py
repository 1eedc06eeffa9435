"""RoutingStore on MongoDB: one document per case view (with outbox and decisions), accounts, rules, commands."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from routing.core.view import CaseView
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry

RULES_ID = "current"
_VIEW_EXCLUDE = {"_id": 0, "outbox": 0, "decisions": 0, "seq": 0}


def _view(doc: dict[str, Any]) -> CaseView:
    return CaseView.model_validate({k: v for k, v in doc.items() if k not in ("_id", "outbox", "decisions", "seq")})


class MongoRoutingStore:
    """Every write is a single-document write; case writes are compare-and-set on `seq`."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._cases, self._accounts = db["cases"], db["accounts"]
        self._rules, self._commands = db["rules"], db["commands"]
        self.case_outbox, self.command_outbox_store = MongoOutbox(self._cases), MongoOutbox(self._commands)

    async def ensure_indexes(self) -> None:
        """Indexes of the read-model queries and of the outbox sweeps."""
        await self._cases.create_index([("assignee", ASCENDING), ("is_open", ASCENDING)])
        await self._cases.create_index([("queue", ASCENDING), ("is_open", ASCENDING)])
        await self.case_outbox.ensure_indexes()
        await self.command_outbox_store.ensure_indexes()

    async def get_case(self, case_id: str) -> tuple[CaseView, int, list[OutboxEntry]] | None:
        doc = await self._cases.find_one({"_id": case_id}, {"decisions": 0})
        if doc is None:
            return None
        return _view(doc), doc.get("seq", 0), [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])]

    async def save_case(self, view: CaseView, expected_seq: int | None, outbox: list[OutboxEntry],
                        decision: dict[str, Any] | None) -> bool:
        state = view.model_dump(mode="python")
        if expected_seq is None:
            return await insert_new(self._cases, {"_id": view.case_id, **state, "seq": 1, "outbox": outbox_docs(outbox),
                                                  "decisions": [decision] if decision else []})
        push: dict[str, Any] = {"outbox": {"$each": outbox_docs(outbox)}}
        if decision:  # the last decisions only: a case routed again and again must not outgrow its document
            push["decisions"] = push_bounded(decision)
        result = await self._cases.update_one({"_id": view.case_id, "seq": expected_seq},
                                              {"$set": {**state, "seq": expected_seq + 1}, "$push": push})
        return result.modified_count == 1

    async def mark_case_published(self, case_id: str, entry_ids: list[str]) -> None:
        await self.case_outbox.mark_published(case_id, entry_ids)

    async def open_load(self, people: list[str]) -> dict[str, int]:
        pipeline = [{"$match": {"assignee": {"$in": people}, "is_open": True}},
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

    async def available(self, queues: list[str]) -> list[CaseView]:
        return await self._find({"queue": {"$in": queues}, "assignee": None, "is_open": True})

    async def in_queue(self, queue: str) -> list[CaseView]:
        return await self._find({"queue": queue, "is_open": True})

    async def decisions(self, case_id: str) -> list[dict[str, Any]] | None:
        doc = await self._cases.find_one({"_id": case_id}, {"decisions": 1})
        return None if doc is None else doc.get("decisions", [])

    async def account_owner(self, account_id: str) -> str | None:
        doc = await self._accounts.find_one({"_id": account_id})
        return doc.get("owner") if doc else None

    async def upsert_account(self, account_id: str, entry: dict[str, Any]) -> None:
        await self._accounts.replace_one({"_id": account_id}, {"_id": account_id, **entry}, upsert=True)

    async def rules(self) -> dict[str, Any] | None:
        doc = await self._rules.find_one({"_id": RULES_ID}, {"_id": 0})
        return doc

    async def save_rules(self, raw: dict[str, Any], expected_version: int | None, command_id: str | None = None) -> bool:
        entry = {"version": raw["version"], "raw": raw, "command_id": command_id}
        if expected_version is None:
            return await insert_new(self._rules, {"_id": RULES_ID, **entry})
        result = await self._rules.update_one({"_id": RULES_ID, "version": expected_version},
                                              {"$set": entry})
        return result.modified_count == 1

    async def command_outbox(self, command_id: str) -> list[OutboxEntry] | None:
        doc = await self._commands.find_one({"_id": command_id})
        return None if doc is None else [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])]

    async def record_command(self, command_id: str, outcome: str, outbox: list[OutboxEntry]) -> bool:
        return await insert_new(self._commands, {"_id": command_id, "outcome": outcome, "outbox": outbox_docs(outbox)})

    async def mark_command_published(self, command_id: str, entry_ids: list[str]) -> None:
        await self.command_outbox_store.mark_published(command_id, entry_ids)
