"""A planned delivery on the real store: inserted leased to this process and handed to its dispatcher, it is sent
and recorded without a claim (a find and an update) or a `next_due` query (a find); the mail goes out once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient, monitoring

from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy
from notifier.adapters.outbound.mongo_store import MongoNotifierStore
from notifier.core.render import Renderer
from notifier.core.subscriptions import load_subscriptions
from notifier.service import Links, NotifierService
from notifier.settings import NotifierSettings
from shared.runtime.marks import PublishedMarks
from shared.runtime.people import FollowedDirectory
from tests.handlers.notifier.memory_store import FakeSender
from tests.handlers.notifier.test_notifier_batch import on
from tests.handlers.notifier.test_notifier_dispatch_round import Recorder
from tests.handlers.notifier.test_notifier_handlers import REQUESTED

pytestmark = pytest.mark.integration


class Commands(monitoring.CommandListener):
    """The commands sent to one database: (command, collection)."""

    def __init__(self, database: str) -> None:
        self.database, self.seen = database, []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database:
            self.seen.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def store_and_commands(settings):
    name = f"{settings.mongodb_database}_handoff_{uuid.uuid4().hex[:6]}"
    listener = Commands(name)
    client = AsyncMongoClient(settings.mongodb_url, tz_aware=True, journal=True, event_listeners=[listener])
    store = MongoNotifierStore(client[name])
    await store.ensure_indexes()
    yield store, listener
    await client.drop_database(name)
    await client.close()


def notifier(store: MongoNotifierStore, handoff: bool) -> tuple[NotifierService, Dispatcher, FakeSender]:
    """The service and dispatcher of one process, wired as inject.register does; `handoff=False`: as before it,
    the delivery is inserted due at once and the dispatcher finds it by claiming."""
    renderer, publisher, sender, topics = Renderer(), Recorder(), FakeSender(), NotifierSettings().topics
    dispatcher = Dispatcher(store, sender, publisher, topics,  # type: ignore[arg-type]
                            RetryPolicy(lease_seconds=60), PublishedMarks())
    service = NotifierService(store, publisher, topics,  # type: ignore[arg-type]
                              load_subscriptions(None, renderer.names()),
                              renderer, FollowedDirectory().directory,
                              Links("https://crm.example.com", "example.com", "https://approvals.example.com"),
                              PublishedMarks(), lease_until=dispatcher.lease_until if handoff else None)
    if handoff:
        store.handoff = dispatcher.hand_off
    return service, dispatcher, sender


PLAN = [("find", "case_files"), ("insert", "deliveries"), ("insert", "case_files")]  # load, then save


async def test_a_handed_off_delivery_is_sent_once_with_fewer_store_commands(store_and_commands):
    store, commands = store_and_commands
    # As before the handoff: the consumer inserts the delivery due at once and wakes the dispatcher, which
    # claims it (find + update), records the outcome (update) and asks when the next is due (find).
    service, dispatcher, sender = notifier(store, handoff=False)
    commands.seen.clear()  # not the indexes
    await service.handle_many([on("CSR-B1", REQUESTED)])
    await dispatcher.drain()
    before = list(commands.seen)
    assert before == PLAN + [("find", "deliveries"), ("update", "deliveries"), ("update", "deliveries"),
                             ("find", "deliveries")]
    assert len(sender.sent) == 1

    service, dispatcher, sender = notifier(store, handoff=True)
    await dispatcher.drain()  # its first round looks at the store (what a crash left): nothing due
    commands.seen.clear()
    await service.handle_many([on("CSR-H1", REQUESTED)])
    doc = await store.deliveries.find_one({"case_id": "CSR-H1"})
    commands.seen.pop()  # the test's own read
    assert (doc["state"], (doc["next_attempt_at"] - datetime.now(UTC)).total_seconds() > 50) == ("pending", True)
    await dispatcher.drain()
    after = list(commands.seen)
    assert after == PLAN + [("update", "deliveries")]  # the outcome, compare-and-set on the lease it was inserted with
    print(f"store commands of one planned-and-sent delivery: before {len(before)} {before}, after {len(after)} {after}")
    assert [m.to for m in sender.sent] == ["john@example.com"]
    assert await dispatcher.run_once() == 0  # a claim finds nothing more to send
    assert [m.to for m in sender.sent] == ["john@example.com"]
    sent = await store.deliveries.find_one({"case_id": "CSR-H1"})
    assert (sent["state"], sent["attempts"], len(sent["outbox"])) == ("sent", 1, 1)
