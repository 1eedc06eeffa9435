"""CaseStore on MongoDB: one document per case holding state, applied command ids and its outbox."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from intake.core import Case
from intake.ports.store import StoredCase
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import MongoRefusals


def _split(case: Case) -> dict[str, Any]:
    """The case document's parts: state, and history kept beside it so it can grow without being re-read."""
    state = case.model_dump(mode="json")
    return {"case": {**state, "history": []}, "history": state["history"]}


class MongoCaseStore:
    """Collections `cases`, `refusals` and `accounts`; needs single-document atomicity only."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.cases, self.accounts = db["cases"], db["accounts"]
        self.case_outbox, self.refusals = MongoOutbox(self.cases), MongoRefusals(db["refusals"])
        self.account_outbox = MongoOutbox(self.accounts)

    async def ensure_indexes(self) -> None:
        """Indexes the relay and the read side rely on."""
        await self.case_outbox.ensure_indexes()
        await self.refusals.ensure_indexes()
        await self.account_outbox.ensure_indexes()
        await self.cases.create_index("case.account_id")

    async def get(self, case_id: str, command_id: str) -> StoredCase | None:
        """State without history; `applied` is matched on the server, so neither list is shipped."""
        doc = await self.cases.find_one(
            {"_id": case_id},
            {"case": 1, "version": 1, "outbox": 1, "applied": {"$elemMatch": {"$eq": command_id}}},
        )
        if doc is None:
            return None
        return StoredCase(
            case=Case.model_validate(doc["case"]),
            version=doc["version"],
            seen=bool(doc.get("applied")),
            outbox=[OutboxEntry.model_validate(e) for e in doc.get("outbox", [])],
        )

    async def read(self, case_id: str) -> Case | None:
        """The whole case, history included."""
        doc = await self.cases.find_one({"_id": case_id}, {"case": 1, "history": 1})
        return Case.model_validate({**doc["case"], "history": doc.get("history", [])}) if doc else None

    async def create(self, case: Case, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Insert a new case with its history and events; False if the id is taken."""
        doc = {"_id": case.id, **_split(case), "version": case.version,
               "applied": [command_id], "outbox": outbox_docs(outbox)}
        return await insert_new(self.cases, doc)

    async def update(self, case: Case, expected_version: int, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Compare-and-set on the version: state, applied id and events land together or not at all."""
        parts = _split(case)  # `case` was loaded without history: its history holds just the new entries
        result = await self.cases.update_one(
            {"_id": case.id, "version": expected_version},
            {"$set": {"case": parts["case"], "version": case.version},
             "$push": {"applied": command_id, "outbox": {"$each": outbox_docs(outbox)},
                       "history": {"$each": parts["history"]}}},
        )
        return result.modified_count == 1

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        """An entry of the account directory."""
        return await self.accounts.find_one({"_id": account_id}, {"_id": 0, "outbox": 0, "applied": 0})

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Create or replace an entry, record the command and queue its event, in one write; False if applied before."""
        try:
            await self.accounts.update_one(
                {"_id": account["account_id"], "applied": {"$ne": command_id}},
                {"$set": account, "$push": {"applied": command_id, "outbox": {"$each": outbox_docs(outbox)}}},
                upsert=True,
            )
        except DuplicateKeyError:  # the entry exists and the filter did not match: applied before
            return False
        return True

    async def seed_accounts(self, accounts: list[dict[str, Any]]) -> None:
        """Add the sample accounts that are missing; never overwrite a maintained entry."""
        for account in accounts:
            await self.accounts.update_one({"_id": account["account_id"]}, {"$setOnInsert": account}, upsert=True)
