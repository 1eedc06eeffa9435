"""What the dispatcher keeps in memory so that most rounds need no store query: the deliveries this process
planned (inserted already leased to it), and when it must next look at the store itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from notifier.core.delivery import Delivery

HANDED_MAX = 10_000  # a bound on memory (each holds its rendered mail); beyond it, the sweep claims them later


class Handed:
    """Deliveries inserted leased to this process, oldest first, to be sent under that lease without a claim.

    One is sent only while at least half its lease is left, so its send ends well inside the lease, as a
    claimed one's does; an older one (or one beyond HANDED_MAX) is dropped and passed to `leave`: the store
    still has it pending, and the sweep claims it once its lease has run out. So a delivery is never sent
    from here after a claim could have taken it.
    """

    def __init__(self, lease_seconds: float, leave: Callable[[Delivery], None]) -> None:
        self._waiting: dict[str, Delivery] = {}  # by id, oldest first (a dict keeps insertion order); queued once
        self._fresh = timedelta(seconds=lease_seconds / 2)
        self._leave = leave

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, deliveries: Sequence[Delivery]) -> bool:
        """Queue the pending ones (a skipped delivery has nothing to send); whether any was queued."""
        queued = False
        for d in deliveries:
            if d.state != "pending" or d.next_attempt_at is None or d.id in self._waiting:
                continue
            if len(self._waiting) >= HANDED_MAX:
                self._leave(d)
                continue
            self._waiting[d.id] = d
            queued = True
        return queued

    def take(self, limit: int, now: datetime) -> list[tuple[Delivery, datetime]]:
        """Up to `limit` of the oldest, each with its lease (`next_attempt_at`), which has half of it still to go."""
        taken: list[tuple[Delivery, datetime]] = []
        while self._waiting and len(taken) < limit:
            d = self._waiting.pop(next(iter(self._waiting)))
            lease = d.next_attempt_at
            assert lease is not None  # put() queues only leased ones
            if lease - self._fresh < now:
                self._leave(d)
            else:
                taken.append((d, lease))
        return taken

    def forget(self, ids: Iterable[str]) -> None:
        """Drop these: a claim has just taken them (its lease is the one that counts now)."""
        for did in ids:
            self._waiting.pop(did, None)


class Schedule:
    """When the dispatcher must next look at the store: the earliest due time it knows of, or the safety sweep.

    The known due time is what its last `next_due` query said, lowered by every retry it scheduled itself and
    every handed delivery it left to the sweep; the sweep comes `sweep_seconds` after that query, for what
    others wrote (another replica's work, a crash's leftovers). Until the first look, a look is due.
    """

    def __init__(self, sweep_seconds: float) -> None:
        self._sweep = timedelta(seconds=sweep_seconds)
        self.next_look: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Whether a round now must claim from the store (else it sends only what was handed off)."""
        return self.next_look is None or self.next_look <= now

    def looked(self, at: datetime, next_due: datetime | None) -> None:
        """The store was asked at `at`, and said the earliest pending delivery falls due at `next_due`."""
        self.next_look = at + self._sweep if next_due is None else min(at + self._sweep, next_due)

    def expect(self, at: datetime) -> None:
        """A delivery falls due at `at` (a retry, or a handed one left to the sweep): look then at the latest."""
        if self.next_look is not None and at < self.next_look:
            self.next_look = at
