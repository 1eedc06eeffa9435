"""portal-sync's subscriber on FastStream's in-memory broker, with an in-memory store (HTTP: tests/handlers/test_http_portal.py)."""

from __future__ import annotations

import json

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.core import DEFAULT_MAPPING
from portal_sync.inject import register
from portal_sync.ports.store import Generation
from shared.contract.envelope import CloudEvent
from shared.runtime.marks import PublishedMarks
from shared.settings import Settings
from tests.handlers.portal_sync.memory_store import MemoryProjectionStore
from tests.support.capture import as_bytes, capture
from tests.unit.portal_sync.events import case_event, closing, message, moved, opened


@pytest.fixture
def settings() -> Settings:
    return Settings(service_name="portal-sync", topic_prefix="h.")


@pytest.fixture
async def store() -> MemoryProjectionStore:
    s = MemoryProjectionStore()
    await s.activate_first(DEFAULT_MAPPING.read_text(), 1)
    return s


@pytest.fixture
def marks() -> PublishedMarks:
    return PublishedMarks()


@pytest.fixture
async def harness(settings, store, marks):
    broker = KafkaBroker()
    register(broker, settings, store, known_statuses(), marks=marks)
    topics = settings.topics
    seen = capture(broker, {"portal": topics.portal_case_status, "commands": topics.sent_by("portal-sync").case_commands,
                            "dlq": (topics.dlq(topics.case_events), as_bytes)})
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, seen


async def send(broker, settings, event: CloudEvent | bytes) -> None:
    raw = event if isinstance(event, bytes) else event.to_bytes()
    key = b"k" if isinstance(event, bytes) else event.subject.encode()
    await broker.publish(raw, settings.topics.case_events, key=key)


def statuses(seen) -> list[tuple[str, str, int]]:
    return [(r["subject"], r["data"]["portal_status"], r["data"]["version"]) for r in seen["portal"]]


async def test_claim_journey_publishes_each_visible_change_once(harness, settings, store, marks):
    broker, seen = harness
    for event in [opened("CL-1", "claim"), moved("CL-1", "claim", "new", "in_progress", 2),
                  moved("CL-1", "claim", "in_progress", "waiting_for_feedback", 3),
                  moved("CL-1", "claim", "waiting_for_feedback", "response_received", 4),
                  *closing("CL-1", "claim", "response_received", 5, "completed")]:
        await send(broker, settings, event)
    assert statuses(seen) == [("CL-1", "In Progress", 1), ("CL-1", "Awaiting Feedback", 3),
                              ("CL-1", "In Progress", 4), ("CL-1", "Closed", 5)]
    record = seen["portal"][-1]
    assert record["type"] == "portal.case_status_changed" and record["data"]["closure_reason"] == "completed"
    assert record["data"]["portal_type"] == "Claim Case" and record["source"] == "/services/portal-sync"
    assert store.docs[1]["CL-1"].outbox != []  # published; marked in bulk a moment later
    await marks.flush()
    assert store.docs[1]["CL-1"].outbox == []


async def test_the_record_carries_the_case_content_and_a_message_republishes_it(harness, settings, store):
    broker, seen = harness
    snapshot = {"subject": "Lights arrived broken", "created_at": "2026-11-25T09:00:00Z"}
    await send(broker, settings, opened("CL-2", "claim", snapshot=snapshot))
    await send(broker, settings, moved("CL-2", "claim", "new", "waiting_for_feedback", 2))
    answer = message("CL-2", "claim", "waiting_for_feedback", 3, "Please send photos", customer=False)
    await send(broker, settings, answer)
    await send(broker, settings, answer)  # redelivered: nothing new
    await send(broker, settings, message("CL-2", "claim", "response_received", 4, "Photos attached"))
    assert statuses(seen) == [("CL-2", "In Progress", 1), ("CL-2", "Awaiting Feedback", 2),
                              ("CL-2", "Awaiting Feedback", 3), ("CL-2", "In Progress", 4)]
    last = seen["portal"][-1]["data"]
    assert (last["subject"], last["created_at"], last["messages_total"]) == (
        "Lights arrived broken", "2026-11-25T09:00:00Z", 2)
    assert [(m["from_customer"], m["author"], m["text"]) for m in last["messages"]] == [
        (False, None, "Please send photos"), (True, "cust.ola", "Photos attached")]
    assert store.docs[1]["CL-2"].state.record.model_dump(mode="json") == last  # GET shows what was published


async def test_redelivered_and_stale_events_publish_nothing(harness, settings, store):
    broker, seen = harness
    first = moved("CO-1", "change_order", "new", "waiting_for_feedback", 3)
    await send(broker, settings, opened("CO-1", "change_order"))
    await send(broker, settings, first)
    await send(broker, settings, first)
    await send(broker, settings, moved("CO-1", "change_order", "new", "in_progress", 2))  # late, older
    assert statuses(seen) == [("CO-1", "In Progress", 1), ("CO-1", "Awaiting Feedback", 3)]
    assert store.docs[1]["CO-1"].state.record.portal_status == "Awaiting Feedback"


async def test_unprojected_types_and_other_events_are_ignored(harness, settings, store):
    broker, seen = harness
    await send(broker, settings, opened("CSR-1", "csr", status="registration"))
    await send(broker, settings, CloudEvent(id="acc", source="/services/intake", type="account.upserted",
                                            subject="ACC-1", data={"account_id": "ACC-1", "name": "X"}))
    assert seen["portal"] == [] and store.docs == {}


