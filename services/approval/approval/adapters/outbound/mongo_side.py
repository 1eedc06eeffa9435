"""The approval store's smaller collections on MongoDB: absences and the rule set (batched aggregates), link uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from approval.core import Absence
from approval.ports.store import StoredRules
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_batch import CasWrite, load_docs, write_cas
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded

RULES_ID = "current"  # the one rule-set document, whatever key (RULES_SUBJECT) the unit of work gives it


class _RulesOutbox(MongoOutbox):
    """The rule set's outbox: every owner the unit of work names is the one document."""

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        await super().mark_published_many({RULES_ID: [i for ids in marks.values() for i in ids]} if marks else {})


class MongoRules:
    """The `rules` collection as an aggregate store: the raw set, its version (compare-and-set), applied ids, outbox."""

    def __init__(self, coll: AsyncCollection) -> None:
        self._coll, self.outbox = coll, _RulesOutbox(coll)

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[StoredRules]]:
        """The stored set under each key asked for (one document)."""
        doc = (await load_docs(self._coll, [RULES_ID])).get(RULES_ID) if keys else None
        if doc is None:
            return {}
        return {key: Loaded(key, StoredRules(doc["raw"], doc["version"]), doc["version"], frozenset(doc.get("applied", [])),
                            [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])]) for key in keys}

    async def save(self, changes: Sequence[Change[StoredRules]]) -> set[str]:
        """Insert, or compare-and-set on the version in force (one change at most: there is one key)."""
        lost = set()
        for c in changes:
            fields = {"raw": c.state.raw, "version": c.state.version}
            write = (CasWrite(RULES_ID, doc={**fields, "applied": c.message_ids, "outbox": outbox_docs(c.entries)})
                     if c.loaded is None else
                     CasWrite(RULES_ID, c.loaded.version, update={"$set": fields, "$push": {
                         "applied": push_bounded(*c.message_ids), "outbox": {"$each": outbox_docs(c.entries)}}}))
            if await write_cas(self._coll, [write]):
                lost.add(c.key)
        return lost

    async def read(self) -> StoredRules | None:
        """The stored rule set, or None."""
        doc = await self._coll.find_one({"_id": RULES_ID}, {"raw": 1, "version": 1})
        return None if doc is None else StoredRules(doc["raw"], doc["version"])


class MongoAbsences:
    """The `absences` collection: one document per person (the latest absence), compare-and-set on `version`.

    An aggregate store for `approval.set_out_of_office` (the command that recorded an absence is its applied id).
    """

    def __init__(self, coll: AsyncCollection) -> None:
        self._coll = coll
        self.outbox = MongoOutbox(coll)  # never holds entries: recording an absence publishes nothing itself

    async def ensure_indexes(self) -> None:
        """Documents written before absences had a version get version 0, so compare-and-set finds them."""
        await self._coll.update_many({"version": {"$exists": False}}, {"$set": {"version": 0}})

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[Absence]]:
        """The persons' absences, in one query."""
        docs = await load_docs(self._coll, keys)
        return {k: Loaded(k, _absence(d), d.get("version", 0), frozenset([d["command_id"]])) for k, d in docs.items()}

    async def save(self, changes: Sequence[Change[Absence]]) -> set[str]:
        """Insert or compare-and-set each person's absence, still to be applied, in one bulk."""
        writes = []
        for c in changes:
            a = c.state
            fields = {"delegate": a.delegate, "start": a.start, "end": a.end, "command_id": c.message_ids[-1],
                      "applied": False}
            writes.append(CasWrite(c.key, doc={**fields, "version": 1}) if c.loaded is None else
                          CasWrite(c.key, c.loaded.version, update={"$set": {**fields, "version": c.loaded.version + 1}}))
        return await write_cas(self._coll, writes)

    async def all(self) -> dict[str, Absence]:
        """Every recorded absence by person."""
        return {doc["_id"]: _absence(doc) async for doc in self._coll.find({})}

    async def to_apply(self, now: datetime) -> list[Absence]:
        """Absences in force, not yet applied to pending steps."""
        cursor = self._coll.find({"applied": False, "start": {"$lte": now}, "end": {"$gt": now}})
        return [_absence(doc) async for doc in cursor]

    async def mark_applied(self, person: str, start: datetime) -> None:
        """Only the same absence: a newer one recorded meanwhile stays to be applied."""
        await self._coll.update_one({"_id": person, "start": start}, {"$set": {"applied": True}})


class MongoLinks:
    """The `spent_links` collection: one document per used link token."""

    def __init__(self, coll: AsyncCollection) -> None:
        self.spent_links = coll

    async def ensure_links(self) -> None:
        """An expired token is refused by its signed expiry anyway; its use record may go a day later."""
        await self.spent_links.create_index("expires_at", expireAfterSeconds=86_400)

    async def spend_link(self, token_id: str, case_id: str, command_id: str, expires: datetime) -> str:
        """Insert the use unless the token's id exists; the command that used it first."""
        if await insert_new(self.spent_links, {"_id": token_id, "case_id": case_id, "command_id": command_id,
                                               "expires_at": expires}):
            return command_id
        return await self.link_used(token_id) or command_id  # released in between: ours is as good as any

    async def links_used(self, token_ids: list[str]) -> dict[str, str]:
        """The command that used each used token, in one query."""
        docs = await load_docs(self.spent_links, list(dict.fromkeys(token_ids)), {"command_id": 1})
        return {k: d["command_id"] for k, d in docs.items()}

    async def link_used(self, token_id: str) -> str | None:
        """The command that used the token, or None."""
        doc = await self.spent_links.find_one({"_id": token_id}, {"command_id": 1})
        return doc["command_id"] if doc else None

    async def release_link(self, token_id: str, command_id: str) -> None:
        """Only this command's use: another's stays."""
        await self.spent_links.delete_one({"_id": token_id, "command_id": command_id})


def _absence(doc: dict[str, Any]) -> Absence:
    return Absence(doc["_id"], doc.get("delegate"), doc["start"], doc["end"])
