"""Creates every topic of the contract with explicit partition counts (idempotent)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import Settings, Topics

HOT_PARTITIONS = 12
COLD_PARTITIONS = 3


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create: name, partitions and configs."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


def topic_specs(topics: Topics) -> list[TopicSpec]:
    """Every topic of the contract plus its dead-letter topic."""
    hot = {topics.case_commands, topics.case_events, topics.approval_commands, topics.approval_events}
    configs = {
        topics.portal_case_status: {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
        # The case event log is kept for ever: projections (portal-sync) are rebuilt from its beginning.
        topics.case_events: {"retention.ms": "-1"},
    }
    specs = []
    for name in topics.model_dump().values():
        partitions = HOT_PARTITIONS if name in hot else COLD_PARTITIONS
        specs.append(TopicSpec(name, partitions, configs.get(name, {})))
        specs.append(TopicSpec(Topics.dlq(name), COLD_PARTITIONS))
    return specs


async def ensure_topics(bootstrap_servers: str, specs: list[TopicSpec], replication: int = 1) -> list[str]:
    """Create the topics that do not exist yet; returns the names this call created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="create-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return []
        new = [NewTopic(s.name, s.partitions, replication, topic_configs=s.configs) for s in missing]
        try:
            response = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            return []  # another service created them between our list and create
        # Errors come back per topic in the response, not as exceptions. "Already exists" is fine:
        # another service, or a list_topics answered from metadata that had not caught up yet.
        failed = [(t[0], t[1], t[2] if len(t) > 2 else "") for t in response.topic_errors
                  if t[1] not in (0, TopicAlreadyExistsError.errno)]
        if failed:
            raise RuntimeError("could not create topics: " + "; ".join(
                f"{name} (error {code}{': ' + msg if msg else ''})" for name, code, msg in failed))
        created = {t[0] for t in response.topic_errors if t[1] == 0}
        return [s.name for s in missing if s.name in created]
    finally:
        await admin.close()


def main() -> None:
    """CLI: create the topics named by the environment's settings."""
    settings = Settings(service_name="create-topics")
    created = asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, topic_specs(settings.topics),
                                        settings.topic_replication_factor))
    print(f"created {len(created)} topics: {', '.join(created) or '-'}")


if __name__ == "__main__":
    main()
