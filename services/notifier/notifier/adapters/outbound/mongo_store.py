"""NotifierStore on MongoDB: `case_files` (the unit of work's aggregates) and `deliveries` (each with its outbox)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from notifier.core.casefile import CaseFile
from notifier.core.delivery import AttemptResult, Delivery
from shared.runtime.mongo_batch import DUPLICATE_KEY, TOKEN, CasWrite, load_docs, write_cas
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded

KEEP_APPLIED = 500  # event ids kept per case file; redeliveries come from the recent past only


class MongoNotifierStore:
    """Single-document atomicity only: a case file's write holds its state, applied ids and outbox together."""

    replaces_outbox = True  # `save` sets the outbox: published entries leave with the next write

    def __init__(self, db: AsyncDatabase, handoff: Callable[[Sequence[Delivery]], None] | None = None) -> None:
        self.files, self.deliveries = db["case_files"], db["deliveries"]
        self.handoff = handoff or (lambda deliveries: None)  # the dispatcher's, once wired (inject.register)
        self.outbox = MongoOutbox(self.files)  # notification.skipped, written with the event that planned it
        self.delivery_outbox = MongoOutbox(self.deliveries)  # notification.sent/.failed, with the attempt

    async def ensure_indexes(self) -> None:
        """Indexes of the sender's sweep and the outbox relay."""
        await self.outbox.ensure_indexes()
        await self.delivery_outbox.ensure_indexes()
        await self.deliveries.create_index([("state", 1), ("next_attempt_at", 1)])
        await self.deliveries.create_index("case_id")

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[CaseFile]]:
        """Case files with their revision, applied event ids and unsent events, in one query."""
        docs = await load_docs(self.files, keys)
        return {key: Loaded(key, CaseFile.model_validate(doc["file"]), doc["rev"], frozenset(doc.get("applied", [])),
                            [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])])
                for key, doc in docs.items()}

    async def save(self, changes: Sequence[Change[CaseFile]]) -> set[str]:
        """The batch's deliveries in one unordered insert, then every case file in one bulk of compare-and-sets.

        Deliveries first: a crash in between leaves the event unapplied, so its redelivery plans the same
        deliveries again (found by id, not handed off again) and then records it; never an applied event without
        its deliveries. The inserted ones are handed off at once: stored, they are due whatever the files' write finds.
        """
        self.handoff(await self._add_deliveries([d for change in changes for note in change.notes for d in note]))
        writes = []
        for change in changes:
            body = change.state.model_dump(mode="json")
            if change.loaded is None:
                writes.append(CasWrite(change.key, doc={"file": body, "rev": 1, "applied": change.message_ids,
                                                        "outbox": outbox_docs(change.outbox)}, field="rev"))
            else:
                writes.append(CasWrite(change.key, change.loaded.version, field="rev", update={
                    "$set": {"file": body, "rev": change.loaded.version + 1, "outbox": outbox_docs(change.outbox)},
                    "$push": {"applied": push_bounded(*change.message_ids, keep=KEEP_APPLIED)}}))
        return await write_cas(self.files, writes)

    async def _add_deliveries(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Keyed on (event, recipient): an id already taken is a delivery planned before, left as it is; the
        deliveries this insert stored."""
        if not deliveries:
            return []
        docs = [{**d.model_dump(mode="python", exclude={"id"}), "_id": d.id, "outbox": []} for d in deliveries]
        taken: set[int] = set()
        try:
            await self.deliveries.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise
            taken = {err["index"] for err in errors}  # positions in `docs`, however the driver split the insert
        return [d for i, d in enumerate(deliveries) if i not in taken]

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Claim by moving `next_attempt_at` forward, compare-and-set on it, all in one bulk; a crash mid-send
        frees them when the lease ends. Every claim moves it, so a delivery is claimed by one replica at a time."""
        cursor = self.deliveries.find({"state": "pending", "next_attempt_at": {"$lte": now}},
                                      {"outbox": 0}).sort("next_attempt_at", 1).limit(limit)
        docs = [d async for d in cursor]
        lost = await write_cas(self.deliveries, [
            CasWrite(d["_id"], d["next_attempt_at"], update={"$set": {"next_attempt_at": lease_until}},
                     field="next_attempt_at") for d in docs])
        return [_delivery(d) for d in docs if d["_id"] not in lost]

    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery falls due (leased ones when their lease ends)."""
        doc = await self.deliveries.find_one({"state": "pending"}, {"next_attempt_at": 1},
                                             sort=[("state", 1), ("next_attempt_at", 1)])
        return doc.get("next_attempt_at") if doc else None

    async def finish_many(self, results: Sequence[AttemptResult]) -> set[str]:
        """A round's results with their outcome events, compare-and-set each on its lease; the ids whose lease was lost.

        Results that set the same fields share one `update_many` statement (`write_cas`; each compares its own
        lease), so a round whose results all set the same fields (the dispatcher's do) is one store commit, not
        one per delivery, though its handed-off deliveries were leased at different times.
        """
        return await write_cas(self.deliveries, [
            CasWrite(r.delivery_id, r.lease, field="next_attempt_at",
                     update={"$set": r.changes, "$push": {"outbox": {"$each": outbox_docs(r.entries)}}})
            for r in results])

    async def for_case(self, case_id: str) -> list[dict[str, Any]]:
        """Deliveries of a case, oldest first, without mail bodies or outbox (the read side)."""
        cursor = self.deliveries.find({"case_id": case_id}, {"mail.text": 0, "mail.html": 0, "outbox": 0, TOKEN: 0}
                                      ).sort("created_at", 1)
        return [{**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]} async for doc in cursor]


def _delivery(doc: dict[str, Any]) -> Delivery:
    return Delivery.model_validate({**doc, "id": doc["_id"]})
