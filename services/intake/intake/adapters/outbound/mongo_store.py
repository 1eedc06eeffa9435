"""CaseStore on MongoDB: one document per case (state, the last applied command ids, outbox), history beside it."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from intake.adapters.outbound.mongo_history import CaseHistory, CaseOutbox, pending_docs
from intake.core import Case
from intake.ports.store import StoredCase
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import MongoRefusals


def _split(case: Case) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The state as stored (history left out: it lives in `case_history`), and the history entries to add."""
    state = case.model_dump(mode="json")
    return {**state, "history": []}, state["history"]


class MongoCaseStore:
    """Collections `cases`, `case_history`, `refusals`, `accounts` and `people`; single-document atomicity only."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.cases, self.accounts, self.people = db["cases"], db["accounts"], db["people"]
        self.history = CaseHistory(self.cases, db["case_history"])
        self.case_outbox, self.refusals = CaseOutbox(self.cases, self.history), MongoRefusals(db["refusals"])
        self.account_outbox, self.person_outbox = MongoOutbox(self.accounts), MongoOutbox(self.people)

    async def ensure_indexes(self) -> None:
        """Indexes the relay and the read side rely on."""
        await self.case_outbox.ensure_indexes()
        await self.history.ensure_indexes()
        await self.refusals.ensure_indexes()
        await self.account_outbox.ensure_indexes()
        await self.person_outbox.ensure_indexes()
        await self.cases.create_index("case.account_id")

    async def get(self, case_id: str, command_id: str) -> StoredCase | None:
        """State without history; `applied` is matched on the server, so the list is not shipped.

        History a crash left pending is moved first, as the service publishes a crash's outbox first.
        """
        doc = await self.cases.find_one(
            {"_id": case_id},
            {"case": 1, "version": 1, "outbox": 1, "history_pending": 1,
             "applied": {"$elemMatch": {"$eq": command_id}}},
        )
        if doc is None:
            return None
        await self.history.move_quietly(case_id, doc.get("history_pending", []))
        return StoredCase(
            case=Case.model_validate(doc["case"]),
            version=doc["version"],
            seen=bool(doc.get("applied")),
            outbox=[OutboxEntry.model_validate(e) for e in doc.get("outbox", [])],
        )

    async def read(self, case_id: str) -> Case | None:
        """The whole case, history included (moved, then still pending, in order)."""
        doc = await self.cases.find_one({"_id": case_id}, {"case": 1, "history": 1, "history_pending": 1})
        if doc is None:
            return None
        # `history`: entries of documents written before history moved out of them, kept as they were.
        history = doc.get("history", []) + await self.history.entries(case_id, doc.get("history_pending", []))
        return Case.model_validate({**doc["case"], "history": history})

    async def create(self, case: Case, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Insert a new case with its history and events; False if the id is taken."""
        state, history = _split(case)
        pending = pending_docs(case.id, case.version, history)
        doc = {"_id": case.id, "case": state, "version": case.version, "applied": [command_id],
               "outbox": outbox_docs(outbox), "history_pending": pending}
        if not await insert_new(self.cases, doc):
            return False
        await self.history.move_quietly(case.id, pending)
        return True

    async def update(self, case: Case, expected_version: int, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Compare-and-set on the version: state, applied id, events and new history land together or not at all."""
        state, history = _split(case)  # `case` was loaded without history: it holds just the new entries
        pending = pending_docs(case.id, case.version, history)
        result = await self.cases.update_one(
            {"_id": case.id, "version": expected_version},
            {"$set": {"case": state, "version": case.version},
             "$push": {"applied": push_bounded(command_id), "outbox": {"$each": outbox_docs(outbox)},
                       "history_pending": {"$each": pending}}},
        )
        if result.modified_count != 1:
            return False
        await self.history.move_quietly(case.id, pending)
        return True

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        """An entry of the account directory."""
        return await self.accounts.find_one({"_id": account_id}, {"_id": 0, "outbox": 0, "applied": 0})

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Create or replace an entry, record the command and queue its event, in one write; False if applied before."""
        return await _upsert_once(self.accounts, account["account_id"], account, command_id, outbox)

    async def upsert_person(self, person: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        """The same for a people-directory entry (every Person field is set: an upsert replaces the person)."""
        return await _upsert_once(self.people, person["id"], person, command_id, outbox)

    async def seed_people(self, people: list[dict[str, Any]]) -> None:
        """Add the directory file's people that are missing; never overwrite a maintained entry."""
        for person in people:
            await self.people.update_one({"_id": person["id"]}, {"$setOnInsert": person}, upsert=True)

    async def seed_accounts(self, accounts: list[dict[str, Any]]) -> None:
        """Add the sample accounts that are missing; never overwrite a maintained entry."""
        for account in accounts:
            await self.accounts.update_one({"_id": account["account_id"]}, {"$setOnInsert": account}, upsert=True)


async def _upsert_once(collection: Any, key: str, entry: dict[str, Any], command_id: str,
                       outbox: list[OutboxEntry]) -> bool:
    """Set `entry`, record the command and queue its events in one write; False if the command was applied before."""
    try:
        await collection.update_one(
            {"_id": key, "applied": {"$ne": command_id}},
            {"$set": entry, "$push": {"applied": push_bounded(command_id), "outbox": {"$each": outbox_docs(outbox)}}},
            upsert=True,
        )
    except DuplicateKeyError:  # the entry exists and the filter did not match: applied before
        return False
    return True
