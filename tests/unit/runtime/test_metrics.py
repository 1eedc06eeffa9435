"""shared.runtime.metrics: bounded labels, and what the consumer path, the outbox and the timer loops count."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiokafka.errors import KafkaConnectionError

from shared.contract.envelope import now_utc
from shared.runtime import metrics
from shared.runtime.consumer import _RecordHandler
from shared.runtime.marks import PublishedMarks
from shared.runtime.metrics_consumer import ConsumerMetrics
from shared.runtime.outbox import OutboxEntry, OutboxRelay
from tests.support.kafka_io import command


def value(name: str, **labels: str) -> float:
    """The sample's value (0 if absent), with this process's service label."""
    return metrics.REGISTRY.get_sample_value(name, {"service": metrics.service(), **labels}) or 0.0


@dataclass
class Record:
    """The fields of an aiokafka ConsumerRecord the handler reads."""

    value: bytes
    topic: str
    partition: int = 0
    offset: int = 7
    key: bytes = b"C-1"


class Broker:
    async def publish(self, *_: object, **__: object) -> None:  # the dead-letter topic takes everything
        pass


def test_type_labels_are_the_contracts_types_or_two_fixed_values():
    assert metrics.type_label("case.open") == "case.open"
    assert metrics.type_label("case.opened") == "case.opened" and metrics.type_label("approval.decide") == "approval.decide"
    assert metrics.type_label("CSR-123 chosen by a sender") == metrics.UNKNOWN_TYPE
    assert metrics.type_label(None) == metrics.UNREADABLE_TYPE


async def test_the_careful_path_counts_each_records_end_by_type_and_outcome():
    topic = f"t-{uuid.uuid4().hex[:8]}"
    outcomes = iter(["accepted", "rejected"])

    async def handle(_event) -> str:
        return next(outcomes)

    async def refuse(_bad) -> None:
        pass

    handler = _RecordHandler(Broker(), handle, refuse, metrics=ConsumerMetrics([topic]))  # type: ignore[arg-type]
    ok = json.dumps(command("case.update", "C-1", {})).encode()
    await handler(Record(ok, topic))
    await handler(Record(ok, topic, offset=8))
    await handler(Record(json.dumps({**command("case.update", "C-1", {}), "data": "no"}).encode(), topic, offset=9))
    await handler(Record(b"{not json", topic, offset=10))
    assert value("backbone_records_handled_total", topic=topic, type="case.update", outcome="accepted") == 1
    assert value("backbone_records_handled_total", topic=topic, type="case.update", outcome="rejected") == 1
    assert value("backbone_records_refused_total", topic=topic, type="case.update", cause="decision") == 1
    assert value("backbone_records_refused_total", topic=topic, type="case.update", cause="malformed") == 1
    assert value("backbone_records_dead_lettered_total", topic=topic, type=metrics.UNREADABLE_TYPE) == 1


def test_a_fast_path_batch_counts_each_record_and_times_it_and_the_batch():
    topic = f"t-{uuid.uuid4().hex[:8]}"
    counts = ConsumerMetrics([topic])

    @dataclass
    class Event:
        type: str

    batch = [(Record(b"", topic), Event("case.open")), (Record(b"", topic), Event("not.a.type"))]
    counts.fast_path_done(batch, ["accepted", "duplicate"], 0.02)
    counts.batch_took(0.03)
    assert value("backbone_records_handled_total", topic=topic, type="case.open", outcome="accepted") == 1
    assert value("backbone_records_handled_total", topic=topic, type="other", outcome="duplicate") == 1
    assert value("backbone_handling_seconds_count", topic=topic, scope="record") == 2
    assert value("backbone_handling_seconds_bucket", topic=topic, scope="record", le="0.025") == 2
    assert value("backbone_handling_seconds_count", topic=topic, scope="batch") == 1


class Stuck:
    """An outbox store with one old entry, which the broker never takes."""

    def __init__(self, age: float) -> None:
        event = OutboxEntry(id="e-1", topic="t", key="C-1", payload="{}", at=now_utc() - timedelta(seconds=age))
        self.entries = [("C-1", [event, event.model_copy(update={"id": "e-2", "at": now_utc()})])]

    async def pending(self, older_than, limit):
        return self.entries

    async def mark_published(self, owner_id, entry_ids):
        self.entries = []


class Down:
    async def publish(self, entries):
        raise KafkaConnectionError("broker away")


async def test_the_relay_reports_the_backlog_and_the_oldest_age_even_when_the_broker_is_away():
    relay = OutboxRelay([Stuck(age=120)], Down(), interval=60)  # type: ignore[arg-type, list-item]
    with pytest.raises(KafkaConnectionError):
        await relay.sweep()
    assert value("backbone_outbox_backlog") == 2
    assert 119 <= value("backbone_outbox_oldest_age_seconds") <= 180
    assert value("backbone_outbox_last_sweep_timestamp_seconds") > 0
    relay = OutboxRelay([Stuck(age=120)], Down(), interval=60, published={"e-1", "e-2"})  # type: ignore[arg-type, list-item]
    await relay.sweep()  # both on the broker already, marks pending: nothing waits
    assert value("backbone_outbox_backlog") == 0 and value("backbone_outbox_oldest_age_seconds") == 0


def test_marks_waiting_to_be_written_are_counted_at_scrape_time():
    marks = PublishedMarks()
    before = value("backbone_outbox_marks_pending")
    marks.add(object(), "C-1", ["a", "b"])  # type: ignore[arg-type]
    assert value("backbone_outbox_marks_pending") == before + 2
    marks.cleared(object(), "C-1", ["a"])  # type: ignore[arg-type]  # another store: nothing cleared
    marks.published.clear()
    assert value("backbone_outbox_marks_pending") == before


def test_timers_count_what_fired_and_show_how_overdue_the_earliest_is():
    kind = f"k{uuid.uuid4().hex[:6]}"
    metrics.timers_ticked(kind, 3, now_utc() + timedelta(hours=1))
    assert value("backbone_timers_fired_total", kind=kind) == 3
    assert value("backbone_timers_overdue_seconds", kind=kind) == 0
    metrics.timers_ticked(kind, 0, now_utc() - timedelta(seconds=90))  # a tick that could not fire it
    assert 89 <= value("backbone_timers_overdue_seconds", kind=kind) <= 150
    assert value("backbone_timers_next_due_timestamp_seconds", kind=kind) > 0
    metrics.timers_ticked(kind, 1, None)
    assert value("backbone_timers_overdue_seconds", kind=kind) == 0 and value("backbone_timers_fired_total", kind=kind) == 4
    assert metrics.REGISTRY.get_sample_value("backbone_timers_next_due_timestamp_seconds",
                                             {"service": metrics.service(), "kind": kind}) is None
