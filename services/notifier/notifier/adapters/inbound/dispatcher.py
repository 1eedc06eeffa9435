"""The sender loop: takes due deliveries, sends each on its own, records the round's outcomes with their events.

Deliveries this process planned are handed to it in memory, inserted already leased to it: it sends them
without claiming them. It claims from the store only when its own schedule says so (a due time it knows
of, or the safety sweep), and sleeps until then or until a handoff wakes it (no polling); a round's
outcomes are written in one statement, each compare-and-set on its lease; their events go to the broker
together and are marked published in bulk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog
from opentelemetry.trace import SpanKind

from notifier.adapters.inbound.attempts import Attempts, RetryPolicy, Tried
from notifier.adapters.inbound.handoff import Handed, Schedule
from notifier.core.delivery import Delivery
from notifier.ports.sender import MailSender
from notifier.ports.store import NotifierStore
from shared.contract.envelope import now_utc
from shared.runtime import tracing
from shared.runtime.due_loop import DueLoop
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics

__all__ = ["Dispatcher", "RetryPolicy"]  # the policy lives with the attempts; callers know it from here


class Dispatcher:
    """Sends pending deliveries; a slow or failing one never holds up the others (each has its own schedule)."""

    def __init__(self, store: NotifierStore, sender: MailSender, publisher: Publisher, topics: Topics,
                 policy: RetryPolicy, marks: PublishedMarks, clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._policy, self._marks, self._clock = store, publisher, policy, marks, clock
        self._log = structlog.get_logger().bind(component="dispatcher")
        self._attempts = Attempts(sender, topics, policy, clock)
        self._lease = timedelta(seconds=policy.lease_seconds)
        self._schedule = Schedule(policy.sweep_seconds)
        self._handed = Handed(policy.lease_seconds, leave=self._leave)
        # Started after start-up; its first round also retries pendings a crash left behind.
        self.loop = DueLoop(self.drain, policy.sweep_seconds, "dispatcher", clock=clock)
        self.name = self.loop.name

    def lease_until(self) -> datetime:
        """The lease of a delivery planned now: it is inserted leased to this process, then handed off."""
        return self._clock() + self._lease

    def hand_off(self, deliveries: Sequence[Delivery]) -> None:
        """Deliveries the store has just inserted (each leased until its `next_attempt_at`): sent by the next round."""
        if self._handed.put(deliveries):
            self.loop.wake()

    async def start(self) -> None:
        """Start the loop (a background of the app)."""
        await self.loop.start()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop, then send what was handed off meanwhile (the consumers have drained): left in memory,
        it would wait out its lease before anyone sent it."""
        await self.loop.stop(timeout)
        try:
            while self._handed and await self.run_once(claim=False):
                pass
        except Exception as exc:  # left to the sweep once their leases end, as after a crash; the shutdown goes on
            self._log.warning("dispatcher.last_round_failed", error=str(exc))

    @property
    def running(self) -> bool:
        """True while the loop runs."""
        return self.loop.running

    async def run_once(self, claim: bool = True) -> int:
        """One round: handed-off deliveries first, then (`claim`) due ones claimed from the store, no more than
        `concurrency` in all; returns how many were tried."""
        now = self._clock()
        handed = self._handed.take(self._policy.concurrency, now)
        claimed: list[Delivery] = []
        lease = now + self._lease
        if claim and len(handed) < self._policy.concurrency:
            # Claim no more than can be sent at once: a claimed delivery left waiting for a slot could outlive
            # its lease and be claimed and sent by another replica as well.
            claimed = await self._store.claim_due(now, lease, limit=self._policy.concurrency - len(handed))
        # A claimed one is sent under the claim's lease, never also from the queue (its lease there is over).
        again = {d.id for d in claimed}
        self._handed.forget(again)
        due = [(d, leased) for d, leased in handed if d.id not in again] + [(d, lease) for d in claimed]
        if not due:
            return 0
        tried = await asyncio.gather(*(self._attempt(d, leased) for d, leased in due))
        # One write for the round; a delivery whose lease ran out meanwhile belongs to the replica that claimed
        # it since: ours is not written, and its events are not published (that replica records its own).
        lost = await self._store.finish_many([t.result for t in tried])
        for t in tried:
            self._report(t, lost=t.result.delivery_id in lost)
            if t.result.delivery_id not in lost and t.result.changes["state"] == "pending":
                self._schedule.expect(t.result.changes["next_attempt_at"])  # a retry: claimed when it falls due
        await self._publish([(t.result.delivery_id, t.result.entries) for t in tried
                             if t.result.entries and t.result.delivery_id not in lost])
        return len(due)

    async def drain(self) -> datetime | None:
        """Send what was handed off, and what is due in the store when the schedule says to look (a known due
        time reached, or the sweep), again and again while a full batch came back (a backlog, e.g. after an
        outage); when to look at the store next (the loop sleeps until then, or until a handoff wakes it).

        A round woken by a handoff only sends it: no claim (a find and an update) and no `next_due` (a find),
        as the handed deliveries are leased to us already; store round trips are the notifier's bottleneck.
        """
        look = self._schedule.due(self._clock())
        while await self.run_once(claim=look) >= self._policy.concurrency:
            pass
        if look:
            at = self._clock()
            self._schedule.looked(at, await self._store.next_due())
        return self._schedule.next_look

    def _leave(self, d: Delivery) -> None:
        """A handed delivery not sent from memory (its lease nearly over, or too many queued): claimed when it ends."""
        self._log.warning("notification.handoff_left", delivery_id=d.id, lease_until=str(d.next_attempt_at))
        if d.next_attempt_at is not None:
            self._schedule.expect(d.next_attempt_at)

    async def _attempt(self, d: Delivery, lease: datetime) -> Tried:
        """Send one delivery in the trace of the event that planned it (its outcome events carry that span)."""
        assert d.mail
        with tracing.span("mail send", d.traceparent, kind=SpanKind.CLIENT,
                          attributes={"mail.message_id": d.mail.message_id, "notifier.delivery_id": d.id}):
            return await self._attempts.send(d, lease)

    def _report(self, t: Tried, lost: bool) -> None:
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
