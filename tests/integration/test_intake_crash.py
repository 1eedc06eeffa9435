"""Kill intake (SIGKILL) in the middle of a command stream: after restart every event is there exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest

from tests.support.env import service_env
from tests.support.journey import principal_for
from tests.support.kafka_io import Producer, TopicReader, command
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

ACTOR = {"id": "hank", "roles": ["helpdesk_agent"]}
CASES, UPDATES = 40, 5


def stream() -> list[dict]:
    """One open and several updates per case; all keyed by case, so each case stays ordered."""
    commands = []
    run = uuid.uuid4().hex[:6]
    for n in range(CASES):
        case_id = f"K-{run}-{n}"
        commands.append(command("case.open", case_id, {
            "case_type": "helpdesk", "gbu": "lighting", "account_id": "ACC-1001",
            "subject": f"Lamp {n} flickers", "actor": ACTOR}))  # one sender per case: ingress topics keep order per sender only
        for u in range(UPDATES):
            commands.append(command("case.update", case_id, {"description": f"note {u}", "actor": ACTOR}))
    return commands


async def test_sigkill_mid_stream_loses_and_duplicates_nothing(settings, topics, tmp_path):
    commands = stream()
    proc = ServiceProcess("intake", service_env(settings), tmp_path / "intake.log").start()
    try:
        async with TopicReader(settings.kafka_bootstrap_servers, topics.case_events, topics.case_rejections) as reader:
            async with Producer(settings.kafka_bootstrap_servers) as producer:
                for cmd in commands:
                    await producer.send(topics.sent_by(principal_for(cmd["data"]["actor"]["id"])).case_commands, cmd)
            # Kill while the stream is being worked on, not before and not after.
            await reader.wait_for(lambda rs: len(rs) >= len(commands) // 5, timeout=60)
            proc.kill()
            seen_at_kill = len(reader.records)
            assert seen_at_kill < len(commands), "the kill came too late to prove anything"
            await asyncio.sleep(1)
            proc.start()
            ids = lambda rs: {json.loads(r.value)["id"] for r in rs}  # noqa: E731
            await reader.wait_for(lambda rs: len(ids(rs)) >= len(commands), timeout=120)
            await reader.quiet(3.0)
    finally:
        proc.stop()
    envelopes = [json.loads(r.value) for r in reader.records]
    unique = {e["id"]: e for e in envelopes}
    rejected = [e for e in unique.values() if e["type"] == "case.command_rejected"]
    assert rejected == [], rejected[:3]
    # Exactly one effect per command: event ids derive from the command, so a re-applied command would show
    # a second distinct id with the same cause; a re-published one only repeats the same id.
    per_command = Counter(e["causationid"] for e in unique.values())
    assert set(per_command) == {c["id"] for c in commands}
    assert set(per_command.values()) == {1}
    for case_id in {c["subject"] for c in commands}:
        versions = sorted(e["data"]["version"] for e in unique.values() if e["subject"] == case_id)
        assert versions == list(range(1, UPDATES + 2))
    print(f"events seen at kill: {seen_at_kill}; republished duplicates: {len(envelopes) - len(unique)}")
