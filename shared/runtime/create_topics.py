"""Creates every topic of the contract with explicit partition counts (idempotent)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from shared.runtime.kafka_security import settings_options
from shared.settings import COMMAND_TOPICS, Limits, Settings, Topics

HOT_PARTITIONS = 12
COLD_PARTITIONS = 3
MAX_MESSAGE_BYTES = "max.message.bytes"
DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source of a topic's own override


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create: name, partitions and configs."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


def common_configs(limits: Limits, min_insync_replicas: int) -> dict[str, str]:
    """Configs every topic gets: the size limit and how many replicas must have a write (acks=all).

    max.message.bytes bounds a whole record batch, not a value: `limits.broker_bytes` is `record_bytes`
    plus room for key, headers and framing, the same figure as the producer's max.request.size.
    """
    return {MAX_MESSAGE_BYTES: str(limits.broker_bytes), "min.insync.replicas": str(min_insync_replicas)}


def topic_names(topics: Topics) -> list[str]:
    """Every topic of the contract: a command topic is its ingress topics, one per sending principal."""
    names = []
    for kind, name in topics.model_dump().items():
        names.extend(topics.ingress(kind) if kind in COMMAND_TOPICS else [name])
    return names


def topic_specs(topics: Topics) -> list[TopicSpec]:
    """Every topic of the contract plus its dead-letter topic."""
    # The staff and customer ingress topics carry most commands; other senders' ingress topics are cold.
    hot = {topics.case_events, topics.approval_events, *(
        name for kind in ("case_commands", "approval_commands") for name, principal in topics.ingress(kind).items()
        if principal in ("crm", "portal", "approval"))}
    configs = {
        topics.portal_case_status: {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
        # The case event log is kept for ever: projections (portal-sync) are rebuilt from its beginning.
        topics.case_events: {"retention.ms": "-1"},
    }
    specs = []
    for name in topic_names(topics):
        partitions = HOT_PARTITIONS if name in hot else COLD_PARTITIONS
        specs.append(TopicSpec(name, partitions, configs.get(name, {})))
        specs.append(TopicSpec(Topics.dlq(name), COLD_PARTITIONS))
    return specs


async def ensure_topics(bootstrap_servers: str, specs: list[TopicSpec], replication: int = 1, *,
                        min_insync_replicas: int = 1, limits: Limits | None = None,
                        security: dict | None = None) -> list[str]:
    """Create the topics that do not exist yet; returns the names this call created.

    Each gets `common_configs` (a spec's own configs win). A topic that exists keeps its configs,
    except that a max.message.bytes below the limit is raised (see `_raise_size_limits`).
    """
    if min_insync_replicas > replication:
        raise ValueError(f"min.insync.replicas {min_insync_replicas} > replication factor {replication}: "
                         "no write with acks=all could ever succeed")
    common = common_configs(limits or Limits(), min_insync_replicas)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="create-topics", **(security or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        await _raise_size_limits(admin, [s for s in specs if s.name in existing], int(common[MAX_MESSAGE_BYTES]))
        if not missing:
            return []
        new = [NewTopic(s.name, s.partitions, replication, topic_configs={**common, **s.configs}) for s in missing]
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


def _is_override(entry: tuple) -> bool:
    # DescribeConfigs v1+ says where a value comes from; v0 only whether it is the default.
    return entry[3] == DYNAMIC_TOPIC_CONFIG if len(entry) > 5 else not entry[3]


async def _raise_size_limits(admin: AIOKafkaAdminClient, specs: list[TopicSpec], limit: int) -> None:
    """Raise max.message.bytes of existing topics that are below `limit` (e.g. created before the limits).

    A record the broker refuses for its size breaks the idempotent producer's sequence on that partition,
    so every topic must take what the producer sends. Other overrides are kept as they are: AlterConfigs
    replaces a topic's whole set of overrides, so the current ones are sent back with the new limit.
    Replication and min.insync.replicas of an existing topic are not touched (they depend on its replicas).
    """
    if not specs:
        return
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs])
    low = []
    for response in responses:
        for error_code, _, _, name, entries in response.resources:
            overrides = {e[0]: e[1] for e in entries if _is_override(e)}
            current = {e[0]: e[1] for e in entries}.get(MAX_MESSAGE_BYTES)
            if error_code == 0 and current is not None and int(current) < limit:
                low.append(ConfigResource(ConfigResourceType.TOPIC, name, {**overrides, MAX_MESSAGE_BYTES: str(limit)}))
    if low:
        log = structlog.get_logger().bind(component="create-topics", limit=limit)
        for response in await admin.alter_configs(low):
            for error_code, message, _, name in response.resources:
                if error_code:  # loud, but not fatal: the outbox dead-letters what such a topic refuses
                    log.error("topics.size_limit_not_raised", topic=name, error=f"{error_code}: {message}")
                else:
                    log.warning("topics.size_limit_raised", topic=name)


async def ensure_settings_topics(settings: Settings, specs: list[TopicSpec]) -> list[str]:
    """`ensure_topics` with the replication, min.insync.replicas and limits of `settings`."""
    return await ensure_topics(settings.kafka_bootstrap_servers, specs, settings.topic_replication_factor,
                               min_insync_replicas=settings.topic_min_insync_replicas, limits=settings.limits,
                               security=settings_options(settings))


def main() -> None:
    """CLI: create the topics named by the environment's settings."""
    settings = Settings(service_name="create-topics")
    created = asyncio.run(ensure_settings_topics(settings, topic_specs(settings.topics)))
    print(f"created {len(created)} topics: {', '.join(created) or '-'}")


if __name__ == "__main__":
    main()
