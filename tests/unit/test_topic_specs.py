"""The topics the stack creates."""

from __future__ import annotations

import pytest
from aiokafka.errors import TopicAlreadyExistsError

from shared.runtime import create_topics
from shared.runtime.create_topics import topic_specs
from shared.settings import Limits, Settings, Topics


def test_every_topic_and_its_dead_letter_topic_with_explicit_partitions():
    specs = {s.name: s for s in topic_specs(Topics().prefixed("p."))}
    # A command topic is only its ingress topics, one per sending principal (shared/data/principals.yaml).
    plain = [t for kind, t in Topics().model_dump().items() if not kind.endswith("_commands")]
    ingress = [*Topics().ingress("case_commands"), *Topics().ingress("approval_commands"),
               *Topics().ingress("routing_commands")]
    names = [f"p.{t}" for t in plain + ingress]
    assert set(specs) == set(names) | {f"{t}.dlq" for t in names}
    assert "p.case.commands" not in specs and "p.case.commands.crm" in specs
    hot = ["case.commands.crm", "case.commands.portal", "case.events", "approval.commands.crm", "approval.events"]
    assert all(specs[f"p.{t}"].partitions == 12 for t in hot)
    assert specs["p.portal.case-status"].configs["cleanup.policy"] == "compact"
    assert specs["p.case.events"].configs["retention.ms"] == "-1"


class StaleAdmin:
    """An admin client whose topic list lags behind: the topics exist, the broker says so on create."""

    def __init__(self, **_: object) -> None:
        pass

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def list_topics(self) -> list[str]:
        return []

    async def create_topics(self, new: list) -> object:
        return type("Response", (), {"topic_errors": [(t.name, TopicAlreadyExistsError.errno, "exists") for t in new]})


async def test_topics_the_broker_already_had_are_not_reported_as_created(monkeypatch):
    monkeypatch.setattr(create_topics, "AIOKafkaAdminClient", StaleAdmin)
    assert await create_topics.ensure_topics("x:9092", [create_topics.TopicSpec("a", 1)]) == []


class RecordingAdmin(StaleAdmin):
    """An admin client that creates whatever it is asked to and remembers the requests."""

    created: list = []

    async def create_topics(self, new: list) -> object:
        RecordingAdmin.created = list(new)
        return type("Response", (), {"topic_errors": [(t.name, 0, "") for t in new]})


async def test_every_topic_gets_the_size_limit_and_min_insync_replicas_its_own_configs_win(monkeypatch):
    monkeypatch.setattr(create_topics, "AIOKafkaAdminClient", RecordingAdmin)
    limits = Limits(record_bytes=500_000)
    specs = [create_topics.TopicSpec("a", 1), create_topics.TopicSpec("b", 1, {"min.insync.replicas": "1"})]
    assert await create_topics.ensure_topics("x:9092", specs, 3, min_insync_replicas=2, limits=limits) == ["a", "b"]
    a, b = RecordingAdmin.created
    assert a.topic_configs == {"max.message.bytes": str(limits.broker_bytes), "min.insync.replicas": "2"}
    assert limits.broker_bytes > limits.record_bytes
    assert b.topic_configs["min.insync.replicas"] == "1" and a.replication_factor == 3


async def test_settings_name_replication_min_insync_replicas_and_limits(monkeypatch):
    monkeypatch.setattr(create_topics, "AIOKafkaAdminClient", RecordingAdmin)
    settings = Settings(topic_replication_factor=3, topic_min_insync_replicas=2, limits=Limits(record_bytes=2_000_000))
    await create_topics.ensure_settings_topics(settings, [create_topics.TopicSpec("a", 1)])
    (a,) = RecordingAdmin.created
    assert a.replication_factor == 3 and a.topic_configs["min.insync.replicas"] == "2"
    assert int(a.topic_configs["max.message.bytes"]) == settings.limits.broker_bytes > 2_000_000


async def test_more_insync_replicas_than_replicas_is_refused_before_anything_is_created(monkeypatch):
    monkeypatch.setattr(create_topics, "AIOKafkaAdminClient", RecordingAdmin)
    RecordingAdmin.created = []
    with pytest.raises(ValueError, match="min.insync.replicas"):
        await create_topics.ensure_topics("x:9092", [create_topics.TopicSpec("a", 1)], 1, min_insync_replicas=2)
    assert RecordingAdmin.created == []
