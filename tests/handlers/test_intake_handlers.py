"""Intake's subscriber on FastStream's in-memory broker, with an in-memory store."""

from __future__ import annotations

from shared.principals import ingress_topic  # commands arrive on the sender's own topic

import json
import uuid

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from intake.inject import register
from shared.runtime.marks import PublishedMarks
from shared.settings import Settings
from tests.support.capture import capture
from tests.support.kafka_io import command
from tests.support.memory_store import MemoryCaseStore

ACTOR = {"id": "mary", "roles": ["sales_rep"]}
ADMIN = {"id": "ada", "roles": ["admin"]}  # account.upsert needs a directory role (account_admin, admin)
OPEN = {"case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001",
        "subject": "Custom packaging", "fields": {"request_type": "documentation"}, "actor": ACTOR}


@pytest.fixture
def settings() -> Settings:
    return Settings(service_name="intake", topic_prefix="h.")


@pytest.fixture
def store() -> MemoryCaseStore:
    return MemoryCaseStore()


@pytest.fixture
def marks() -> PublishedMarks:
    return PublishedMarks()


@pytest.fixture
async def harness(settings, store, marks):
    broker = KafkaBroker()
    register(broker, settings, store, marks)
    topics = settings.topics
    seen = capture(broker, {"events": topics.case_events, "rejections": topics.case_rejections,
                            "dlq": (topics.dlq(ingress_topic(topics.case_commands, "crm")), lambda body: {"raw": body})})
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, seen


async def send(broker, settings, message: dict | bytes, key: str = "k") -> None:
    raw = message if isinstance(message, bytes) else json.dumps(message).encode()
    await broker.publish(raw, ingress_topic(settings.topics.case_commands, "crm"), key=key.encode())


async def test_open_publishes_opened_with_version_and_causation(harness, settings, store, marks):
    broker, seen = harness
    cmd = command("case.open", "CASE-1", OPEN)
    await send(broker, settings, cmd)
    (opened,) = [e for e in seen["events"] if e["type"] == "case.opened"]
    assert opened["subject"] == "CASE-1" and opened["data"]["version"] == 1
    assert opened["causationid"] == cmd["id"]
    assert [e.id for e in store.cases["CASE-1"]["outbox"]] == [opened["id"]]  # published, mark pending
    await marks.flush()
    assert store.cases["CASE-1"]["outbox"] == []


async def test_redelivered_command_publishes_nothing_new(harness, settings):
    broker, seen = harness
    cmd = command("case.open", "CASE-2", OPEN)
    await send(broker, settings, cmd)
    await send(broker, settings, cmd)
    assert len([e for e in seen["events"] if e["type"] == "case.opened"]) == 1


async def test_refused_command_yields_one_rejection_even_when_redelivered(harness, settings):
    broker, seen = harness
    cmd = command("case.update", "NOPE", {"description": "x", "actor": ACTOR})
    await send(broker, settings, cmd)
    await send(broker, settings, cmd)
    assert [r["data"]["code"] for r in seen["rejections"]] == ["not_found"]
    assert seen["rejections"][0]["data"]["command_id"] == cmd["id"]


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"[1,2]", b'{"type": "case.open"}'])
async def test_unreadable_records_are_dead_lettered_and_the_consumer_goes_on(harness, settings, raw):
    broker, seen = harness
    await send(broker, settings, raw)
    await send(broker, settings, command("case.open", f"C-{uuid.uuid4().hex[:6]}", OPEN))
    assert len(seen["dlq"]) == 1 and seen["dlq"][0]["raw"] == raw
    assert [e["type"] for e in seen["events"]][:1] == ["case.opened"]


async def test_schema_violation_with_ids_is_rejected_as_invalid(harness, settings):
    broker, seen = harness
    await send(broker, settings, {"id": "cmd-9", "subject": "C-9", "type": "case.open", "source": ""})
    (rejection,) = seen["rejections"]
    assert rejection["data"]["code"] == "invalid" and rejection["data"]["command_id"] == "cmd-9"
    assert "source" in rejection["data"]["reason"]


async def test_account_upsert_then_open_fills_account_details(harness, settings, store, marks):
    broker, seen = harness
    account = {"account_id": "ACC-77", "name": "Nordic Yards", "customer_classification": "A - Key account",
               "sap_codes": {"sold_to": "100077"}, "owner": "sam", "country": "NO", "actor": ADMIN}
    await send(broker, settings, command("account.upsert", "ACC-77", account))
    await send(broker, settings, command("case.open", "CSR-1", {**OPEN, "case_type": "csr", "account_id": "ACC-77",
                                                                  "fields": {"requirement_category": "packaging"}}))
    assert store.accounts_by_id["ACC-77"]["name"] == "Nordic Yards"
    (upserted,) = [e for e in seen["events"] if e["type"] == "account.upserted"]
    assert upserted["subject"] == "ACC-77" and upserted["data"]["owner"] == "sam"
    await marks.flush()
    assert store.account_outboxes["ACC-77"] == []
    case = store.cases["CSR-1"]["case"]
    assert "100077" in json.dumps(case) and "A - Key account" in json.dumps(case)


async def test_a_resent_account_upsert_does_not_undo_a_newer_one(harness, settings, store, marks):
    broker, seen = harness
    entry = {"account_id": "ACC-78", "name": "Old name", "actor": ADMIN}
    first = command("account.upsert", "ACC-78", entry)
    await send(broker, settings, first, key="ACC-78")
    await send(broker, settings, command("account.upsert", "ACC-78", {**entry, "name": "New name"}), key="ACC-78")
    await marks.flush()
    await send(broker, settings, first, key="ACC-78")  # its producer sends it again, later
    assert store.accounts_by_id["ACC-78"]["name"] == "New name"
    assert [e["data"]["name"] for e in seen["events"] if e["type"] == "account.upserted"] == ["Old name", "New name"]


async def test_a_command_that_would_grow_a_case_past_case_bytes_is_refused_too_large(store, marks):
    from shared.settings import Limits

    settings = Settings(service_name="intake", topic_prefix="h.", limits=Limits(case_bytes=4000))
    broker = KafkaBroker()
    register(broker, settings, store, marks)
    seen = capture(broker, {"events": settings.topics.case_events, "rejections": settings.topics.case_rejections})
    async with TestKafkaBroker(broker) as test_broker:
        await send(test_broker, settings, command("case.open", "CASE-BIG", OPEN))
        small = command("case.update", "CASE-BIG", {"description": "short", "actor": ACTOR})
        big = command("case.update", "CASE-BIG", {"description": "x" * 4000, "actor": ACTOR})
        await send(test_broker, settings, small)
        await send(test_broker, settings, big)
    assert [e["type"] for e in seen["events"]] == ["case.opened", "case.updated"]
    (refused,) = seen["rejections"]
    assert refused["data"]["command_id"] == big["id"] and refused["data"]["code"] == "too_large"
    assert "over the limit of 4000 bytes" in refused["data"]["reason"]
