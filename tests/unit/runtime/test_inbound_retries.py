"""The consumer's retry paths: malformed records inside the failure counter, a dead-letter write that fails,
and a failure that rewinds only its own partition."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.errors import ServerSelectionTimeoutError
from structlog.testing import capture_logs

from shared.runtime import consumer, partitions
from shared.runtime.consumer import MAX_FAILURES, DeadLetterFailed, _BatchHandler, _RecordHandler
from shared.runtime.inbound import Malformed
from shared.runtime.partitions import Cursor, Rewind, Stop, plan, settle_commits
from tests.support.kafka_io import command


@dataclass
class Record:
    """The fields of an aiokafka ConsumerRecord the consumer reads."""

    value: bytes
    topic: str = "t"
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"C-1"


class Broker:
    """Collects what is dead-lettered; fails the first `failures` writes."""

    def __init__(self, failures: int = 0) -> None:
        self.published: list[tuple[bytes, str]] = []
        self.failures = failures

    async def publish(self, body: bytes, *, topic: str, **_: object) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("dead-letter topic refuses writes")
        self.published.append((body, topic))


async def never(_event) -> str:
    raise AssertionError("a malformed record never reaches the handler")


BAD_COMMAND = Record(json.dumps({**command("case.update", "C-1", {}, id_="cmd-1"), "data": "text"}).encode())


async def test_a_refusal_that_keeps_failing_is_dead_lettered_like_any_failure():
    broker, calls = Broker(), []

    async def refuse(bad: Malformed) -> None:
        calls.append(bad.command_id)
        raise ValueError("refusal store bug")

    handler = _RecordHandler(broker, never, refuse, commands=True)  # type: ignore[arg-type]
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(ValueError):
            await handler(BAD_COMMAND)
    await handler(BAD_COMMAND)
    assert calls == ["cmd-1"] * MAX_FAILURES and broker.published == [(BAD_COMMAND.value, "t.dlq")]


async def test_a_refusal_during_a_store_outage_waits_without_limit():
    async def refuse(_bad: Malformed) -> None:
        raise ServerSelectionTimeoutError("store unreachable")

    broker = Broker()
    handler = _RecordHandler(broker, never, refuse, commands=True)  # type: ignore[arg-type]
    for _ in range(MAX_FAILURES * 2):
        with pytest.raises(ServerSelectionTimeoutError):
            await handler(BAD_COMMAND)
    assert broker.published == []


async def test_a_failing_dead_letter_write_is_retried_with_growing_pauses_and_an_alert():
    broker = Broker(failures=8)
    handler = _RecordHandler(broker, never, None)  # type: ignore[arg-type]
    record = Record(b"[" * 3000)
    pauses = []
    with capture_logs() as logs:
        for _ in range(8):
            with pytest.raises(DeadLetterFailed):
                await handler(record)
            pauses.append(handler.pause(record))
        await handler(record)
    alerts = [e for e in logs if e["event"] == "dead_letter.publish_failed"]
    assert [a["attempt"] for a in alerts] == list(range(1, 9)) and all(a["log_level"] == "error" for a in alerts)
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert broker.published == [(record.value, "t.dlq")] and handler.pause(record) == consumer.RETRY_PAUSE


def test_a_failure_rewinds_only_its_partition_to_its_first_unhandled_record():
    records = [Record(b"", partition=p, offset=o, key=k) for p, o, k in
               [(0, 10, b"A"), (0, 11, b"B"), (0, 12, b"A"), (0, 13, b"B"), (1, 5, b"C"), (1, 6, b"C")]]
    stops = [Stop(records[2], ValueError(), 2.0), Stop(records[0], ValueError(), 1.0)]
    commits, rewinds = plan(records, stops)  # type: ignore[arg-type]
    assert commits == {TopicPartition("t", 0): 10, TopicPartition("t", 1): 7}
    assert rewinds == {TopicPartition("t", 0): Rewind(10, 2.0)}


class Consumer(AIOKafkaConsumer):
    """Records what the batch handler asks of aiokafka (never connects)."""

    def __init__(self) -> None:  # noqa: D107  # no super(): nothing to connect to
        self.commits: list[dict] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.paused_: list[TopicPartition] = []

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", 0), TopicPartition("t", 1)}

    async def commit(self, offsets=None) -> None:
        self.commits.append(offsets)

    def seek(self, partition, offset) -> None:
        self.seeks.append((partition, offset))

    def pause(self, *partitions) -> None:
        self.paused_.extend(partitions)

    def resume(self, *partitions) -> None:
        for p in partitions:
            self.paused_.remove(p)


async def test_a_batch_commits_every_partition_and_rewinds_and_pauses_only_the_failing_one(monkeypatch):
    monkeypatch.setattr(partitions, "_draining", False)  # restored after: settle_commits below sets it
    handled = []

    async def handle(event) -> str:
        if event.subject == "BAD":
            raise ValueError("bug")
        handled.append(event.subject)
        return "ok"

    def rec(partition: int, offset: int, subject: str) -> Record:
        return Record(json.dumps(command("case.update", subject, {})).encode(), partition=partition, offset=offset,
                      key=subject.encode())

    batch = [rec(0, 3, "A"), rec(0, 4, "BAD"), rec(0, 5, "A"), rec(0, 6, "BAD"), rec(1, 8, "C")]
    kafka = Consumer()
    await _BatchHandler(_RecordHandler(Broker(), handle, None))(batch, Cursor(kafka))  # type: ignore[arg-type]
    assert handled == ["A", "A", "C"]
    await settle_commits()  # the commit went out in the background
    assert kafka.commits == [{TopicPartition("t", 0): 4, TopicPartition("t", 1): 9}]
    assert kafka.seeks == [(TopicPartition("t", 0), 4)] and kafka.paused_ == [TopicPartition("t", 0)]
