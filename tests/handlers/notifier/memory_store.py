"""In-memory NotifierStore and a fake MailSender for handler tests (same contract as the real ones)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from notifier.core.casefile import CaseFile
from notifier.core.delivery import Delivery, Mail
from notifier.ports.sender import SendError
from notifier.ports.store import StoredFile
from shared.runtime.outbox import OutboxEntry


class MemoryNotifierStore:
    """Dicts instead of collections; compare-and-set like the Mongo adapter."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[str, dict[str, Any]] = {}

    async def case_file(self, case_id: str) -> StoredFile | None:
        doc = self.files.get(case_id)
        return None if doc is None else StoredFile(CaseFile.model_validate(doc["file"]), doc["rev"], list(doc["applied"]))

    async def save_case_file(self, file: CaseFile, expected_rev: int, event_id: str) -> bool:
        doc = self.files.get(file.case_id)
        if (doc["rev"] if doc else 0) != expected_rev:
            return False
        applied = (doc["applied"] if doc else []) + [event_id]
        self.files[file.case_id] = {"file": file.model_dump(mode="json"), "rev": expected_rev + 1, "applied": applied}
        return True

    async def delivery(self, delivery_id: str) -> tuple[Delivery, list[OutboxEntry]] | None:
        doc = self.deliveries.get(delivery_id)
        return None if doc is None else (Delivery.model_validate(doc), list(doc["outbox"]))

    async def add_delivery(self, delivery: Delivery, outbox: list[OutboxEntry]) -> bool:
        if delivery.id in self.deliveries:
            return False
        self.deliveries[delivery.id] = {**delivery.model_dump(), "outbox": list(outbox)}
        return True

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        due = sorted((d for d in self.deliveries.values() if d["state"] == "pending" and d["next_attempt_at"] <= now),
                     key=lambda d: d["next_attempt_at"])[:limit]
        claimed = [Delivery.model_validate(copy.deepcopy(d)) for d in due]
        for d in due:
            d["next_attempt_at"] = lease_until
        return claimed

    async def finish(self, delivery_id: str, changes: dict[str, Any], outbox: list[OutboxEntry]) -> None:
        doc = self.deliveries[delivery_id]
        doc.update(copy.deepcopy(changes))
        doc["outbox"] = doc["outbox"] + list(outbox)

    async def mark_published(self, delivery_id: str, entry_ids: list[str]) -> None:
        doc = self.deliveries[delivery_id]
        doc["outbox"] = [e for e in doc["outbox"] if e.id not in entry_ids]

    def states(self) -> dict[str, str]:
        """recipient@event_type -> state, for assertions."""
        return {f"{d['recipient']}@{d['event_type']}": d["state"] for d in self.deliveries.values()}


class FakeSender:
    """Records accepted mails; `failures[address]` is a list of errors raised on the next sends to it."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.failures: dict[str, list[SendError]] = {}
        self.tries: list[str] = []

    async def send(self, mail: Mail) -> None:
        self.tries.append(mail.to)
        queue = self.failures.get(mail.to)
        if queue:
            raise queue.pop(0)
        self.sent.append(mail)
