"""With lanes, a large batch runs as units of work side by side, split by partition; small batches stay whole."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

from faststream.kafka import KafkaBroker
from hypothesis import given
from hypothesis import strategies as st

from shared.contract.envelope import CloudEvent
from shared.runtime import consumer
from shared.runtime.batch_path import LANE_MIN, FastPath, key_of, lanes_of
from shared.runtime.unit_of_work import Message

LANES = 2  # the tests' split; one lane is the default (settings `KAFKA_CLIENT__LANES`)


def record(partition: int, offset: int, key: str | None = None) -> SimpleNamespace:
    key = key or f"CASE-{partition}-{offset % 3}"
    return SimpleNamespace(topic="t", partition=partition, offset=offset, key=key.encode(), timestamp=0)


def pairs(records: list[SimpleNamespace]) -> list[tuple[SimpleNamespace, CloudEvent]]:
    return [(r, event(r)) for r in records]


def event(rec: SimpleNamespace) -> CloudEvent:
    return CloudEvent(id=f"{rec.partition}-{rec.offset}", source="/test", type="case.update", subject=rec.key.decode())


def backlog(partitions: int, each: int) -> list[SimpleNamespace]:
    return [record(p, o) for o in range(each) for p in range(partitions)]  # interleaved, as a fetch returns them


def test_a_batch_below_two_lanes_worth_stays_whole():
    batch = pairs(backlog(4, (2 * LANE_MIN - 1) // 4))
    assert lanes_of(batch, LANES) == [batch]


def test_a_backlog_splits_into_two_lanes_of_whole_partitions():
    parts = lanes_of(pairs(backlog(5, LANE_MIN)), LANES)
    assert len(parts) == 2 and all(len(p) >= LANE_MIN for p in parts)
    owners = [{r.partition for r, _ in part} for part in parts]
    assert not owners[0] & owners[1]


@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 3)), max_size=300))
def test_every_record_lands_once_and_each_partition_keeps_its_order(spec):
    records = [record(p, i, f"K{p}-{k}") for i, (p, k) in enumerate(spec)]
    parts = lanes_of(pairs(records), LANES)
    flat = [r for part in parts for r, _ in part]
    assert sorted(r.offset for r in flat) == list(range(len(records)))
    for part in parts:  # a partition lives in one part, in the order it came
        for p in {r.partition for r, _ in part}:
            assert [r.offset for r, _ in part if r.partition == p] == [r.offset for r in records if r.partition == p]
    assert len({r.partition for r, _ in parts[0]} & {r.partition for part in parts[1:] for r, _ in part}) == 0


def fast_path(many) -> FastPath:  # noqa: ANN001
    return FastPath(many, lambda rec: event(rec), lambda rec: None, lambda rec: 1.0, (ConnectionError,), lanes=LANES)


def test_one_lane_by_default_keeps_every_batch_whole():
    batch = pairs(backlog(4, LANE_MIN))
    assert lanes_of(batch) == [batch]


def test_subscriptions_take_their_lanes_from_the_settings(monkeypatch):
    seen = []

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(inspect.signature(FastPath).bind(*args, **kwargs).arguments.get("lanes"))
        return FastPath(*args, **kwargs)

    monkeypatch.setattr(consumer, "FastPath", spy)
    monkeypatch.setenv("KAFKA_CLIENT__LANES", "3")
    consumer.subscribe(KafkaBroker(), "t", "g", many=lambda messages: asyncio.sleep(0, []))
    assert seen == [3]


async def test_the_lanes_run_side_by_side():
    started, both = [], asyncio.Event()

    async def many(messages: list[Message]) -> list[str]:
        started.append(len(messages))
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 2)  # one lane alone would wait here for ever: they must overlap
        return ["accepted"] * len(messages)

    records = backlog(4, LANE_MIN)
    left, stops = await fast_path(many).run(records)
    assert left == [] and stops == [] and sorted(started) == [2 * LANE_MIN, 2 * LANE_MIN]


def failing_for_partition_0(error: Exception):  # noqa: ANN201
    """A batch handler that raises `error` for the lane holding partition 0 and accepts every other."""

    async def many(messages: list[Message]) -> list[str]:
        if any(m.event.id.startswith("0-") for m in messages):
            raise error
        return ["accepted"] * len(messages)

    return many


async def test_a_failing_lane_sends_only_its_own_keys_down_the_careful_path():
    records = backlog(4, LANE_MIN)
    left, stops = await fast_path(failing_for_partition_0(ValueError("this lane's store write failed"))).run(records)
    failed = {r.partition for r in left}
    assert stops == [] and 0 in failed and len(failed) == 2  # partition 0 and the one that shared its lane
    assert {key_of(r) for r in left} == {key_of(r) for r in records if r.partition in failed}


async def test_an_outage_in_one_lane_stops_only_its_partitions():
    records = backlog(4, LANE_MIN)
    left, stops = await fast_path(failing_for_partition_0(ConnectionError("store unreachable"))).run(records)
    assert left == [] and len(stops) == 2 and 0 in {s.record.partition for s in stops}
    assert all(s.record.offset == min(r.offset for r in records if r.partition == s.record.partition) for s in stops)
