"""Intake restarted with an oversized event left in a case's outbox: it gets ready, the event is dead-lettered,
the event queued behind it is published (it used to stop the relay and keep /health at 503 for ever)."""

from __future__ import annotations

import json
import time

import pytest
from pymongo import MongoClient

from shared.runtime.outbox import OutboxEntry
from shared.settings import Topics
from tests.support.env import service_env
from tests.support.kafka_io import TopicReader
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration


def entry(topic: str, n: int, pad: int) -> dict:
    payload = json.dumps({"specversion": "1.0", "id": f"ev-{n}", "source": "/services/intake", "type": "case.updated",
                          "subject": "BIG-1", "data": {"pad": "p" * pad}})
    return OutboxEntry(id=f"ev-{n}", topic=topic, key="BIG-1", payload=payload).model_dump()


async def test_a_restart_with_an_oversized_event_in_an_outbox_gets_ready_and_relays_the_rest(settings, topics,
                                                                                             tmp_path):
    client: MongoClient = MongoClient(settings.mongodb_url)
    cases = client[f"{settings.mongodb_database}_intake"]["cases"]
    too_big = settings.limits.record_bytes + 500_000  # as a 600 KB command once made a 1.5 MB event
    cases.insert_one({"_id": "BIG-1", "version": 1, "applied": [], "history_pending": [],
                      "outbox": [entry(topics.case_events, 1, too_big), entry(topics.case_events, 2, 10)]})
    proc = ServiceProcess("intake", service_env(settings), tmp_path / "intake.log")
    proc.start()  # waits for /readyz: the start-up sweep did not fail the start-up
    try:
        async with TopicReader(settings.kafka_bootstrap_servers, topics.case_events,
                               Topics.dlq(topics.case_events)) as reader:
            await reader.wait_for(lambda rs: {r.topic for r in rs} == {topics.case_events,
                                                                        Topics.dlq(topics.case_events)}, 60)
        published = [json.loads(r.value)["id"] for r in reader.records if r.topic == topics.case_events]
        dead = [dict(r.headers)["dlq-entry-id"].decode() for r in reader.records if r.topic != topics.case_events]
        assert published == ["ev-2"] and dead == ["ev-1"]
        deadline = time.monotonic() + 30
        while cases.find_one({"_id": "BIG-1"})["outbox"] and time.monotonic() < deadline:
            time.sleep(0.2)  # the marks are written in bulk a moment after publishing
        assert cases.find_one({"_id": "BIG-1"})["outbox"] == []
        assert "outbox.entry_dead_lettered" in proc.log()
    finally:
        proc.stop()
        client.close()
