"""The outbox against the real broker and store: a refused entry is dead-lettered, the ones behind it go out."""

from __future__ import annotations

from tests.support import credentials  # the test broker's principals

import asyncio
import json
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.runtime import mongo
from shared.runtime.app import create_broker
from shared.runtime.create_topics import TopicSpec, ensure_topics
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs
from shared.runtime.outbox import OutboxEntry, OutboxRelay, Publisher
from shared.settings import Limits, Topics
from tests.support.kafka_io import TopicReader

pytestmark = pytest.mark.integration

SMALL = Limits(record_bytes=20_000)  # a topic limit far below the producer's, so the broker is the one refusing


@pytest.fixture
async def topic(stack):
    name = f"ob-{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.kafka, [TopicSpec(name, 1), TopicSpec(Topics.dlq(name), 1)], limits=SMALL, security=credentials.options())
    yield name
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka, **credentials.options())
    await admin.start()
    try:
        await admin.delete_topics([name, Topics.dlq(name)])
    finally:
        await admin.close()


@pytest.fixture
async def outbox(settings):
    client, db = mongo.connect(settings.mongodb_url, settings.mongodb_database + "_outbox")
    store = MongoOutbox(db["owners"])
    await store.ensure_indexes()
    yield store
    await client.drop_database(db.name)
    await client.close()


@pytest.fixture
async def broker(settings):
    broker = create_broker(settings)
    await broker.start()
    yield broker
    await broker.stop()


def entry(topic: str, n: int, size: int = 0) -> OutboxEntry:
    payload = json.dumps({"id": f"e{n}", "pad": "x" * size})
    return OutboxEntry(id=f"e{n}", topic=topic, key="CASE-1", payload=payload)


async def test_entries_behind_a_refused_one_are_published_and_it_is_on_the_dead_letter(stack, topic, outbox, broker):
    over_topic = entry(topic, 2, size=60_000)  # over the topic's max.message.bytes: the broker refuses it
    over_producer = entry(topic, 4, size=1_600_000)  # over the producer's max.request.size: refused before sending
    entries = [entry(topic, 1), over_topic, entry(topic, 3), over_producer, entry(topic, 5)]
    await outbox._coll.insert_one({"_id": "CASE-1", "outbox": outbox_docs(entries)})
    relay = OutboxRelay([outbox], Publisher(broker, SMALL.record_bytes), interval=60)

    await relay.start()  # the start-up sweep: it must neither fail nor stop at the refused entries
    await relay.stop()

    async with TopicReader(stack.kafka, topic, Topics.dlq(topic)) as reader:
        await reader.wait_for(lambda rs: len(rs) >= 5)
        await reader.quiet(1.0)
    assert [json.loads(r.value)["id"] for r in reader.records if r.topic == topic] == ["e1", "e3", "e5"]
    dead = [r for r in reader.records if r.topic == Topics.dlq(topic)]
    assert len(dead) == 2
    for record, refused in zip(dead, [over_topic, over_producer]):
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["dlq-entry-id"] == refused.id and headers["dlq-original-topic"] == topic
        assert "MessageSizeTooLarge" in headers["dlq-error"] and headers["dlq-truncated"] == "true"
        assert int(headers["dlq-size"]) == len(refused.payload) and record.key == b"CASE-1"
        assert record.value == refused.payload.encode()[:SMALL.record_bytes]
    assert await outbox.pending(entries[-1].at.replace(year=2100), limit=10) == []


async def test_created_topics_carry_the_size_limit_and_min_insync_replicas(stack, topic):
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka, **credentials.options())
    await admin.start()
    try:
        configs = await _configs(admin, topic)
    finally:
        await admin.close()
    assert configs["max.message.bytes"] == str(SMALL.broker_bytes)
    assert configs["min.insync.replicas"] == "1"


async def test_an_existing_topic_below_the_size_limit_is_raised_and_keeps_its_other_configs(stack):
    name = f"ob-old-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka, **credentials.options())
    await admin.start()
    try:  # a topic from before the limits: a small max.message.bytes and an operator's retention
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": "1000",
                                                                       "retention.ms": "1234567"})])
        assert await ensure_topics(stack.kafka, [TopicSpec(name, 1)], limits=SMALL, security=credentials.options()) == []
        configs = await _configs(admin, name, until=lambda c: c.get("max.message.bytes") != "1000")
        assert configs["max.message.bytes"] == str(SMALL.broker_bytes) and configs["retention.ms"] == "1234567"
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def _configs(admin, topic: str, until=bool) -> dict[str, str]:
    for _ in range(50):  # a topic just created or altered may not be known to every part of the broker yet
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        configs = {c[0]: c[1] for c in response.resources[0][4]}
        if until(configs):
            break
        await asyncio.sleep(0.2)
    return configs
