"""A dispatcher round against the real store: its outcomes (sent, retried, failed) go in one update statement,
compare-and-set on the lease it claimed them with; a delivery another replica claimed since is left alone."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, monitoring

from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy
from notifier.adapters.outbound.mongo_store import MongoNotifierStore
from notifier.core.casefile import CaseFile
from notifier.core.delivery import Delivery, Mail
from notifier.ports.sender import SendError
from notifier.settings import NotifierSettings
from shared.runtime.marks import PublishedMarks
from shared.runtime.unit_of_work import Change
from tests.handlers.notifier.memory_store import FakeSender

pytestmark = pytest.mark.integration

PEOPLE = ("frank", "john", "peter", "zoe")


class Statements(monitoring.CommandListener):
    """The update statements sent to the store: (collection, how many updates the command carried)."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, int]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "update":
            self.updates.append((event.command["update"], len(event.command["updates"])))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class Recorder:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.entries: list = []

    async def publish_many(self, entries: list) -> None:
        self.entries.extend(entries)


@pytest.fixture
async def store_and_statements(settings):
    listener = Statements()
    client = AsyncMongoClient(settings.mongodb_url, tz_aware=True, journal=True, event_listeners=[listener])
    db = client[f"{settings.mongodb_database}_round_{uuid.uuid4().hex[:6]}"]
    store = MongoNotifierStore(db)
    await store.ensure_indexes()
    now = datetime.now(UTC) - timedelta(seconds=1)
    await store.save([Change("CSR-R1", None, CaseFile(case_id="CSR-R1"), ["ev"], [], [[Delivery(
        id=who, event_id="e", event_type="approval.requested", case_id="CSR-R1", recipient=who, role="approver",
        template="approval_requested", created_at=now, next_attempt_at=now,
        mail=Mail(to=f"{who}@example.com", subject="s", text="t", html="h", message_id=f"<{who}@x>"))
        for who in PEOPLE]])])
    yield store, listener
    await client.drop_database(db.name)
    await client.close()


async def test_a_round_writes_every_outcome_in_one_statement_and_a_lost_lease_is_left_alone(store_and_statements):
    store, listener = store_and_statements
    other_lease = datetime(2100, 1, 1, tzinfo=UTC)

    class SlowSender(FakeSender):
        async def send(self, mail: Mail) -> None:
            if mail.to == "zoe@example.com":  # so slow that another replica claimed it after the lease ran out
                await store.deliveries.update_one({"_id": "zoe"}, {"$set": {"next_attempt_at": other_lease}})
            await super().send(mail)

    sender, publisher = SlowSender(), Recorder()
    sender.failures = {"john@example.com": [SendError("451 try later")],
                       "peter@example.com": [SendError("550 no such user", permanent=True)]}
    dispatcher = Dispatcher(store, sender, publisher, NotifierSettings().topics,  # type: ignore[arg-type]
                            RetryPolicy(max_attempts=3, lease_seconds=60), PublishedMarks())
    listener.updates.clear()
    assert await dispatcher.run_once() == 4
    zoe_moved = 1  # the test's own update_one, standing in for the other replica's claim
    # one statement claims the round, one writes all its outcomes (sent, retried and failed alike)
    assert listener.updates == [("deliveries", 1)] * (2 + zoe_moved)
    docs = {d["_id"]: d async for d in store.deliveries.find()}
    assert {k: d["state"] for k, d in docs.items()} == {"frank": "sent", "john": "pending", "peter": "failed",
                                                         "zoe": "pending"}
    assert (docs["john"]["attempts"], docs["john"]["strikes"], docs["john"]["last_error"]) == (1, 1, "451 try later")
    assert docs["john"]["next_attempt_at"] < docs["frank"]["next_attempt_at"]
    assert isinstance(docs["frank"]["finished_at"], datetime) and docs["frank"]["last_error"] is None
    assert [len(docs[k]["outbox"]) for k in PEOPLE] == [1, 0, 2, 0]
    zoe = docs["zoe"]
    assert (zoe["attempts"], zoe["outbox"], zoe["next_attempt_at"]) == (0, [], other_lease)  # the other's to record
    told = sorted(json.loads(e.payload)["data"]["recipient"] for e in publisher.entries)
    assert told == ["frank", "peter", "peter"]
