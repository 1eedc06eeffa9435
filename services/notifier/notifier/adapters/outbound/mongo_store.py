"""NotifierStore on MongoDB: `case_files` and `deliveries` (each delivery with its own outbox array)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from notifier.core.casefile import CaseFile
from notifier.core.delivery import Delivery
from notifier.ports.store import StoredFile
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs
from shared.runtime.outbox import OutboxEntry

KEEP_APPLIED = 500  # event ids kept per case file; redeliveries come from the recent past only


class MongoNotifierStore:
    """Needs single-document atomicity only: every write below touches one document."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.files, self.deliveries = db["case_files"], db["deliveries"]
        self.outbox = MongoOutbox(self.deliveries)

    async def ensure_indexes(self) -> None:
        """Indexes of the sender's sweep and the outbox relay."""
        await self.outbox.ensure_indexes()
        await self.deliveries.create_index([("state", 1), ("next_attempt_at", 1)])
        await self.deliveries.create_index("case_id")

    async def case_file(self, case_id: str) -> StoredFile | None:
        """The case file, or None."""
        doc = await self.files.find_one({"_id": case_id})
        if doc is None:
            return None
        return StoredFile(CaseFile.model_validate(doc["file"]), doc["rev"], doc.get("applied", []))

    async def save_case_file(self, file: CaseFile, expected_rev: int, event_id: str) -> bool:
        """Compare-and-set on `rev`; the applied event id lands in the same write."""
        body = file.model_dump(mode="json")
        if expected_rev == 0:
            return await insert_new(self.files, {"_id": file.case_id, "file": body, "rev": 1, "applied": [event_id]})
        result = await self.files.update_one(
            {"_id": file.case_id, "rev": expected_rev},
            {"$set": {"file": body, "rev": expected_rev + 1},
             "$push": {"applied": {"$each": [event_id], "$slice": -KEEP_APPLIED}}})
        return result.modified_count == 1

    async def delivery(self, delivery_id: str) -> tuple[Delivery, list[OutboxEntry]] | None:
        """A delivery and its unpublished outcome events."""
        doc = await self.deliveries.find_one({"_id": delivery_id})
        if doc is None:
            return None
        return _delivery(doc), [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])]

    async def add_delivery(self, delivery: Delivery, outbox: list[OutboxEntry]) -> bool:
        """Keyed on (event, recipient): a second insert of the same pair is refused by `_id`."""
        doc = {**delivery.model_dump(mode="python", exclude={"id"}), "_id": delivery.id, "outbox": outbox_docs(outbox)}
        return await insert_new(self.deliveries, doc)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Claim by moving `next_attempt_at` forward with a compare-and-set; a crash mid-send frees it later."""
        claimed = []
        cursor = self.deliveries.find({"state": "pending", "next_attempt_at": {"$lte": now}}).sort(
            "next_attempt_at", 1).limit(limit)
        for doc in [d async for d in cursor]:
            result = await self.deliveries.update_one(
                {"_id": doc["_id"], "state": "pending", "next_attempt_at": doc["next_attempt_at"]},
                {"$set": {"next_attempt_at": lease_until}})
            if result.modified_count == 1:
                claimed.append(_delivery(doc))
        return claimed

    async def finish(self, delivery_id: str, changes: dict[str, Any], outbox: list[OutboxEntry]) -> None:
        """The attempt's result and its outcome events, in one write."""
        await self.deliveries.update_one({"_id": delivery_id},
                                         {"$set": changes, "$push": {"outbox": {"$each": outbox_docs(outbox)}}})

    async def mark_published(self, delivery_id: str, entry_ids: list[str]) -> None:
        """Drop published outcome events."""
        await self.outbox.mark_published(delivery_id, entry_ids)

    async def for_case(self, case_id: str) -> list[dict[str, Any]]:
        """Deliveries of a case, oldest first, without mail bodies or outbox (the read side)."""
        cursor = self.deliveries.find({"case_id": case_id}, {"mail.text": 0, "mail.html": 0, "outbox": 0}).sort(
            "created_at", 1)
        return [{**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]} async for doc in cursor]


def _delivery(doc: dict[str, Any]) -> Delivery:
    return Delivery.model_validate({**doc, "id": doc["_id"]})
