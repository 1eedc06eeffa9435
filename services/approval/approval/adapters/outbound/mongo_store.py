"""ApprovalStore on MongoDB: one document per case (state, the last applied ids, outbox, next timer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from approval.core import Absence, CaseApprovals
from approval.ports.store import Stored, StoredRules
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import MongoRefusals

RULES_ID = "current"


def _indexed(state: CaseApprovals) -> dict[str, Any]:
    """Fields the scheduler and out-of-office lookups query, derived from the state on every write."""
    step = state.open_step()
    return {"next_due": step.next_due() if step else None, "waiting_on": step.pending_people() if step else []}


class MongoApprovalStore:
    """Collections `approvals`, `refusals`, `absences` and `rules`; single-document atomicity only."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.approvals, self.refusals = db["approvals"], MongoRefusals(db["refusals"])
        self.absence_docs, self.rule_docs = db["absences"], db["rules"]
        self.spent_links = db["spent_links"]
        self.outboxes = [MongoOutbox(self.approvals), self.refusals, MongoOutbox(self.rule_docs)]

    async def ensure_indexes(self) -> None:
        """Indexes for the relay, the timer scan and out-of-office lookups."""
        for outbox in self.outboxes:
            await outbox.ensure_indexes()
        await self.approvals.create_index("next_due", sparse=True)
        await self.approvals.create_index("waiting_on")
        # An expired token is refused by its signed expiry anyway; its use record may go a day later.
        await self.spent_links.create_index("expires_at", expireAfterSeconds=86_400)

    async def get(self, case_id: str) -> Stored | None:
        """The case's approval state, or None."""
        doc = await self.approvals.find_one({"_id": case_id})
        if doc is None:
            return None
        return Stored(CaseApprovals.model_validate(doc["state"]), doc["version"], set(doc.get("applied", [])),
                      [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])])

    async def save(self, state: CaseApprovals, expected_version: int | None, message_id: str,
                   outbox: list[OutboxEntry]) -> bool:
        """Insert or compare-and-set: state, applied id, timers and outbox in one write."""
        fields = {"state": state.model_dump(mode="json"), **_indexed(state)}
        if expected_version is None:
            return await insert_new(self.approvals, {"_id": state.case_id, **fields, "version": 1,
                                                     "applied": [message_id], "outbox": outbox_docs(outbox)})
        result = await self.approvals.update_one(
            {"_id": state.case_id, "version": expected_version},
            {"$set": {**fields, "version": expected_version + 1},
             "$push": {"applied": push_bounded(message_id), "outbox": {"$each": outbox_docs(outbox)}}})
        return result.modified_count == 1

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Case ids with a timer due."""
        cursor = self.approvals.find({"next_due": {"$lte": now}}, {"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def waiting_on(self, person: str) -> list[str]:
        """Case ids whose open step waits on `person`."""
        return [doc["_id"] async for doc in self.approvals.find({"waiting_on": person}, {"_id": 1})]

    async def mark_published(self, case_id: str, entry_ids: list[str]) -> None:
        """Drop published entries."""
        await self.outboxes[0].mark_published(case_id, entry_ids)

    async def absences(self) -> dict[str, Absence]:
        """Every recorded absence by person."""
        return {doc["_id"]: _absence(doc) async for doc in self.absence_docs.find({})}

    async def put_absence(self, absence: Absence, command_id: str) -> bool:
        """Replace the person's absence unless this command was applied before."""
        result = await self.absence_docs.update_one(
            {"_id": absence.person, "command_id": {"$ne": command_id}},
            {"$set": {"delegate": absence.delegate, "start": absence.start, "end": absence.end,
                      "command_id": command_id, "applied": False}}, upsert=False)
        if result.matched_count:
            return True
        # False: it exists with this command id, so the command was applied before
        return await insert_new(self.absence_docs, {"_id": absence.person, "delegate": absence.delegate,
                                                    "start": absence.start, "end": absence.end,
                                                    "command_id": command_id, "applied": False})

    async def absences_to_apply(self, now: datetime) -> list[Absence]:
        """Absences in force, not yet applied to pending steps."""
        cursor = self.absence_docs.find({"applied": False, "start": {"$lte": now}, "end": {"$gt": now}})
        return [_absence(doc) async for doc in cursor]

    async def mark_absence_applied(self, person: str, start: datetime) -> None:
        """Only the same absence: a newer one recorded meanwhile stays to be applied."""
        await self.absence_docs.update_one({"_id": person, "start": start}, {"$set": {"applied": True}})

    async def rules(self) -> StoredRules | None:
        """The stored rule set, or None."""
        doc = await self.rule_docs.find_one({"_id": RULES_ID})
        if doc is None:
            return None
        return StoredRules(doc["raw"], doc["version"], set(doc.get("applied", [])),
                           [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])])

    async def save_rules(self, raw: dict[str, Any], expected_version: int | None, command_id: str,
                         outbox: list[OutboxEntry]) -> bool:
        """Insert or compare-and-set on the version."""
        fields = {"raw": raw, "version": raw["version"]}
        if expected_version is None:
            return await insert_new(self.rule_docs, {"_id": RULES_ID, **fields, "applied": [command_id],
                                                     "outbox": outbox_docs(outbox)})
        result = await self.rule_docs.update_one(
            {"_id": RULES_ID, "version": expected_version},
            {"$set": fields, "$push": {"applied": push_bounded(command_id), "outbox": {"$each": outbox_docs(outbox)}}})
        return result.modified_count == 1

    async def mark_rules_published(self, entry_ids: list[str]) -> None:
        """Drop published rules events."""
        await self.outboxes[2].mark_published(RULES_ID, entry_ids)

    async def spend_link(self, token_id: str, case_id: str, command_id: str, expires: datetime) -> str:
        """Insert the use unless the token's id exists; the command that used it first."""
        if await insert_new(self.spent_links, {"_id": token_id, "case_id": case_id, "command_id": command_id,
                                               "expires_at": expires}):
            return command_id
        return await self.link_used(token_id) or command_id  # released in between: ours is as good as any

    async def link_used(self, token_id: str) -> str | None:
        """The command that used the token, or None."""
        doc = await self.spent_links.find_one({"_id": token_id}, {"command_id": 1})
        return doc["command_id"] if doc else None

    async def release_link(self, token_id: str, command_id: str) -> None:
        """Only this command's use: another's stays."""
        await self.spent_links.delete_one({"_id": token_id, "command_id": command_id})


def _absence(doc: dict[str, Any]) -> Absence:
    return Absence(doc["_id"], doc.get("delegate"), doc["start"], doc["end"])
