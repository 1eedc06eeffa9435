"""A dispatcher round writes its outcomes in one store write, compare-and-set on its lease; a lost lease
(another replica claimed the delivery after it ran out) writes and publishes nothing."""

from __future__ import annotations

import json

from structlog.testing import capture_logs

from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy
from notifier.core.delivery import Delivery, Mail
from notifier.ports.sender import SendError
from notifier.settings import NotifierSettings
from shared.contract.envelope import now_utc
from shared.runtime.marks import PublishedMarks
from tests.handlers.notifier.memory_store import FakeSender, MemoryNotifierStore

PEOPLE = ("frank", "john", "peter", "zoe")


class Recorder:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.entries: list = []

    async def publish_many(self, entries: list) -> None:
        self.entries.extend(entries)


async def _store() -> MemoryNotifierStore:
    store, now = MemoryNotifierStore(), now_utc()
    for who in PEOPLE:
        await store.add_delivery(Delivery(
            id=who, event_id="e", event_type="approval.requested", case_id="CSR-R1", recipient=who, role="approver",
            template="approval_requested", created_at=now, next_attempt_at=now,
            mail=Mail(to=f"{who}@example.com", subject="s", text="t", html="h", message_id=f"<{who}@x>")))
    return store


def _dispatcher(store: MemoryNotifierStore, sender: FakeSender, publisher: Recorder) -> Dispatcher:
    return Dispatcher(store, sender, publisher, NotifierSettings().topics, RetryPolicy(max_attempts=3),  # type: ignore[arg-type]
                      PublishedMarks())


async def test_a_rounds_outcomes_are_written_together_in_one_store_write():
    store, sender, publisher = await _store(), FakeSender(), Recorder()
    sender.failures = {"john@example.com": [SendError("451 try later")],
                       "peter@example.com": [SendError("550 no such user", permanent=True)]}
    assert await _dispatcher(store, sender, publisher).run_once() == 4
    assert [sorted(ids) for ids in store.finishes] == [sorted(PEOPLE)]  # one write, not one per delivery
    docs = store.deliveries
    assert {k: d["state"] for k, d in docs.items()} == {"frank": "sent", "john": "pending", "peter": "failed",
                                                         "zoe": "sent"}
    assert (docs["john"]["attempts"], docs["john"]["strikes"], docs["john"]["last_error"]) == (1, 1, "451 try later")
    assert docs["john"]["next_attempt_at"] < docs["frank"]["next_attempt_at"]  # retried soon; the others keep the lease
    assert docs["frank"]["finished_at"] and docs["frank"]["strikes"] == 0 and docs["john"]["finished_at"] is None
    assert sorted(e.id for e in publisher.entries) == sorted(e.id for d in docs.values() for e in d["outbox"])
    assert len(publisher.entries) == 4  # sent to frank and zoe, failed (and its dead letter) for peter


async def test_a_lost_lease_writes_and_publishes_nothing_for_that_delivery():
    store, publisher = await _store(), Recorder()
    other_lease = now_utc().replace(year=2100)

    class SlowSender(FakeSender):
        async def send(self, mail):
            if mail.to == "john@example.com":  # took so long that another replica claimed it meanwhile
                store.deliveries["john"]["next_attempt_at"] = other_lease
            await super().send(mail)

    sender = SlowSender()
    sender.failures = {"peter@example.com": [SendError("550 no such user", permanent=True)]}
    with capture_logs() as logs:
        await _dispatcher(store, sender, publisher).run_once()
    john = store.deliveries["john"]
    assert (john["state"], john["attempts"], john["outbox"], john["next_attempt_at"]) == ("pending", 0, [],
                                                                                          other_lease)
    told = sorted(json.loads(e.payload)["data"]["recipient"] for e in publisher.entries)
    assert told == ["frank", "peter", "peter", "zoe"]  # nothing of john's: the replica that holds it publishes
    lost = [entry for entry in logs if entry["event"] == "notification.lease_lost"]
    assert [(e["delivery_id"], e["outcome"], e["log_level"]) for e in lost] == [
        ("john", "notification.sent", "warning")]
    assert not [e for e in logs if e["event"] == "notification.sent" and e["delivery_id"] == "john"]
    assert store.states()["peter@approval.requested"] == "failed"
