"""Property: whatever the bytes, every topic of every service gives each record one outcome, and its key moves on.

Generated records (random bytes, JSON of any shape, envelopes with wrong-typed attributes or random data, and
the nasty set: lone surrogates, NUL, deep nesting, oversize) go through `subscribe` and each service's real
handler wiring on FastStream's in-memory broker. Each one is handled, refused (a rejection record) or
dead-lettered, nothing escapes the consumer, and a valid record on the same key afterwards is handled.
"""

from __future__ import annotations

from shared.principals import ingress_topic  # commands arrive on the sender's own topic

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from faststream.kafka import KafkaBroker, TestKafkaBroker
from hypothesis import HealthCheck, given, settings, strategies as st

from shared.settings import Limits
from tests.support.capture import as_bytes, capture
from tests.support.kafka_io import command

# Tight limits, so that generated records reach every limit too.
LIMITS = Limits(record_bytes=16_384, command_bytes=6_000, text_chars=300, list_items=30, json_depth=10)
ACTOR = {"id": "mary", "roles": ["sales_rep"]}
OUTCOMES = {"message.handled", "message.rejected_malformed", "message.dead_lettered"}
Valid = Callable[[str], dict]


def case_event(type_: str, case_id: str, **data: Any) -> dict:
    """A case event as intake writes it."""
    body = {"case_id": case_id, "case_type": "claim", "gbu": "marine", "account_id": "ACC-1001", "status": "new",
            "version": 1, "actor": {"id": "carl", "roles": ["customer_service"]}, **data}
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/services/intake", "type": type_,
            "subject": case_id, "time": "2026-11-25T10:00:00Z", "data": body}


def opened(case_id: str) -> dict:
    return case_event("case.opened", case_id, cause="commercial", case={
        "id": case_id, "case_type": "claim", "gbu": "marine", "account_id": "ACC-1001", "status": "new",
        "subject": "s", "account": {"name": "Nordlys", "owner": "seller.ingrid", "country": "NO"}, "assignee": None,
        "queue": None, "fields": {}, "team": [], "created_at": "2026-11-25T10:00:00Z",
        "created_by": {"id": "mary", "roles": ["sales_rep"]}})


def case_open(case_id: str) -> dict:
    return command("case.open", case_id, {"case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001",
                                          "subject": "Custom packaging", "fields": {"request_type": "documentation"},
                                          "actor": ACTOR})


def decide(case_id: str) -> dict:
    return command("approval.decide", case_id, {"case_id": case_id, "step": "pre_approval", "decision": "approve",
                                                "comment": "ok", "actor": {"id": "john", "roles": []}})


def requested(case_id: str) -> dict:
    return {**case_event("approval.requested", case_id), "source": "/services/approval", "data": {
        "case_id": case_id, "approval_id": f"ap-{case_id}", "step": "pre_approval", "approver": "john",
        "link": "https://approvals.example.com/approvals/t", "token": "t", "case_type": "csr"}}


def handover(case_id: str) -> dict:
    return command("routing.handover", case_id, {"actor": {"id": "ada", "roles": ["admin"]}, "from_person": "a.b",
                                                 "to_person": "c.d"})


@dataclass(repr=False)
class Harness:
    """One service on the in-memory broker: the topics it consumes (with a valid record for each) and its outputs."""

    broker: Any
    topics: dict[str, Valid]
    seen: dict[str, list[Any]] = field(default_factory=dict)


def outputs(broker: KafkaBroker, rejections: str, consumed: list[str]) -> dict[str, list[Any]]:
    return capture(broker, {"rejections": rejections, **{f"dlq:{t}": (f"{t}.dlq", as_bytes) for t in consumed}})


