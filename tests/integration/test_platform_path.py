"""Issue 2's first path on the real broker and store: case.open in, case.opened out, bad input survived."""

from __future__ import annotations

import uuid

import pytest

from tests.support.kafka_io import Producer, TopicReader, command, of_type

pytestmark = pytest.mark.integration

ACTOR = {"id": "mary", "roles": ["sales_rep"]}


def open_data(**extra: object) -> dict:
    """A valid `case.open` payload for a customer request."""
    return {"case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001",
            "subject": "Custom packaging", "description": "Needs a printed box",
            "fields": {"request_type": "product_development"}, "actor": ACTOR, **extra}


async def test_case_open_yields_case_opened_keyed_by_case_id(intake, settings, topics):
    case_id = f"CASE-{uuid.uuid4().hex[:8]}"
    cmd = command("case.open", case_id, open_data(), correlationid="corr-1")
    async with TopicReader(settings.kafka_bootstrap_servers, topics.case_events) as reader:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            await producer.send(topics.sent_by("crm").case_commands, cmd)
        records = await reader.wait_for(lambda rs: of_type(rs, "case.opened", case_id))
    record = next(r for r in records if of_type([r], "case.opened", case_id))
    event = of_type([record], "case.opened", case_id)[0]
    assert record.key == case_id.encode()
    assert event["specversion"] == "1.0" and event["source"] == "/services/intake"
    assert event["causationid"] == cmd["id"] and event["correlationid"] == "corr-1"
    assert event["data"]["case_id"] == case_id and event["data"]["version"] == 1
    assert event["data"]["status"] == "open"


async def test_malformed_messages_are_rejected_or_dead_lettered_and_the_next_is_processed(intake, settings, topics):
    good_id = f"CASE-{uuid.uuid4().hex[:8]}"
    bad_schema = command("case.open", f"CASE-{uuid.uuid4().hex[:8]}", {"case_type": "claim", "actor": ACTOR})
    unknown_type = command("case.teleport", good_id, {"actor": ACTOR})
    watched = (topics.case_events, topics.case_rejections, topics.dlq(topics.sent_by("crm").case_commands))
    async with TopicReader(settings.kafka_bootstrap_servers, *watched) as reader:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            await producer.send(topics.sent_by("crm").case_commands, b"{not json", key=good_id)
            await producer.send(topics.sent_by("crm").case_commands, bad_schema)
            await producer.send(topics.sent_by("crm").case_commands, unknown_type)
            await producer.send(topics.sent_by("crm").case_commands, {"type": "case.open"}, key=good_id)  # no id: unreadable
            await producer.send(topics.sent_by("crm").case_commands, command("case.open", good_id, open_data()))
        await reader.wait_for(lambda rs: of_type(rs, "case.opened", good_id)
                              and len(of_type(rs, "case.command_rejected")) >= 2
                              and sum(r.topic == topics.dlq(topics.sent_by("crm").case_commands) for r in rs) >= 2)
        await reader.quiet(1.0)
    rejections = {r["data"]["command_id"]: r["data"] for r in of_type(reader.records, "case.command_rejected")}
    assert rejections[bad_schema["id"]]["code"] == "invalid"
    assert "subject" in rejections[bad_schema["id"]]["reason"]
    assert rejections[unknown_type["id"]]["code"] == "invalid"
    assert "case.teleport" in rejections[unknown_type["id"]]["reason"]
    dead = [r for r in reader.records if r.topic == topics.dlq(topics.sent_by("crm").case_commands)]
    assert len(dead) == 2
    headers = dict(dead[0].headers)
    assert b"not JSON" in headers["dlq-error"] and headers["dlq-original-topic"] == topics.sent_by("crm").case_commands.encode()


async def test_same_command_twice_yields_one_event(intake, settings, topics):
    case_id = f"CASE-{uuid.uuid4().hex[:8]}"
    cmd = command("case.open", case_id, open_data())
    async with TopicReader(settings.kafka_bootstrap_servers, topics.case_events, topics.case_rejections) as reader:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            await producer.send(topics.sent_by("crm").case_commands, cmd)
            await producer.send(topics.sent_by("crm").case_commands, cmd)
        await reader.wait_for(lambda rs: of_type(rs, "case.opened", case_id))
        await reader.quiet(2.0)
    assert len(of_type(reader.records, "case.opened", case_id)) == 1
    assert not [r for r in of_type(reader.records, "case.command_rejected") if r["subject"] == case_id]
