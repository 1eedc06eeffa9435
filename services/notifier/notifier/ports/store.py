"""What the notifier needs from its store: case files and deliveries (each one single-document write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from notifier.core.casefile import CaseFile
from notifier.core.delivery import Delivery
from shared.runtime.outbox import OutboxEntry


@dataclass
class StoredFile:
    """A case file as stored: its revision (compare-and-set) and the event ids applied to it."""

    file: CaseFile
    rev: int
    applied: list[str] = field(default_factory=list)


class NotifierStore(Protocol):
    """Case files and deliveries; a delivery document holds its state and its outbox together."""

    async def case_file(self, case_id: str) -> StoredFile | None:
        """The case file, or None."""

    async def save_case_file(self, file: CaseFile, expected_rev: int, event_id: str) -> bool:
        """Write the file and record the event iff the revision matches (0 = new); False on conflict."""

    async def delivery(self, delivery_id: str) -> tuple[Delivery, list[OutboxEntry]] | None:
        """A delivery and its unpublished outcome events."""

    async def add_delivery(self, delivery: Delivery, outbox: list[OutboxEntry]) -> bool:
        """Insert a new delivery (with its outbox); False if that (event, recipient) exists already."""

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries due by `now`, each moved to `lease_until` so no one else takes it meanwhile."""

    async def finish(self, delivery_id: str, changes: dict[str, Any], outbox: list[OutboxEntry]) -> None:
        """Set the attempt's result and queue its outcome events, in one write."""

    async def mark_published(self, delivery_id: str, entry_ids: list[str]) -> None:
        """Drop published outcome events."""