@asynccontextmanager
async def intake() -> AsyncIterator[Harness]:
    from intake.inject import register
    from shared.runtime.marks import PublishedMarks
    from shared.settings import Settings
    from tests.support.memory_store import MemoryCaseStore

    s = Settings(service_name="intake", topic_prefix="fz.", limits=LIMITS)
    broker = KafkaBroker()
    register(broker, s, MemoryCaseStore(), PublishedMarks())
    seen = outputs(broker, s.topics.case_rejections, [ingress_topic(s.topics.case_commands, "crm")])
    async with TestKafkaBroker(broker) as test_broker:
        yield Harness(test_broker, {ingress_topic(s.topics.case_commands, "crm"): case_open}, seen)


@asynccontextmanager
async def approval() -> AsyncIterator[Harness]:
    from approval.inject import register
    from approval.settings import ApprovalSettings
    from tests.handlers.approval.memory_store import MemoryApprovalStore

    s = ApprovalSettings(service_name="approval", topic_prefix="fz.", limits=LIMITS)
    broker = KafkaBroker()
    register(broker, s, MemoryApprovalStore())
    consumed = {s.topics.case_events: opened, ingress_topic(s.topics.approval_commands, "crm"): decide}
    seen = outputs(broker, s.topics.case_rejections, list(consumed))
    async with TestKafkaBroker(broker) as test_broker:
        yield Harness(test_broker, consumed, seen)


@asynccontextmanager
async def routing() -> AsyncIterator[Harness]:
    from routing.inject import put_file_rules_in_force, register
    from routing.settings import RoutingSettings
    from shared.directory import load_directory
    from tests.handlers.routing.memory_store import MemoryRoutingStore

    s = RoutingSettings(service_name="routing", topic_prefix="fz.", limits=LIMITS)
    store = MemoryRoutingStore()
    await put_file_rules_in_force(store, load_directory(), None)
    broker = KafkaBroker()
    register(broker, s, store)
    consumed = {s.topics.case_events: opened, ingress_topic(s.routing_commands_topic, "crm"): handover}
    seen = outputs(broker, s.topics.case_rejections, list(consumed))
    async with TestKafkaBroker(broker) as test_broker:
        yield Harness(test_broker, consumed, seen)


@asynccontextmanager
async def portal_sync() -> AsyncIterator[Harness]:
    from portal_sync.adapters.outbound.lifecycles import known_statuses
    from portal_sync.core import DEFAULT_MAPPING
    from portal_sync.inject import register
    from shared.settings import Settings
    from tests.handlers.portal_sync.memory_store import MemoryProjectionStore

    s = Settings(service_name="portal-sync", topic_prefix="fz.", limits=LIMITS)
    store = MemoryProjectionStore()
    await store.activate_first(DEFAULT_MAPPING.read_text(), 1)
    broker = KafkaBroker()
    register(broker, s, store, known_statuses())
    seen = outputs(broker, s.topics.case_rejections, [s.topics.case_events])
    async with TestKafkaBroker(broker) as test_broker:
        yield Harness(test_broker, {s.topics.case_events: opened}, seen)


@asynccontextmanager
async def notifier() -> AsyncIterator[Harness]:
    from notifier.inject import register
    from notifier.settings import NotifierSettings
    from tests.handlers.notifier.memory_store import FakeSender, MemoryNotifierStore
    from shared.runtime.marks import PublishedMarks

    s = NotifierSettings(service_name="notifier", topic_prefix="fz.", limits=LIMITS)
    broker = KafkaBroker()
    register(broker, s, MemoryNotifierStore(), FakeSender(), PublishedMarks())
    consumed = {s.topics.case_events: opened, s.topics.approval_events: requested}
    seen = outputs(broker, s.topics.case_rejections, list(consumed))
    async with TestKafkaBroker(broker) as test_broker:
        yield Harness(test_broker, consumed, seen)


SERVICES = {"intake": intake, "approval": approval, "routing": routing, "portal-sync": portal_sync,
            "notifier": notifier}


@pytest.fixture(params=list(SERVICES), scope="module")
async def harness(request) -> AsyncIterator[Harness]:
    async with SERVICES[request.param]() as h:
        yield h


