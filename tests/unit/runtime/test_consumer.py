"""The record handler of shared.runtime.consumer: a failing record is dead-lettered, an outage is waited out."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from shared.runtime.consumer import MAX_FAILURES, _RecordHandler
from tests.support.kafka_io import command


@dataclass
class Record:
    """The fields of an aiokafka ConsumerRecord the handler reads."""

    value: bytes
    topic: str = "t"
    partition: int = 0
    offset: int = 7
    key: bytes = b"C-1"


class Broker:
    """Collects what is dead-lettered."""

    def __init__(self) -> None:
        self.published: list[tuple[bytes, str]] = []

    async def publish(self, body: bytes, *, topic: str, **_: object) -> None:
        self.published.append((body, topic))


def failing(exc: Exception):
    calls = []

    async def handle(event) -> str:
        calls.append(event.id)
        raise exc

    return handle, calls


RECORD = Record(json.dumps(command("case.update", "C-1", {})).encode())


async def test_a_record_that_keeps_failing_is_dead_lettered_on_its_last_try():
    broker = Broker()
    handle, calls = failing(ValueError("bug"))
    handler = _RecordHandler(broker, handle, None)  # type: ignore[arg-type]
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(ValueError):
            await handler(RECORD)
    assert broker.published == []
    await handler(RECORD)
    assert broker.published == [(RECORD.value, "t.dlq")] and len(calls) == MAX_FAILURES


async def test_a_store_outage_pauses_the_record_instead_of_dead_lettering_it():
    broker = Broker()
    handle, calls = failing(ServerSelectionTimeoutError("store unreachable"))
    handler = _RecordHandler(broker, handle, None)  # type: ignore[arg-type]
    for _ in range(MAX_FAILURES * 3):
        with pytest.raises(ServerSelectionTimeoutError):
            await handler(RECORD)
    assert broker.published == [] and len(calls) == MAX_FAILURES * 3
