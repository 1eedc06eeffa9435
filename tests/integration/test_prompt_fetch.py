"""Against the real broker: a batch takes what waited behind its first fetched record (shared/runtime/prompt_fetch.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka.subscriber.usecase import BatchSubscriber

from shared.runtime import prompt_fetch
from shared.runtime.prompt_fetch import PromptBatchSubscriber
from shared.settings import Settings
from tests.support import credentials

KEY = b"CASE-1"  # one key: one partition, in order


async def _second_batch(settings: Settings, get_msg) -> list[bytes]:  # noqa: ANN001
    """Take a first batch; let one record be fetched behind it, two more wait on the broker; the next batch."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, **credentials.options())
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                fetch_max_wait_ms=500, **credentials.options())
    topic = settings.topics.case_events
    subscriber = SimpleNamespace(batch_timeout_ms=3000, max_records=200)
    await producer.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end now, so the records below are read
            await consumer.position(tp)
        await producer.send_and_wait(topic, b"first", key=KEY)
        assert [r.value for r in await get_msg(subscriber, consumer)] == [b"first"]
        await producer.send_and_wait(topic, b"b", key=KEY)
        await asyncio.sleep(0.5)  # the fetch sent when "first" was taken comes back with "b" alone
        for value in (b"c", b"d"):
            await producer.send_and_wait(topic, value, key=KEY)
        await asyncio.sleep(0.2)
        return [r.value for r in await get_msg(subscriber, consumer)]
    finally:
        await consumer.stop()
        await producer.stop()


async def test_without_the_follow_up_the_records_that_waited_on_the_broker_miss_the_batch(settings: Settings):
    """The behaviour the follow-up poll is for (if aiokafka changes it, this says so)."""
    assert await _second_batch(settings, BatchSubscriber.get_msg) == [b"b"]


async def test_the_follow_up_poll_brings_them_into_the_same_batch(settings: Settings, monkeypatch):
    monkeypatch.setattr(prompt_fetch, "FOLLOW_UP_MS", 2000)  # generous on a loaded machine; returns at once anyway
    got = await _second_batch(settings, PromptBatchSubscriber.get_msg)
    assert got == [b"b", b"c", b"d"]
