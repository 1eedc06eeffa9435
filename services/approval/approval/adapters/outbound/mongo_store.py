"""ApprovalStore on MongoDB: one document per case (state, the last applied ids, outbox, next timer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from approval.adapters.outbound.mongo_side import MongoAbsences, MongoLinks, MongoRules
from approval.core import Absence, CaseApprovals
from approval.ports.store import Due, StoredRules
from shared.runtime.mongo_batch import CasWrite, MongoRefusalBook, load_docs, write_cas
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded


def _indexed(state: CaseApprovals) -> dict[str, Any]:
    """Fields the scheduler and out-of-office lookups query, derived from the state on every write."""
    step = state.open_step()
    return {"next_due": step.next_due() if step else None, "waiting_on": step.pending_people() if step else []}


class MongoApprovalStore(MongoLinks):
    """Collections `approvals`, `refusals`, `absences`, `rules` and `spent_links`; single-document atomicity only."""

    replaces_outbox = True  # `save` sets the outbox: published entries leave with the next write

    def __init__(self, db: AsyncDatabase) -> None:
        self.approvals = db["approvals"]
        self.refusals = MongoRefusalBook(db["refusals"])
        self.outbox = MongoOutbox(self.approvals)  # the unit of work marks published entries here
        self.rule_sets = MongoRules(db["rules"])
        self.absence_book = MongoAbsences(db["absences"])
        super().__init__(db["spent_links"])
        self.outboxes = [self.outbox, self.refusals.outbox, self.rule_sets.outbox]

    async def ensure_indexes(self) -> None:
        """Indexes for the relay, the timer scan and out-of-office lookups; absences get their version field."""
        for outbox in self.outboxes:
            await outbox.ensure_indexes()
        await self.approvals.create_index("next_due", sparse=True)
        await self.approvals.create_index("waiting_on")
        # "Approvals waiting for me": the person's open steps, oldest first, from the index alone.
        await self.approvals.create_index([("waiting_on", 1), ("state.current.opened_at", 1)])
        await self.absence_book.ensure_indexes()
        await self.ensure_links()

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[CaseApprovals]]:
        """Cases' approval states with their applied ids and unsent entries, in one query."""
        docs = await load_docs(self.approvals, keys)
        return {key: Loaded(key, CaseApprovals.model_validate(doc["state"]), doc["version"],
                            frozenset(doc.get("applied", [])),
                            [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])])
                for key, doc in docs.items()}

    async def save(self, changes: Sequence[Change[CaseApprovals]]) -> set[str]:
        """Every change in one bulk: insert, or compare-and-set on the version (state, timers, applied ids, outbox)."""
        writes = []
        for c in changes:
            fields = {"state": c.state.model_dump(mode="json"), **_indexed(c.state)}
            if c.loaded is None:
                writes.append(CasWrite(c.key, doc={**fields, "version": 1, "applied": c.message_ids,
                                                   "outbox": outbox_docs(c.outbox)}))
            else:
                writes.append(CasWrite(c.key, c.loaded.version, update={
                    "$set": {**fields, "version": c.loaded.version + 1, "outbox": outbox_docs(c.outbox)},
                    "$push": {"applied": push_bounded(*c.message_ids)}}))
        return await write_cas(self.approvals, writes)

    async def read(self, case_id: str) -> CaseApprovals | None:
        """The case's approval state, or None."""
        doc = await self.approvals.find_one({"_id": case_id}, {"state": 1})
        return None if doc is None else CaseApprovals.model_validate(doc["state"])

    async def due(self, now: datetime, limit: int) -> list[Due]:
        """Cases with a timer due, with the step and its due time (one query)."""
        cursor = self.approvals.find({"next_due": {"$lte": now}}, {"next_due": 1, "state.current.approval_id": 1})
        return [Due(doc["_id"], ((doc.get("state") or {}).get("current") or {}).get("approval_id", ""), doc["next_due"])
                async for doc in cursor.limit(limit)]

    async def next_due(self) -> datetime | None:
        """The earliest timer of any open step."""
        doc = await self.approvals.find_one({"next_due": {"$ne": None}}, {"next_due": 1}, sort=[("next_due", 1)])
        return doc["next_due"] if doc else None

    async def waiting_on(self, person: str) -> list[str]:
        """Case ids whose open step waits on `person`."""
        return [doc["_id"] async for doc in self.approvals.find({"waiting_on": person}, {"_id": 1})]

    async def waiting_for(self, person: str, limit: int) -> list[CaseApprovals]:
        """States whose open step waits on `person`, oldest step first (one indexed query)."""
        cursor = self.approvals.find({"waiting_on": person}, {"state": 1}).sort("state.current.opened_at", 1)
        return [CaseApprovals.model_validate(doc["state"]) async for doc in cursor.limit(limit)]

    async def absences(self) -> dict[str, Absence]:
        """Every recorded absence by person."""
        return await self.absence_book.all()

    async def absences_to_apply(self, now: datetime) -> list[Absence]:
        """Absences in force, not yet applied to pending steps."""
        return await self.absence_book.to_apply(now)

    async def mark_absence_applied(self, person: str, start: datetime) -> None:
        """The absence was applied to every pending step."""
        await self.absence_book.mark_applied(person, start)

    async def rules(self) -> StoredRules | None:
        """The stored rule set, or None."""
        return await self.rule_sets.read()
