"""CaseStore on MongoDB: one document per case (state, the last applied command ids, outbox), history beside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from intake.adapters.outbound.mongo_history import CaseHistory, CaseOutbox, due_to_move, pending_docs
from intake.core import Case
from shared.runtime.mongo_batch import TOKEN, CasWrite, MongoRefusalBook, load_docs, write_cas
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded


def _split(case: Case) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The state as stored (history left out: it lives in `case_history`), and the history entries to add."""
    state = case.model_dump(mode="json")
    return {**state, "history": []}, state["history"]


class MongoCaseStore:
    """Collections `cases`, `case_history`, `refusals`, `accounts` and `people`; single-document atomicity only."""

    replaces_outbox = True  # `save` sets the outbox: published entries leave with the next write

    def __init__(self, db: AsyncDatabase) -> None:
        self.cases, self.accounts_coll, self.people = db["cases"], db["accounts"], db["people"]
        self.history = CaseHistory(self.cases, db["case_history"])
        self.case_outbox, self.refusals = CaseOutbox(self.cases, self.history), MongoRefusalBook(db["refusals"])
        self.outbox = self.case_outbox  # the unit of work marks published events here
        self.account_outbox, self.person_outbox = MongoOutbox(self.accounts_coll), MongoOutbox(self.people)

    async def ensure_indexes(self) -> None:
        """Indexes the relay and the read side rely on."""
        await self.case_outbox.ensure_indexes()
        await self.history.ensure_indexes()
        await self.refusals.outbox.ensure_indexes()
        await self.account_outbox.ensure_indexes()
        await self.person_outbox.ensure_indexes()
        await self.cases.create_index("case.account_id")

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[Case]]:
        """Cases without history, with their applied ids and unsent events (whole documents: a projection costs
        the store more than the few bytes it leaves out; `history` is only in documents of before the move)."""
        docs = await load_docs(self.cases, keys)
        return {key: Loaded(key, Case.model_validate(doc["case"]), doc["version"], frozenset(doc.get("applied", [])),
                            [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])],
                            extra=doc.get("history_pending", []))
                for key, doc in docs.items()}

    async def save(self, changes: Sequence[Change[Case]]) -> set[str]:
        """Every change in one bulk: insert, or compare-and-set on the version (state, applied ids, events and
        new history together). A case's pending history moves to `case_history` once it is large enough
        (see `due_to_move`); the rest waits for a later command or the relay's sweep."""
        writes, pending = [], {}
        for change in changes:
            state, history = _split(change.state)  # loaded without history: it holds just the new entries
            new = pending_docs(change.key, change.state.version, history)
            if change.loaded is None:
                writes.append(CasWrite(change.key, doc={
                    "case": state, "version": change.state.version, "applied": change.message_ids,
                    "outbox": outbox_docs(change.outbox), "history_pending": new}))
            else:
                writes.append(CasWrite(change.key, change.loaded.version, update={
                    "$set": {"case": state, "version": change.state.version, "outbox": outbox_docs(change.outbox)},
                    "$push": {"applied": push_bounded(*change.message_ids), "history_pending": {"$each": new}}}))
            pending[change.key] = ((change.loaded.extra if change.loaded else None) or []) + new
        lost = await write_cas(self.cases, writes)
        await self.history.move_quietly_many({k: v for k, v in pending.items() if k not in lost and due_to_move(v)})
        return lost

    async def read(self, case_id: str) -> Case | None:
        """The whole case, history included (moved, then still pending, in order)."""
        doc = await self.cases.find_one({"_id": case_id}, {"case": 1, "history": 1, "history_pending": 1})
        if doc is None:
            return None
        # `history`: entries of documents written before history moved out of them, kept as they were.
        history = doc.get("history", []) + await self.history.entries(case_id, doc.get("history_pending", []))
        return Case.model_validate({**doc["case"], "history": history})

    async def accounts(self, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Entries of the account directory, in one query."""
        docs = await load_docs(self.accounts_coll, list(dict.fromkeys(account_ids)), {"outbox": 0, "applied": 0})
        return {key: {k: v for k, v in doc.items() if k not in ("_id", TOKEN)} for key, doc in docs.items()}

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Create or replace an entry, record the command and queue its event, in one write; False if applied before."""
        return await _upsert_once(self.accounts_coll, account["account_id"], account, command_id, outbox)

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
            await self.accounts_coll.update_one({"_id": account["account_id"]}, {"$setOnInsert": account}, upsert=True)


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
