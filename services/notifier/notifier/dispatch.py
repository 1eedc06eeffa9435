"""The sender loop: takes due deliveries, sends each on its own, records the outcome with its events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from notifier.core.delivery import Delivery, next_attempt
from notifier.outcomes import failed_entries, sent_entries
from notifier.ports.sender import MailSender, SendError, Unreachable
from notifier.ports.store import NotifierStore
from shared.contract.envelope import now_utc
from shared.runtime.background import Loop
from shared.runtime.outbox import Publisher, flush
from shared.settings import Topics


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 60.0
    lease_seconds: float = 60.0
    concurrency: int = 8
    sweep_seconds: float = 1.0


class Dispatcher:
    """Sends pending deliveries; a slow or failing one never holds up the others (each has its own schedule)."""

    def __init__(self, store: NotifierStore, sender: MailSender, publisher: Publisher, topics: Topics,
                 policy: RetryPolicy, clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._sender, self._publisher, self._topics = store, sender, publisher, topics
        self._policy, self._clock = policy, clock
        self._log = structlog.get_logger().bind(component="dispatcher")
        # Started after start-up; its first sweep also retries pendings a crash left behind.
        self.loop = Loop(self.drain, policy.sweep_seconds, "dispatcher")

    def wake(self) -> None:
        """New deliveries are waiting: look now rather than at the next tick."""
        self.loop.wake()

    async def run_once(self) -> int:
        """Send every delivery due now; returns how many were tried."""
        now = self._clock()
        lease = now + timedelta(seconds=self._policy.lease_seconds)
        # Claim no more than can be sent at once: a claimed delivery left waiting for a slot could outlive
        # its lease and be claimed and sent by another replica as well.
        due = await self._store.claim_due(now, lease, limit=self._policy.concurrency)
        await asyncio.gather(*(self._attempt(d) for d in due))
        return len(due)

    async def drain(self) -> None:
        """Send what is due, again and again while a full batch came back (a backlog, e.g. after an outage)."""
        while await self.run_once() >= self._policy.concurrency:
            pass

    async def _attempt(self, d: Delivery) -> None:
        assert d.mail
        attempts = d.attempts + 1
        try:
            await self._sender.send(d.mail)
        except Unreachable as exc:
            await self._retry(d, attempts, str(exc), counts=False)
            return
        except SendError as exc:
            if exc.permanent:
                await self._fail(d, attempts, str(exc), permanent=True)
            else:
                await self._retry(d, attempts, str(exc), counts=True)
            return
        except Exception as exc:  # unexpected: treat as a temporary failure of this message
            await self._retry(d, attempts, f"{type(exc).__name__}: {exc}", counts=True)
            return
        now = self._clock()
        entries = sent_entries(self._topics, d, attempts, now)
        await self._finish(d, {"state": "sent", "attempts": attempts, "finished_at": now, "last_error": None}, entries)
        self._log.info("notification.sent", delivery_id=d.id, recipient=d.recipient, case_id=d.case_id,
                       attempts=attempts)

    async def _retry(self, d: Delivery, attempts: int, error: str, counts: bool) -> None:
        strikes = d.strikes + (1 if counts else 0)
        if strikes >= self._policy.max_attempts:
            await self._fail(d, attempts, error, permanent=False, strikes=strikes)
            return
        at = next_attempt(attempts, self._policy.base_seconds, self._policy.max_seconds, self._clock())
        await self._finish(d, {"attempts": attempts, "strikes": strikes, "next_attempt_at": at, "last_error": error}, [])
        self._log.warning("notification.retry_scheduled", delivery_id=d.id, recipient=d.recipient, error=error,
                          attempts=attempts, next_attempt_at=at.isoformat())

    async def _fail(self, d: Delivery, attempts: int, error: str, permanent: bool, strikes: int | None = None) -> None:
        now = self._clock()
        entries = failed_entries(self._topics, d, attempts, error, permanent, now)
        await self._finish(d, {"state": "failed", "attempts": attempts, "strikes": strikes or d.strikes + 1,
                               "finished_at": now, "last_error": error}, entries)
        self._log.error("notification.failed", delivery_id=d.id, recipient=d.recipient, error=error,
                        attempts=attempts, permanent=permanent)

    async def _finish(self, d: Delivery, changes: dict, entries: list) -> None:
        await self._store.finish(d.id, changes, entries)
        await flush(d.id, entries, self._publisher, self._store)
