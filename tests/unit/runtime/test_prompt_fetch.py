"""A batch subscriber polls promptly: no sleep after an empty poll, a follow-up poll after a full one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from faststream.kafka import KafkaBroker

from shared.runtime.consumer import subscribe
from shared.runtime.prompt_fetch import FOLLOW_UP_MS, WAITED_MS, PromptBatchSubscriber, prompt


class FakeConsumer:
    """Hands out prepared polls and records how each was asked for."""

    def __init__(self, *polls: dict, first_waits: float = 0) -> None:
        self.polls, self.asked, self.first_waits = list(polls), [], first_waits

    async def getmany(self, timeout_ms: int, max_records: int | None = None) -> dict:
        self.asked.append((timeout_ms, max_records))
        if len(self.asked) == 1 and self.first_waits:
            await asyncio.sleep(self.first_waits)  # the buffer was empty: the poll waits for a fetch
        return self.polls.pop(0) if self.polls else {}


async def test_a_full_poll_is_followed_by_a_short_one_for_what_waited_behind_it():
    consumer = FakeConsumer({"p0": [1, 2], "p1": [3]}, {"p0": [4]})
    got = await PromptBatchSubscriber.get_msg(SimpleNamespace(batch_timeout_ms=25, max_records=10), consumer)
    assert got == (1, 2, 3, 4)
    assert consumer.asked == [(25, 10), (FOLLOW_UP_MS, 7)]  # only room for what the batch may still take


async def test_records_the_first_poll_waited_for_take_no_follow_up():
    # Fetched as they reached the broker: nothing waits behind them, and an idle consumer is spared a fetch.
    consumer = FakeConsumer({"p0": [1]}, {"p0": [2]}, first_waits=5 * WAITED_MS / 1000)
    got = await PromptBatchSubscriber.get_msg(SimpleNamespace(batch_timeout_ms=25, max_records=10), consumer)
    assert got == (1,) and consumer.asked == [(25, 10)]


async def test_a_batch_that_is_full_already_takes_no_follow_up():
    consumer = FakeConsumer({"p0": [1, 2]})
    assert await PromptBatchSubscriber.get_msg(SimpleNamespace(batch_timeout_ms=25, max_records=2), consumer) == (1, 2)
    assert len(consumer.asked) == 1


async def test_an_empty_poll_returns_at_once_without_faststreams_extra_sleep():
    loop = asyncio.get_running_loop()
    started = loop.time()
    got = await PromptBatchSubscriber.get_msg(SimpleNamespace(batch_timeout_ms=5000, max_records=10), FakeConsumer())
    assert got == () and loop.time() - started < 1  # the fake's poll returns at once; FastStream would sleep 5 s


def test_every_subscription_of_a_service_polls_promptly():
    broker = KafkaBroker()
    subscribe(broker, "t", "g", many=lambda messages: asyncio.sleep(0, []))
    assert broker.subscribers and all(isinstance(s, PromptBatchSubscriber) for s in broker.subscribers)
    other = broker.subscriber("plain")  # not a batch subscriber: left as it is
    assert prompt(other) is other and not isinstance(other, PromptBatchSubscriber)
