"""Topic creation against the real broker: idempotent, and loud when the broker refuses."""

from __future__ import annotations

from tests.support import credentials  # the test broker's principals

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.runtime.create_topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


async def test_creates_once_then_finds_them(stack):
    name = f"ct-{uuid.uuid4().hex[:8]}"
    specs = [TopicSpec(name, 3), TopicSpec(f"{name}.dlq", 1)]
    assert sorted(await ensure_topics(stack.kafka, specs, security=credentials.options())) == sorted(s.name for s in specs)
    assert await ensure_topics(stack.kafka, specs, security=credentials.options()) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka, **credentials.options())
    await admin.start()
    try:
        await admin.delete_topics([s.name for s in specs])
    finally:
        await admin.close()


async def test_a_refused_topic_is_an_error_not_a_silent_success(stack):
    with pytest.raises(RuntimeError, match="could not create topics"):
        await ensure_topics(stack.kafka, [TopicSpec(f"ct-{uuid.uuid4().hex[:8]}", 1)], replication=3, security=credentials.options())