# --- what is generated ----------------------------------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates and NUL included
TEXT = st.one_of(st.text(ANY_CHAR, max_size=20), st.sampled_from(["", "\ud800", "a\x00b", "x" * 400, "CASE-1"]))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                    st.dictionaries(TEXT, inner, max_size=6)), max_leaves=30)
ATTRIBUTES = ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema",
              "correlationid", "data"]
NASTY = [b"[" * 3000 + b"]" * 3000, b"{" * 3000, b"\x00", b"\xff\xfe\xfd", b"", b"null", b"[]", b'"x"',
         b'{"id": NaN}', b"1" * 5000, b'{"data": ' + b"[" * 50 + b"]" * 50 + b"}"]


def _dump(doc: Any, ascii_only: bool) -> bytes:
    # Not ASCII-escaped, a lone surrogate is written as the bytes UTF-8 forbids.
    return json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def records(draw: st.DrawFn, valid: dict) -> bytes:
    """One record's value: bytes of any kind, or the valid envelope of its topic spoilt somewhere."""
    kind = draw(st.sampled_from(["bytes", "json", "attributes", "data", "nasty", "oversize"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "nasty":
        return draw(st.sampled_from(NASTY))
    doc = json.loads(json.dumps(valid))
    if kind == "json":
        doc = draw(JSON)
    elif kind == "attributes":
        doc.update(draw(st.dictionaries(st.sampled_from(ATTRIBUTES), JSON, min_size=1, max_size=3)))
    elif kind == "data":
        doc["data"].update(draw(st.dictionaries(st.sampled_from([*doc["data"], "actor", "x"]), JSON, min_size=1,
                                                max_size=3)))
    else:
        doc["data"]["padding"] = "p" * draw(st.integers(min_value=250, max_value=300)) * draw(
            st.integers(min_value=1, max_value=80))
    return _dump(doc, draw(st.booleans()))


async def outcome_of(broker: Any, topic: str, value: bytes, key: bytes | None) -> list[dict]:
    """Publish one record; the outcome log entries of the consumer (it must not raise)."""
    with structlog.testing.capture_logs() as logs:
        await broker.publish(value, topic, key=key)
    return logs


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_every_record_gets_one_outcome_and_its_key_moves_on(harness: Harness, data: st.DataObject):
    topic = data.draw(st.sampled_from(sorted(harness.topics)), label="topic")
    valid = harness.topics[topic]
    value = data.draw(records(valid(f"FZ-{uuid.uuid4().hex[:8]}")), label="value")
    key = data.draw(st.one_of(st.none(), st.just(b"FZ-1"), st.binary(max_size=12)), label="key")
    before = {name: len(bucket) for name, bucket in harness.seen.items()}

    logs = await outcome_of(harness.broker, topic, value, key)
    outcomes = [e for e in logs if e["event"] in OUTCOMES]
    assert len(outcomes) == 1, [e["event"] for e in logs]
    grew = {name for name, bucket in harness.seen.items() if len(bucket) > before[name]}
    if outcomes[0]["event"] == "message.dead_lettered":
        assert f"dlq:{topic}" in grew
        assert harness.seen[f"dlq:{topic}"][-1] == value[:len(harness.seen[f"dlq:{topic}"][-1])]
    elif outcomes[0]["event"] == "message.rejected_malformed":
        refused = {r["data"]["command_id"] for r in harness.seen["rejections"]}  # once per id: may be an old one
        assert outcomes[0]["command_id"] in refused

    follow_up = valid(f"FZ-{uuid.uuid4().hex[:8]}")
    logs = await outcome_of(harness.broker, topic, json.dumps(follow_up).encode(), key)
    handled = [e for e in logs if e["event"] == "message.handled"]
    assert [e.get("message_id") for e in handled] == [follow_up["id"]], [e["event"] for e in logs]


async def test_each_valid_record_is_handled(harness: Harness):
    for topic, valid in harness.topics.items():
        message = valid(f"FZ-{uuid.uuid4().hex[:8]}")
        logs = await outcome_of(harness.broker, topic, json.dumps(message).encode(), message["subject"].encode())
        assert [e["event"] for e in logs if e["event"] in OUTCOMES] == ["message.handled"]
