"""Offset commits go out in the background, coalesced per consumer, in order; the drain sends and waits for them."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from shared.runtime import partitions
from shared.runtime.partitions import Cursor, settle_commits

TP, OTHER = TopicPartition("t", 0), TopicPartition("t", 1)


class SlowConsumer:
    """Answers each commit after a pause; records the offsets of each request, in the order they land."""

    def __init__(self, fail_first: bool = False, assigned: set[TopicPartition] | None = None) -> None:
        self.landed: list[dict[TopicPartition, int]] = []
        self.fail_first = fail_first
        self.assigned = {TP, OTHER} if assigned is None else assigned

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.sleep(0.01)
        if self.fail_first:
            self.fail_first = False
            raise CommitFailedError("rebalanced")
        self.landed.append(dict(offsets))


async def test_commits_within_the_interval_go_as_one_request_with_the_latest_offsets(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)
    monkeypatch.setattr(partitions, "COMMIT_EVERY", 0.1)
    consumer = SlowConsumer()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for offset in (1, 2, 3):
        await Cursor(consumer).commit({TP: offset})
    await Cursor(consumer).commit({OTHER: 7})
    assert loop.time() - started < 0.05 and consumer.landed == []  # none awaited by its batch
    await asyncio.sleep(0.2)
    assert consumer.landed == [{TP: 3, OTHER: 7}]
    await Cursor(consumer).commit({TP: 4})  # a later batch: its own request, after the first
    await asyncio.sleep(0.2)
    assert consumer.landed == [{TP: 3, OTHER: 7}, {TP: 4}]


async def test_the_drain_sends_what_is_pending_at_once_and_then_awaits_each_commit(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)
    monkeypatch.setattr(partitions, "COMMIT_EVERY", 60.0)  # the drain must not wait out the interval
    consumer = SlowConsumer()
    await Cursor(consumer).commit({TP: 5})
    await asyncio.wait_for(settle_commits(), timeout=2)
    assert consumer.landed == [{TP: 5}]
    await Cursor(consumer).commit({TP: 6})  # draining: sent now and awaited by its batch
    assert consumer.landed == [{TP: 5}, {TP: 6}]


async def test_a_failed_commit_is_logged_and_the_next_one_still_lands(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)
    monkeypatch.setattr(partitions, "COMMIT_EVERY", 0.01)
    consumer = SlowConsumer(fail_first=True)
    await Cursor(consumer).commit({TP: 1})
    await asyncio.sleep(0.1)
    await Cursor(consumer).commit({TP: 2})
    await settle_commits()
    assert consumer.landed == [{TP: 2}]


async def test_a_partition_lost_before_the_send_is_left_to_its_new_owner(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)
    monkeypatch.setattr(partitions, "COMMIT_EVERY", 0.05)
    consumer = SlowConsumer()
    await Cursor(consumer).commit({TP: 3, OTHER: 9})
    consumer.assigned = {TP}  # a rebalance while the commit waits
    await asyncio.sleep(0.15)
    assert consumer.landed == [{TP: 3}]


async def test_a_consumer_gone_with_its_subscriber_is_not_kept_alive_by_its_commits(monkeypatch):
    import gc
    import weakref

    monkeypatch.setattr(partitions, "_draining", False)
    monkeypatch.setattr(partitions, "COMMIT_EVERY", 0.01)
    consumer = SlowConsumer()
    await Cursor(consumer).commit({TP: 1})
    await asyncio.sleep(0.1)
    gone = weakref.ref(consumer)
    del consumer
    gc.collect()
    assert gone() is None
