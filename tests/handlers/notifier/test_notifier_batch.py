"""The notifier's batch path: one load and one save per batch, a lost compare-and-set redone from fresh state."""

from __future__ import annotations

import pytest

from notifier.core.render import Renderer
from notifier.core.subscriptions import load_subscriptions
from notifier.service import Links, NotifierService
from shared.contract.envelope import CloudEvent
from shared.runtime.marks import PublishedMarks
from shared.runtime.people import FollowedDirectory
from shared.runtime.unit_of_work import Message
from shared.settings import Topics
from tests.handlers.notifier.memory_store import MemoryNotifierStore
from tests.handlers.notifier.test_notifier_handlers import OPENED, REQUESTED, case_event, envelope, token_for


class Publisher:
    """Keeps what the unit of work publishes, and how many calls it took."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def publish_many(self, entries) -> None:
        self.calls.append([e.id for e in entries])


def on(case_id: str, event: dict) -> Message:
    data = {**event["data"], "case_id": case_id}
    if "case" in data:
        data["case"] = {**data["case"], "id": case_id}
    if data.get("token"):  # a token names its case
        data["token"] = token_for(data["approver"], case_id)
    return Message(CloudEvent.model_validate({**envelope(event["type"], data, subject=case_id)}))


@pytest.fixture
def service_of():
    def make(store: MemoryNotifierStore, handed: list) -> tuple[NotifierService, Publisher]:
        renderer, publisher = Renderer(), Publisher()
        store.handoff = handed.extend  # what the store hands to the dispatcher
        service = NotifierService(store, publisher, Topics(prefix="b."), load_subscriptions(None, renderer.names()),
                                  renderer, FollowedDirectory().directory,
                                  Links("https://crm.example.com", "example.com", "https://approvals.example.com"),
                                  PublishedMarks())
        return service, publisher
    return make


ASSIGNED = case_event("case.assigned", "under_assessment", "system:routing", 3, assignee="frank")
GHOST = envelope("approval.requested", {**REQUESTED["data"], "approver": "ghost"})


async def test_a_batch_of_several_cases_is_one_load_and_one_save(service_of):
    store, handed = MemoryNotifierStore(), []
    service, publisher = service_of(store, handed)
    batch = [on("A", OPENED), on("A", REQUESTED), on("B", OPENED), on("B", ASSIGNED), on("A", GHOST)]
    outcomes = await service.handle_many(batch)
    assert outcomes == ["planned:0", "planned:1", "planned:0", "planned:1", "planned:1"]
    assert store.loads == [["A", "B"]] and store.saves == [["A", "B"]]
    assert sorted(store.states()) == ["frank@case.assigned", "ghost@approval.requested", "john@approval.requested"]
    assert len(publisher.calls) == 1 and len(publisher.calls[0]) == 1  # the skipped ghost, once
    assert store.files["A"]["applied"] == [m.event.id for m in batch if m.key == "A"]
    assert sorted(d.recipient for d in handed) == ["frank", "ghost", "john"]  # what it inserted, in one save
    assert await service.handle_many(batch) == ["duplicate"] * len(batch)  # redelivered: nothing new
    assert len(store.deliveries) == 3 and len(store.saves) == 1 and len(handed) == 3


async def test_a_lost_compare_and_set_is_decided_again_from_fresh_state(service_of):
    store, handed = MemoryNotifierStore(), []
    service, _ = service_of(store, handed)
    # Another writer stores case A first: a file with someone else on the team, and none of our events.
    store.interfere["A"] = {"file": {"case_id": "A", "team": {"zoe": "assessor"}}, "rev": 7, "applied": [], "outbox": []}
    outcomes = await service.handle_many([on("A", OPENED), on("A", REQUESTED), on("B", OPENED)])
    assert outcomes == ["planned:0", "planned:1", "planned:0"]
    assert store.loads == [["A", "B"], ["A"]] and store.saves == [["A", "B"], ["A"]]
    file = store.files["A"]
    assert file["rev"] == 8 and file["file"]["team"] == {"zoe": "assessor"} and file["file"]["subject"] == "Labels"
    assert len(file["applied"]) == 2 and store.files["B"]["rev"] == 1
    assert sorted(store.states()) == ["john@approval.requested"]  # planned twice, stored once
    assert [d.recipient for d in handed] == ["john"]  # and handed off once
