"""Planned deliveries are inserted leased to this process and handed to its dispatcher in memory: sent without a
claim or a `next_due` query; the store is looked at only when the dispatcher's schedule says so."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from structlog.testing import capture_logs

from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy
from notifier.core.delivery import Delivery, Mail, delivery_id
from notifier.inject import policy_of
from notifier.ports.sender import SendError
from notifier.settings import NotifierSettings
from shared.contract.envelope import now_utc
from shared.runtime.marks import PublishedMarks
from tests.handlers.notifier.memory_store import FakeSender, MemoryNotifierStore
from tests.handlers.notifier.test_notifier_dispatch_round import Recorder
from tests.handlers.notifier.test_notifier_handlers import (CASE, REQUESTED, harness, settings,  # noqa: F401
                                                            types)

JOHN = delivery_id(REQUESTED["id"], "john")


async def _started(harness):  # noqa: F811
    """The harness once its dispatcher's first round has looked at the store (for what a crash left)."""
    publish, dispatcher, store, sender, seen = harness
    assert await dispatcher.drain() is not None
    assert (store.claims, store.next_dues) == (1, 1)
    return harness


async def test_a_planned_delivery_is_sent_from_the_handoff_without_a_claim(harness, settings):  # noqa: F811
    publish, dispatcher, store, sender, seen = await _started(harness)
    await publish(REQUESTED)
    lease = store.deliveries[JOHN]["next_attempt_at"]
    assert lease > now_utc() + timedelta(seconds=settings.notify_lease_seconds / 2)  # inserted leased to us
    next_look = await dispatcher.drain()
    assert [m.to for m in sender.sent] == ["john@example.com"]
    assert (store.claims, store.next_dues) == (1, 1)  # neither a claim nor a next_due query
    assert store.states() == {"john@approval.requested": "sent"}  # written under the lease it was inserted with
    assert types(seen) == [("notification.sent", "john")]
    assert next_look > now_utc()  # the sweep: nothing else is known to be due


async def test_a_redelivered_event_hands_nothing_off_twice(harness):  # noqa: F811
    publish, dispatcher, store, sender, seen = await _started(harness)
    handed, hand_off = [], store.handoff
    store.handoff = lambda deliveries: (handed.extend(d.id for d in deliveries), hand_off(deliveries))
    await publish(REQUESTED)
    await dispatcher.drain()
    # As if the process had crashed after storing the delivery but before recording the event as applied:
    # the redelivery plans the same delivery again, and the store finds its id taken.
    store.files[CASE]["applied"].remove(REQUESTED["id"])
    await publish(REQUESTED)
    assert store.files[CASE]["applied"] == [REQUESTED["id"]]
    await dispatcher.drain()
    await dispatcher.run_once()  # a claim too: it was sent
    assert handed == [JOHN]
    assert sender.tries == ["john@example.com"] and types(seen) == [("notification.sent", "john")]


async def test_the_timer_path_still_claims_retries(harness):  # noqa: F811
    publish, dispatcher, store, sender, seen = await _started(harness)
    sender.failures["john@example.com"] = [SendError("451 try later")]
    await publish(REQUESTED)
    next_look = await dispatcher.drain()  # handed off, refused, a retry scheduled: no claim, no query
    retry = store.deliveries[JOHN]["next_attempt_at"]
    assert (store.claims, store.next_dues, sender.sent) == (1, 1, [])
    assert next_look == retry  # known without asking the store: it scheduled the retry itself
    await asyncio.sleep(max(0.0, (retry - now_utc()).total_seconds()) + 0.005)
    await dispatcher.drain()  # woken by its timer: claims what fell due, then asks when the next is
    assert (store.claims, store.next_dues) == (2, 2)
    assert [m.to for m in sender.sent] == ["john@example.com"] and store.states()["john@approval.requested"] == "sent"


async def test_a_crash_after_the_handoff_leaves_it_to_the_sweep_after_its_lease(harness, settings):  # noqa: F811
    publish, dispatcher, store, sender, seen = harness
    await publish(REQUESTED)  # handed to `dispatcher`, which "crashes" before its round
    restarted = Dispatcher(store, sender, Recorder(), settings.topics, policy_of(settings), PublishedMarks())
    lease_end = await restarted.drain()
    assert sender.tries == [] and lease_end == store.deliveries[JOHN]["next_attempt_at"]  # leased: nobody takes it
    await asyncio.sleep((lease_end - now_utc()).total_seconds() + 0.01)
    await restarted.drain()
    assert [m.message_id for m in sender.sent] == [store.deliveries[JOHN]["mail"]["message_id"]]


async def test_a_handed_delivery_whose_lease_is_nearly_over_is_left_to_the_sweep():
    store, sender, now = MemoryNotifierStore(), FakeSender(), now_utc()
    late = Delivery(id="d1", event_id="e", event_type="approval.requested", case_id=CASE, recipient="john",
                    role="approver", template="approval_requested", created_at=now,
                    next_attempt_at=now + timedelta(seconds=0.2),  # less than half of its 1 s lease left
                    mail=Mail(to="john@example.com", subject="s", text="t", html="h", message_id="<d1@x>"))
    await store.add_delivery(late)
    dispatcher = Dispatcher(store, sender, Recorder(), NotifierSettings().topics, RetryPolicy(lease_seconds=1),
                            PublishedMarks())
    dispatcher.hand_off([late])
    with capture_logs() as logs:
        assert await dispatcher.run_once(claim=False) == 0  # not sent from memory: its send could outlive it
    assert [e["delivery_id"] for e in logs if e["event"] == "notification.handoff_left"] == ["d1"]
    next_look = await dispatcher.drain()  # the first look: not due in the store before its lease ends
    assert sender.tries == [] and next_look == late.next_attempt_at
    await asyncio.sleep((next_look - now_utc()).total_seconds() + 0.01)
    await dispatcher.drain()
    await dispatcher.drain()
    assert sender.tries == ["john@example.com"]  # claimed once its lease ended, sent once


async def test_stopping_sends_what_was_handed_off(harness):  # noqa: F811
    publish, dispatcher, store, sender, seen = await _started(harness)
    await publish(REQUESTED)
    await dispatcher.stop()  # the consumers have drained: what is in memory goes out, not after its lease
    assert [m.to for m in sender.sent] == ["john@example.com"] and store.claims == 1
