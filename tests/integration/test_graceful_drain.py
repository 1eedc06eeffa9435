"""SIGTERM intake in the middle of a burst: it finishes what it holds, flushes, commits, then closes the store.

Proven from outside: no error about a closed client in its log; right after it exits, no outbox entry is
left in the store and the committed offsets cover exactly the commands that have an outcome; after a
restart every command has exactly one outcome (event or rejection).
"""

from __future__ import annotations

from tests.support import credentials  # the test broker's principals
from tests.support.journey import principal_for

import json
import re
import uuid
from collections import Counter

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from tests.support.env import service_env
from tests.support.kafka_io import Producer, TopicReader, command
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

ACTOR = {"id": "hank", "roles": ["helpdesk_agent"]}
# Enough for several batches of the unit of work (200 records each), so SIGTERM lands mid-burst.
CASES, UPDATES, STRAYS = 200, 5, 20
# What a store or producer used after close looks like (PyMongo, aiokafka, FastStream), and any failure
# of a record while draining.
CLOSED = re.compile(r"after close|InvalidOperation|ProducerClosed|ConsumerStoppedError|closed|"
                    r"message\.(failed_will_retry|outage_will_retry|dead_lettered)|Traceback", re.IGNORECASE)


def burst() -> list[dict]:
    """Opens and updates per case (events), plus updates of cases that do not exist (rejections)."""
    run = uuid.uuid4().hex[:6]
    commands = []
    for n in range(CASES):
        case_id = f"D-{run}-{n}"
        commands.append(command("case.open", case_id, {
            "case_type": "helpdesk", "gbu": "lighting", "account_id": "ACC-1001",
            "subject": f"Lamp {n} flickers", "actor": ACTOR}))  # one sender per case: ingress topics keep order per sender only
        commands += [command("case.update", case_id, {"description": f"note {u}", "actor": ACTOR})
                     for u in range(UPDATES)]
    commands += [command("case.update", f"NOPE-{run}-{n}", {"description": "x", "actor": ACTOR})
                 for n in range(STRAYS)]
    return commands


def outcome_of(envelope: dict) -> str:
    """The command an event or a rejection answers."""
    return envelope.get("causationid") or envelope["data"]["command_id"]


async def committed(bootstrap: str, group: str, topic: str) -> int:
    """How many records of `topic` the group has committed, all partitions together."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **credentials.options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if isinstance(tp, TopicPartition) and tp.topic == topic
               and meta.offset > 0)


async def left_in_outboxes(url: str, database: str) -> int:
    """Outbox entries still in intake's store (cases, refusals, accounts)."""
    client: AsyncMongoClient = AsyncMongoClient(url)
    try:
        db = client[database]
        total = 0
        for name in ("cases", "refusals", "accounts"):
            async for doc in db[name].find({"outbox.0": {"$exists": True}}, {"outbox": 1}):
                total += len(doc["outbox"])
        return total
    finally:
        await client.close()


async def test_sigterm_mid_burst_drains_flushes_commits_then_closes(settings, topics, tmp_path):
    commands = burst()
    log_file = tmp_path / "intake.log"
    proc = ServiceProcess("intake", service_env(settings, SHUTDOWN_GRACE_SECONDS="20"), log_file)
    try:
        async with TopicReader(settings.kafka_bootstrap_servers, topics.case_events, topics.case_rejections) as reader:
            # The whole burst waits before intake starts: a batch takes up to 200 records at once, and
            # intake kept up with a sender sending one by one, so SIGTERM found nothing left to drain.
            async with Producer(settings.kafka_bootstrap_servers) as producer:
                for cmd in commands:
                    await producer.send(topics.sent_by(principal_for(cmd["data"]["actor"]["id"])).case_commands, cmd)
            proc.start()
            await reader.wait_for(lambda rs: len(rs) >= len(commands) // 5, timeout=60)
            before_term = len(log_file.read_text())
            proc.stop(timeout=60)  # SIGTERM, and wait for the drain
            drain_log = log_file.read_text()[before_term:]
            await reader.quiet(3.0)
            answered = {outcome_of(json.loads(r.value)) for r in reader.records}
            assert len(answered) < len(commands), "SIGTERM came after the burst was done: nothing to prove"
            assert proc.returncode != -9, "the drain overran the stop timeout and was killed"
            bad = [line[:300] for line in drain_log.splitlines() if CLOSED.search(line)]
            assert bad == [], bad[:5]
            assert await left_in_outboxes(settings.mongodb_url, settings.database) == 0
            assert sum([await committed(settings.kafka_bootstrap_servers, settings.group_id,
                                        topics.sent_by(principal).case_commands)
                        for principal in ("webform", "crm")]) == len(answered)

            proc.start()
            await reader.wait_for(lambda rs: len({outcome_of(json.loads(r.value)) for r in rs}) >= len(commands),
                                  timeout=120)
            await reader.quiet(3.0)
    finally:
        proc.stop()
    unique = {e["id"]: e for e in (json.loads(r.value) for r in reader.records)}
    per_command = Counter(outcome_of(e) for e in unique.values())
    assert set(per_command) == {c["id"] for c in commands}
    assert set(per_command.values()) == {1}, [c for c, n in per_command.items() if n > 1][:3]
    rejected = [e for e in unique.values() if e["type"] == "case.command_rejected"]
    assert {e["subject"] for e in rejected} == {c["subject"] for c in commands if c["subject"].startswith("NOPE-")}
    print(f"answered before SIGTERM completed: {len(answered)} of {len(commands)}")