async def test_bad_events_are_dead_lettered_and_the_consumer_goes_on(harness, settings):
    broker, seen = harness
    await send(broker, settings, b"not json")
    await send(broker, settings, CloudEvent(id="x", source="/x", type="case.opened", subject="Q-1", data={}))
    await send(broker, settings, opened("Q-2", "quotation", status="on_hold"))  # a status the mapping lacks
    await send(broker, settings, opened("Q-1", "quotation"))
    assert len(seen["dlq"]) == 3 and statuses(seen) == [("Q-1", "In Progress", 1)]


async def test_records_are_keyed_by_case_id(settings, store):
    broker = KafkaBroker()
    register(broker, settings, store, known_statuses())
    keys = []

    async def raw(msg):
        return msg.body

    @broker.subscriber(settings.topics.portal_case_status, decoder=raw)
    async def portal(body: bytes, msg: KafkaMessage) -> None:  # noqa: ARG001
        keys.append(msg.raw_message.key)

    async with TestKafkaBroker(broker) as test_broker:
        await send(test_broker, settings, opened("O-1", "order"))
    assert keys == [b"O-1"]


async def test_the_service_follows_a_switch_to_a_new_generation_and_its_mapping(harness, settings, store):
    broker, seen = harness
    await send(broker, settings, opened("Q-9", "quotation"))
    changed = DEFAULT_MAPPING.read_text().replace("version: 2", "version: 3", 1).replace(
        "awaiting_internal: In Progress", "awaiting_internal: Awaiting Feedback")
    await store.switch(Generation(2, changed, 3))  # what a rebuild does last
    await send(broker, settings, moved("Q-9", "quotation", "new", "awaiting_internal", 2))
    record = seen["portal"][-1]["data"]
    assert (record["portal_status"], record["generation"], record["mapping_version"]) == ("Awaiting Feedback", 2, 3)
    assert "Q-9" in store.docs[2]


def test_rebuild_queues_a_record_only_where_the_customer_view_changes():
    from portal_sync.core import ProjectionState, load_mapping, project, read_facts
    from portal_sync.core.rebuild import compare

    mapping, _ = load_mapping()
    state: ProjectionState = project(None, read_facts(opened("O-1", "order")), mapping, 2).state  # type: ignore[assignment]
    old_same = state.model_copy(update={"published_view": state.record.view_digest()})
    kept, changed = compare(state, old_same)
    assert not changed and kept.published_view == state.record.view_digest()
    other = state.record.model_copy(update={"subject": "Another subject"})  # any visible field counts
    now, changed = compare(state, state.model_copy(update={"published_view": other.view_digest()}))
    assert changed and now.published_view == state.record.view_digest()
    assert compare(state, None)[1]  # a case the old generation never showed


def test_rebuild_carries_forward_cases_whose_events_have_expired():
    from portal_sync.core import load_mapping, project, read_facts
    from portal_sync.core.rebuild import carry_forward

    old_mapping, _ = load_mapping()
    new_mapping = old_mapping.model_copy(deep=True)
    new_mapping.case_types["quotation"].statuses["awaiting_internal"] = "Awaiting Feedback"
    state = None
    for event in [opened("Q-1", "quotation"), moved("Q-1", "quotation", "new", "awaiting_internal", 2)]:
        state = project(state, read_facts(event), old_mapping, 1).state
    hidden = project(None, read_facts(opened("CSR-1", "csr", status="registration")), old_mapping, 1)
    assert hidden.state is None
    states: dict = {}
    carried = carry_forward({"Q-1": state}, states, new_mapping, 2)
    assert carried == 1 and states["Q-1"].record.portal_status == "Awaiting Feedback"
    assert (states["Q-1"].record.version, states["Q-1"].record.generation) == (2, 2)


async def test_a_switch_during_a_write_publishes_what_the_new_generation_says(settings, store):
    changed = DEFAULT_MAPPING.read_text().replace("version: 2", "version: 3", 1).replace(
        "waiting_for_feedback: Awaiting Feedback", "waiting_for_feedback: In Progress")

    class SwitchingStore(MemoryProjectionStore):
        async def save(self, generation, changes):  # a rebuild switches right after this write
            lost = await super().save(generation, changes)
            if generation == 1 and any(c.state.record.version == 2 for c in changes):
                await self.switch(Generation(2, changed, 3))
            return lost

    racing = SwitchingStore()
    await racing.activate_first(DEFAULT_MAPPING.read_text(), 1)
    broker = KafkaBroker()
    register(broker, settings, racing, known_statuses())
    records = []

    async def raw(msg):
        return msg.body

    @broker.subscriber(settings.topics.portal_case_status, decoder=raw)
    async def portal(body: bytes) -> None:
        records.append(json.loads(body)["data"])

    async with TestKafkaBroker(broker) as test_broker:
        await send(test_broker, settings, opened("Q-5", "quotation"))
        await send(test_broker, settings, moved("Q-5", "quotation", "new", "waiting_for_feedback", 2))
    assert [(r["portal_status"], r["generation"]) for r in records] == [("In Progress", 1), ("In Progress", 2)]
    stale = racing.docs[1]["Q-5"].outbox[-1]  # "Awaiting Feedback" computed for the old generation: never published
    assert json.loads(stale.payload)["data"]["portal_status"] == "Awaiting Feedback"
