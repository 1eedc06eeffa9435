"""The sender loop: takes due deliveries, sends each on its own, records the outcome with its events.

It sleeps until the next delivery falls due, or until the consumer wakes it for new ones (no polling);
the outcome events of a round go to the broker together and are marked published in bulk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from opentelemetry.trace import SpanKind

from notifier.core.delivery import Delivery, next_attempt
from notifier.core.outcomes import failed_entries, sent_entries
from notifier.ports.sender import MailSender, SendError, Unreachable
from notifier.ports.store import NotifierStore
from shared.contract.envelope import now_utc
from shared.runtime import metrics, tracing
from shared.runtime.due_loop import DueLoop
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 60.0
    lease_seconds: float = 60.0
    concurrency: int = 8
    sweep_seconds: float = 10.0  # the longest sleep: a safety sweep for deliveries written without a wake


class Dispatcher:
    """Sends pending deliveries; a slow or failing one never holds up the others (each has its own schedule)."""

    def __init__(self, store: NotifierStore, sender: MailSender, publisher: Publisher, topics: Topics,
                 policy: RetryPolicy, marks: PublishedMarks, clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._sender, self._publisher, self._topics = store, sender, publisher, topics
        self._policy, self._marks, self._clock = policy, marks, clock
        self._log = structlog.get_logger().bind(component="dispatcher")
        # Started after start-up; its first round also retries pendings a crash left behind.
        self.loop = DueLoop(self.drain, policy.sweep_seconds, "dispatcher", clock=clock)

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
        outcomes = await asyncio.gather(*(self._attempt(d) for d in due))
        await self._publish([(d.id, entries) for d, entries in zip(due, outcomes, strict=True) if entries])
        return len(due)

    async def drain(self) -> datetime | None:
        """Send what is due, again and again while a full batch came back (a backlog, e.g. after an outage);
        when the next delivery falls due (the loop sleeps until then, or until woken)."""
        while await self.run_once() >= self._policy.concurrency:
            pass
        return await self._store.next_due()

    async def _attempt(self, d: Delivery) -> list[OutboxEntry]:
        """Send one delivery in the trace of the event that planned it (its outcome events carry that span)."""
        assert d.mail
        with tracing.span("mail send", d.traceparent, kind=SpanKind.CLIENT,
                          attributes={"mail.message_id": d.mail.message_id, "notifier.delivery_id": d.id}):
            return await self._try(d)

    async def _try(self, d: Delivery) -> list[OutboxEntry]:
        """Send one delivery and record the outcome; its outcome events (stored with it) to publish."""
        assert d.mail
        attempts = d.attempts + 1
        try:
            await self._sender.send(d.mail)
        except Unreachable as exc:
            return await self._retry(d, attempts, str(exc), counts=False)
        except SendError as exc:
            if exc.permanent:
                return await self._fail(d, attempts, str(exc), permanent=True)
            return await self._retry(d, attempts, str(exc), counts=True)
        except Exception as exc:  # unexpected: treat as a temporary failure of this message
            return await self._retry(d, attempts, f"{type(exc).__name__}: {exc}", counts=True)
        now = self._clock()
        entries = sent_entries(self._topics, d, attempts, now)
        await self._store.finish(d.id, {"state": "sent", "attempts": attempts, "finished_at": now, "last_error": None},
                                 entries)
        metrics.MAILS_SENT.labels(metrics.service()).inc()
        self._log.info("notification.sent", delivery_id=d.id, recipient=d.recipient, case_id=d.case_id,
                       attempts=attempts)
        return entries

    async def _retry(self, d: Delivery, attempts: int, error: str, counts: bool) -> list[OutboxEntry]:
        strikes = d.strikes + (1 if counts else 0)
        if strikes >= self._policy.max_attempts:
            return await self._fail(d, attempts, error, permanent=False, strikes=strikes)
        metrics.MAIL_RETRIES.labels(metrics.service(), "temporary" if counts else "unreachable").inc()
        at = next_attempt(attempts, self._policy.base_seconds, self._policy.max_seconds, self._clock())
        await self._store.finish(d.id, {"attempts": attempts, "strikes": strikes, "next_attempt_at": at,
                                        "last_error": error}, [])
        self._log.warning("notification.retry_scheduled", delivery_id=d.id, recipient=d.recipient, error=error,
                          attempts=attempts, next_attempt_at=at.isoformat())
        return []

    async def _fail(self, d: Delivery, attempts: int, error: str, permanent: bool,
                    strikes: int | None = None) -> list[OutboxEntry]:
        now = self._clock()
        entries = failed_entries(self._topics, d, attempts, error, permanent, now)
        await self._store.finish(d.id, {"state": "failed", "attempts": attempts, "strikes": strikes or d.strikes + 1,
                                        "finished_at": now, "last_error": error}, entries)
        metrics.MAILS_FAILED.labels(metrics.service(), "true" if permanent else "false").inc()
        self._log.error("notification.failed", delivery_id=d.id, recipient=d.recipient, error=error,
                        attempts=attempts, permanent=permanent)
        return entries

    async def _publish(self, done: list[tuple[str, list[OutboxEntry]]]) -> None:
        """The round's outcome events together, acknowledged once, then marked in bulk; a crash before the
        marks are written leaves them to the relay, which sends them again under the same ids."""
        if done:
            await self._publisher.publish_many([e for _, entries in done for e in entries])
            for did, entries in done:
                self._marks.add(self._store.delivery_outbox, did, [e.id for e in entries])
