"""`GET /metrics` on a service app (no token, Prometheus text), the lag sampled per partition, the mail counts."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families

from shared.contract.envelope import now_utc
from shared.runtime import metrics
from shared.runtime.app import create_app, create_broker
from shared.runtime.metrics_http import sample_lag
from shared.settings import Settings

NOWHERE = Settings(kafka_bootstrap_servers="127.0.0.1:9", service_name="metered")


async def test_metrics_answer_without_a_token_in_prometheus_text_format():
    app = create_app(create_broker(NOWHERE), routers=[APIRouter()], settings=NOWHERE)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {"backbone_records_handled", "backbone_handling_seconds", "backbone_consumer_lag",
            "backbone_faststream_received_messages"} <= names
    assert metrics.service() == "metered"  # create_broker named the process's service


class Lagging(AIOKafkaConsumer):
    """A consumer that was never started: two partitions fetched from, one not yet."""

    def __init__(self) -> None:
        super().__init__(bootstrap_servers="127.0.0.1:9")
        self.marks = {TopicPartition("orders", 0): (100, 60), TopicPartition("orders", 1): (5, 5),
                      TopicPartition("orders", 2): (None, 0)}

    def assignment(self):
        return set(self.marks)

    def highwater(self, partition):
        return self.marks[partition][0]

    async def position(self, partition):
        return self.marks[partition][1]


async def test_lag_is_highwater_minus_position_per_fetched_partition_and_revoked_ones_disappear():
    consumer = Lagging()
    broker = SimpleNamespace(subscribers=[SimpleNamespace(consumer=consumer), SimpleNamespace(consumer=None)])
    await sample_lag([broker])
    lag = {s.labels["partition"]: s.value for f in metrics.REGISTRY.collect() if f.name == "backbone_consumer_lag"
           for s in f.samples if s.labels["topic"] == "orders"}
    assert lag == {"0": 40, "1": 0}  # partition 2: nothing fetched yet, so no highwater known
    del consumer.marks[TopicPartition("orders", 0)]
    await sample_lag([broker])
    assert metrics.REGISTRY.get_sample_value("backbone_consumer_lag", {
        "service": metrics.service(), "topic": "orders", "partition": "0"}) is None


async def test_the_dispatcher_counts_mails_sent_failed_and_retried():
    from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy
    from notifier.core.delivery import Delivery, Mail
    from notifier.ports.sender import SendError, Unreachable
    from notifier.settings import NotifierSettings
    from shared.runtime.marks import PublishedMarks
    from tests.handlers.notifier.memory_store import FakeSender, MemoryNotifierStore

    class NoPublisher:
        async def publish_many(self, entries):
            pass

    def count(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, {"service": metrics.service(), **labels}) or 0.0

    before = [count("backbone_mails_sent_total"), count("backbone_mails_failed_total", permanent="true"),
              count("backbone_mail_retries_total", reason="unreachable")]
    store, sender, now = MemoryNotifierStore(), FakeSender(), now_utc()
    for who in ("john", "frank", "peter"):
        await store.add_delivery(Delivery(
            id=who, event_id="e", event_type="approval.requested", case_id="CSR-M1", recipient=who, role="approver",
            template="approval_requested", created_at=now, next_attempt_at=now,
            mail=Mail(to=f"{who}@example.com", subject="s", text="t", html="h", message_id=f"<{who}@x>")))
    sender.failures = {"john@example.com": [SendError("550 no such user", permanent=True)],
                       "peter@example.com": [Unreachable("connection refused")]}
    dispatcher = Dispatcher(store, sender, NoPublisher(), NotifierSettings().topics, RetryPolicy(),  # type: ignore[arg-type]
                            PublishedMarks())
    await dispatcher.run_once()
    after = [count("backbone_mails_sent_total"), count("backbone_mails_failed_total", permanent="true"),
             count("backbone_mail_retries_total", reason="unreachable")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
