"""GET /metrics of the intake process on the real broker and store: a few commands, one refused, two malformed."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.principals import ingress_topic
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.kafka_io import command

pytestmark = pytest.mark.integration

CR = {"request_type": "technical_information"}
APPROVE = {"decision": "approve", "approver": "john", "comment": "ok"}
Samples = dict[tuple[str, frozenset], float]


def scrape(base: str) -> Samples:
    """Every sample of GET /metrics (asked without a token), by name and labels."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as resp:
        assert resp.status == 200 and resp.headers["content-type"].startswith("text/plain")
        text = resp.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


async def eventually(base: str, ready: Callable[[Samples], bool], timeout: float = 90.0) -> Samples:
    """Scrape until `ready` holds (the consumer counts after it commits; generous under load)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = await asyncio.to_thread(scrape, base)
        if ready(samples) or time.monotonic() > deadline:
            return samples
        await asyncio.sleep(0.5)


async def test_metrics_show_handled_refused_dead_lettered_latency_and_lag(intake, wire, topics):  # noqa: F811
    j = Journey(wire, "customer_request")
    await j.ok("case.open", "carl", **opening("customer_request", CR))
    await j.ok("case.update", "carl", subject="Datasheet please", expect=("case.updated",))
    await j.no("case.record_approval", "approval", "transition_not_allowed", step="approval", **APPROVE)
    topic = ingress_topic(topics.case_commands, "crm")
    answerable = {**command("case.update", j.case_id, {"actor": {"id": "mary"}}), "data": "not an object"}
    await wire.send_to(topic, json.dumps(answerable).encode(), "crm")  # refused as malformed: it has ids
    await wire.send_to(topic, b"\x00 not an envelope", "crm")  # nothing to answer: dead-lettered

    def done(s: Samples) -> bool:
        return (total(s, "backbone_records_dead_lettered_total", topic=topic) >= 1
                and total(s, "backbone_records_refused_total", cause="malformed") >= 1)

    s = await eventually(intake.url, done)
    handled = "backbone_records_handled_total"
    assert total(s, handled, service="intake", type="case.open", outcome="accepted") == 1
    assert total(s, handled, type="case.update", outcome="accepted") == 1
    assert total(s, handled, type="case.record_approval", outcome="rejected") == 1
    refused = "backbone_records_refused_total"
    assert total(s, refused, type="case.record_approval", cause="decision") == 1
    assert total(s, refused, topic=topic, type="case.update", cause="malformed") == 1
    assert total(s, "backbone_records_dead_lettered_total", topic=topic, type="unreadable") >= 1
    assert not [ls for (n, ls) in s if n == handled and ("type", j.case_id) in ls]  # no case ids in labels

    assert total(s, "backbone_handling_seconds_count", scope="record") >= 5
    assert total(s, "backbone_handling_seconds_count", scope="batch") >= 1
    assert total(s, "backbone_handling_seconds_bucket", scope="record", le="+Inf") == total(
        s, "backbone_handling_seconds_count", scope="record")

    lag = {dict(ls)["partition"]: v for (n, ls), v in s.items() if n == "backbone_consumer_lag" and ("topic", topic) in ls}
    assert lag and all(v >= 0 for v in lag.values())  # the partitions intake fetched from
    s = await eventually(intake.url, lambda s: total(s, "backbone_consumer_lag", topic=topic) == 0)
    assert total(s, "backbone_consumer_lag", topic=topic) == 0  # everything sent was handled
    assert total(s, "backbone_faststream_received_messages_total", app_name="intake") >= 1
    assert total(s, "backbone_faststream_published_messages_total", app_name="intake",
                 destination=topics.case_events) >= 1
    assert ("backbone_outbox_marks_pending", frozenset({("service", "intake")})) in s
