"""Trace context on the envelope: round trip, malformed values ignored, spans per message, kept in the outbox."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.contract.envelope import CloudEvent, new_event
from shared.runtime import tracing
from shared.runtime.inbound import parse_envelope
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from tests.support.memory_store import MemoryRefusalBook
from tests.unit.runtime.test_unit_of_work import Counters, Sent

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE}-b7ad6b7169203331-01"
OTHER = "00-11111111111111111111111111111111-2222222222222222-01"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Tracing on for one test, its spans kept in memory (the process's global provider is left alone)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_TRACER", provider.get_tracer("test"))
    monkeypatch.setitem(tracing._state, "on", True)
    return exporter


def command(id_: str, n: int, **trace: object) -> CloudEvent:
    raw = new_event("add", f"K-{id_}", {"n": n}, source="/t", id_=id_).model_dump(mode="json") | trace
    return CloudEvent.model_validate(raw)


def decide(state: int | None, m: Message) -> Step[int]:
    """Adds n with an `added` event; refuses a negative n."""
    if m.event.data["n"] < 0:
        return Step.refused("invalid", "negative")
    event = new_event("added", m.key, {"n": m.event.data["n"]}, source="/t", cause=m.event)
    return Step("accepted", state=(state or 0) + m.event.data["n"], entries=[OutboxEntry.of("events", event)])


def uow() -> tuple[Counters, MemoryRefusalBook, UnitOfWork[int]]:
    store, refusals = Counters(), MemoryRefusalBook()
    return store, refusals, UnitOfWork(store, Sent(), PublishedMarks(), refusals=refusals,  # type: ignore[arg-type]
                                       rejections_topic="rej", source="/t")


def published(entry: OutboxEntry) -> dict:
    return json.loads(entry.payload)


def test_traceparent_and_tracestate_round_trip_on_the_envelope():
    event = command("c1", 1, traceparent=PARENT, tracestate="vendor=abc,other=1")
    again = CloudEvent.from_bytes(event.to_bytes())
    assert (again.traceparent, again.tracestate) == (PARENT, "vendor=abc,other=1")
    assert json.loads(event.to_bytes())["traceparent"] == PARENT  # a top-level extension attribute
    assert "traceparent" not in json.loads(command("c2", 1).to_bytes())  # absent, not null


@pytest.mark.parametrize("bad", ["junk", 7, ["x"], {"a": 1}, PARENT.upper(), f"00-{'0' * 32}-b7ad6b7169203331-01",
                                 f"00-{TRACE}-{'0' * 16}-01", "ff" + PARENT[2:], PARENT + "-", " " + PARENT])
def test_a_malformed_traceparent_is_ignored_never_refused(bad: object):
    raw = json.dumps({**json.loads(command("c1", 1).to_bytes()), "traceparent": bad, "tracestate": bad}).encode()
    event = parse_envelope(raw, command=True)  # read, not refused
    assert (event.traceparent, event.tracestate is None or isinstance(bad, str)) == (None, True)
    assert tracing.context_of(bad if isinstance(bad, str) else None) is None


async def test_each_message_of_a_batch_continues_its_own_trace_and_its_effects_carry_the_new_span(spans):
    store, refusals, work = uow()
    batch = [Message(command("c1", 2, traceparent=PARENT)), Message(command("c2", 3, traceparent=OTHER)),
             Message(command("c3", -1, traceparent=PARENT)), Message(command("c4", 1, traceparent="garbage"))]
    assert await work.run(batch, decide) == ["accepted", "accepted", "rejected", "accepted"]
    by_id = {s.attributes["messaging.message.id"]: s for s in spans.get_finished_spans() if s.name == "add process"}
    for cid, parent in (("c1", PARENT), ("c2", OTHER)):
        span = by_id[cid]
        assert span.parent is not None and span.parent.span_id == int(parent.split("-")[2], 16)
        [entry] = store.docs[f"K-{cid}"]["outbox"]  # the entry as stored: what the relay sends after a crash
        sent = published(entry)["traceparent"].split("-")
        assert (sent[1], sent[2]) == (f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}")
        assert sent[1] == parent.split("-")[1]
    assert by_id["c4"].parent is None  # a garbled context: a new trace, the message handled all the same
    [rejection] = refusals.docs["c3"]
    assert published(rejection)["traceparent"].split("-")[1] == TRACE  # the refusal stays in the command's trace


async def test_off_the_received_context_is_passed_on_unchanged_and_nothing_is_added():
    assert not tracing.enabled()
    store, _, work = uow()
    await work.run([Message(command("c1", 2, traceparent=PARENT, tracestate="v=1")), Message(command("c2", 1))],
                   decide)
    assert published(store.docs["K-c1"]["outbox"][0])["traceparent"] == PARENT
    assert "traceparent" not in published(store.docs["K-c2"]["outbox"][0])


def test_an_outbox_entry_keeps_the_context_through_the_store(spans):
    with tracing.span("work", PARENT):
        entry = OutboxEntry.of("events", new_event("added", "K-1", {}, source="/t"))
        inside = tracing.current_traceparent()
    stored = OutboxEntry.model_validate(entry.model_dump())  # as MongoOutbox writes and reads it
    assert published(stored)["traceparent"] == inside and inside.split("-")[1] == TRACE
    assert tracing.current_traceparent() is None  # outside the span nothing is current
    outside = OutboxEntry.of("events", new_event("added", "K-1", {}, source="/t"))
    assert "traceparent" not in published(outside)
