"""What the notifier needs from its store: case files (the unit of work's aggregates) and deliveries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from notifier.core.casefile import CaseFile
from notifier.core.delivery import AttemptResult, Delivery
from shared.runtime.marks import BulkMarkable
from shared.runtime.outbox import OutboxStore
from shared.runtime.unit_of_work import Change, Loaded


class Outbox(OutboxStore, BulkMarkable, Protocol):
    """Outbox arrays the relay sweeps and the published marks clear in bulk."""


class NotifierStore(Protocol):
    """Case files, each with the event ids applied to it and its `notification.skipped` outbox; deliveries,
    each with its state and its own outbox of `notification.sent`/`.failed` events."""

    outbox: Outbox  # the case files' (the unit of work marks there)
    delivery_outbox: Outbox  # the deliveries' (the dispatcher marks there)
    # Told, as soon as they are stored, the deliveries a `save` inserted (not those planned before): the
    # dispatcher of this process sends them from memory, without claiming them (wired in inject.py).
    handoff: Callable[[Sequence[Delivery]], None]

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[CaseFile]]:
        """The stored case files among `keys`, in one query."""

    async def save(self, changes: Sequence[Change[CaseFile]]) -> set[str]:
        """Insert the planned deliveries (the changes' notes; one already there was planned before) and hand the
        inserted ones to `handoff`, then write every case file still at its loaded revision; the case ids that
        lost the race."""

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries due by `now`, each moved to `lease_until` so no one else takes it meanwhile."""

    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery falls due (None: none pending)."""

    async def finish_many(self, results: Sequence[AttemptResult]) -> set[str]:
        """Set each attempt's result and queue its outcome events, all in one write, each only where the delivery's
        `next_attempt_at` still holds the result's `lease` (the one it was claimed, or inserted, with); the delivery
        ids whose lease was lost (another replica claimed them after it ran out: nothing was written for them)."""
