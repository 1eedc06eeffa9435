"""Offset commits go out in the background, in order per consumer, and the drain waits for them."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from shared.runtime import partitions
from shared.runtime.partitions import Cursor, settle_commits

TP = TopicPartition("t", 0)


class SlowConsumer:
    """Answers each commit after a pause; records the order they land in."""

    def __init__(self, fail_first: bool = False) -> None:
        self.landed: list[int] = []
        self.fail_first = fail_first

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.sleep(0.05 if offsets[TP] == 1 else 0.001)  # the first is the slowest
        if self.fail_first:
            self.fail_first = False
            raise CommitFailedError("rebalanced")
        self.landed.append(offsets[TP])


async def test_a_batch_does_not_wait_for_its_commit_but_commits_land_in_order(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)
    consumer = SlowConsumer()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for offset in (1, 2, 3):
        await Cursor(consumer).commit({TP: offset})
    assert loop.time() - started < 0.04 and consumer.landed == []  # none awaited by its batch
    await settle_commits()
    assert consumer.landed == [1, 2, 3]
    await Cursor(consumer).commit({TP: 4})  # draining: awaited by its batch
    assert consumer.landed == [1, 2, 3, 4]


async def test_a_failed_commit_is_logged_and_the_next_one_still_lands(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)
    consumer = SlowConsumer(fail_first=True)
    await Cursor(consumer).commit({TP: 1})
    await Cursor(consumer).commit({TP: 2})
    await settle_commits()
    assert consumer.landed == [2]
