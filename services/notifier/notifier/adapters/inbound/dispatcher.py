"""The sender loop: takes due deliveries, sends each on its own, records the round's outcomes with their events.

It sleeps until the next delivery falls due, or until the consumer wakes it for new ones (no polling);
a round's outcomes are written in one statement, compare-and-set on the lease it claimed them with; their
events go to the broker together and are marked published in bulk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from opentelemetry.trace import SpanKind

from notifier.core.delivery import AttemptResult, Delivery, attempt_result, next_attempt
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


@dataclass(frozen=True)
class _Tried:
    """One attempt: the result to write, then the log line (and metric) it gets once written."""

    result: AttemptResult
    level: str
    event: str
    counter: Any
    fields: dict[str, Any]


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
        if not due:
            return 0
        tried = await asyncio.gather(*(self._attempt(d, lease) for d in due))
        # One write for the round; a delivery whose lease ran out meanwhile belongs to the replica that claimed
        # it since: ours is not written, and its events are not published (that replica records its own).
        lost = await self._store.finish_many(lease, [t.result for t in tried])
        for t in tried:
            self._report(t, lost=t.result.delivery_id in lost)
        await self._publish([(t.result.delivery_id, t.result.entries) for t in tried
                             if t.result.entries and t.result.delivery_id not in lost])
        return len(due)

    async def drain(self) -> datetime | None:
        """Send what is due, again and again while a full batch came back (a backlog, e.g. after an outage);
        when the next delivery falls due (the loop sleeps until then, or until woken)."""
        while await self.run_once() >= self._policy.concurrency:
            pass
        return await self._store.next_due()

    async def _attempt(self, d: Delivery, lease: datetime) -> _Tried:
        """Send one delivery in the trace of the event that planned it (its outcome events carry that span)."""
        assert d.mail
        with tracing.span("mail send", d.traceparent, kind=SpanKind.CLIENT,
                          attributes={"mail.message_id": d.mail.message_id, "notifier.delivery_id": d.id}):
            return await self._try(d, lease)

    async def _try(self, d: Delivery, lease: datetime) -> _Tried:
        """Send one delivery; its result and outcome events, to be written with the round's."""
        assert d.mail
        attempts = d.attempts + 1
        try:
            await self._sender.send(d.mail)
        except Unreachable as exc:
            return self._retry(d, lease, attempts, str(exc), counts=False)
        except SendError as exc:
            if exc.permanent:
                return self._fail(d, lease, attempts, str(exc), permanent=True)
            return self._retry(d, lease, attempts, str(exc), counts=True)
        except Exception as exc:  # unexpected: treat as a temporary failure of this message
            return self._retry(d, lease, attempts, f"{type(exc).__name__}: {exc}", counts=True)
        metrics.MAILS_SENT.labels(metrics.service()).inc()  # the server accepted it, whatever the write finds
        now = self._clock()
        result = attempt_result(d, lease, sent_entries(self._topics, d, attempts, now), state="sent",
                                attempts=attempts, finished_at=now, last_error=None)
        return _Tried(result, "info", "notification.sent", None,
                      dict(delivery_id=d.id, recipient=d.recipient, case_id=d.case_id, attempts=attempts))

    def _retry(self, d: Delivery, lease: datetime, attempts: int, error: str, counts: bool) -> _Tried:
        strikes = d.strikes + (1 if counts else 0)
        if strikes >= self._policy.max_attempts:
            return self._fail(d, lease, attempts, error, permanent=False, strikes=strikes)
        at = next_attempt(attempts, self._policy.base_seconds, self._policy.max_seconds, self._clock())
        result = attempt_result(d, lease, [], attempts=attempts, strikes=strikes, next_attempt_at=at,
                                last_error=error)
        counter = metrics.MAIL_RETRIES.labels(metrics.service(), "temporary" if counts else "unreachable")
        return _Tried(result, "warning", "notification.retry_scheduled", counter,
                      dict(delivery_id=d.id, recipient=d.recipient, error=error, attempts=attempts,
                           next_attempt_at=at.isoformat()))

    def _fail(self, d: Delivery, lease: datetime, attempts: int, error: str, permanent: bool,
              strikes: int | None = None) -> _Tried:
        now = self._clock()
        entries = failed_entries(self._topics, d, attempts, error, permanent, now)
        result = attempt_result(d, lease, entries, state="failed", attempts=attempts,
                                strikes=strikes or d.strikes + 1, finished_at=now, last_error=error)
        return _Tried(result, "error", "notification.failed",
                      metrics.MAILS_FAILED.labels(metrics.service(), "true" if permanent else "false"),
                      dict(delivery_id=d.id, recipient=d.recipient, error=error, attempts=attempts, permanent=permanent))

    def _report(self, t: _Tried, lost: bool) -> None:
        """The attempt's log line and metric once its result is written; a lost lease is a warning instead."""
        if lost:
            self._log.warning("notification.lease_lost", outcome=t.event, **t.fields)
            return
        getattr(self._log, t.level)(t.event, **t.fields)
        if t.counter is not None:
            t.counter.inc()

    async def _publish(self, done: list[tuple[str, list[OutboxEntry]]]) -> None:
        """The round's outcome events together, acknowledged once, then marked in bulk; a crash before the
        marks are written leaves them to the relay, which sends them again under the same ids."""
        if done:
            await self._publisher.publish_many([e for _, entries in done for e in entries])
            for did, entries in done:
                self._marks.add(self._store.delivery_outbox, did, [e.id for e in entries])
