"""The topics the stack creates."""

from __future__ import annotations

from aiokafka.errors import TopicAlreadyExistsError

from shared.runtime import create_topics
from shared.runtime.create_topics import topic_specs
from shared.settings import Topics


def test_every_topic_and_its_dead_letter_topic_with_explicit_partitions():
    specs = {s.name: s for s in topic_specs(Topics().prefixed("p."))}
    assert set(specs) == {f"p.{t}" for t in Topics().model_dump().values()} | {
        f"p.{t}.dlq" for t in Topics().model_dump().values()}
    hot = ["case.commands", "case.events", "approval.commands", "approval.events"]
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
