"""The declared topics (shared.runtime.create_topics) against the broker's: what differs, and fixing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.runtime.create_topics import TopicSpec, _is_override, common_configs, ensure_topics
from shared.settings import Settings


@dataclass
class Actual:
    """A topic as the broker has it: partitions, replicas of its first partition, configs and own overrides."""

    partitions: int
    replication: int
    configs: dict[str, str]
    overrides: dict[str, str]


@dataclass
class Drift:
    """How one declared topic differs from the broker's (nothing differs: `ok`)."""

    spec: TopicSpec
    missing: bool = False
    partitions: tuple[int, int] | None = None  # (broker's, declared) when they differ
    replication: tuple[int, int] | None = None  # reported only: apply never moves replicas
    configs: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # name -> (broker's, declared)

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return not (self.missing or self.partitions or self.replication or self.configs)


def declared(spec: TopicSpec, settings: Settings) -> dict[str, str]:
    """The configs a topic is created with: the common ones under the spec's own."""
    return {**common_configs(settings.limits, settings.topic_min_insync_replicas), **spec.configs}


def compare(spec: TopicSpec, actual: Actual | None, settings: Settings) -> Drift:
    """The drift of one topic (pure)."""
    if actual is None:
        return Drift(spec, missing=True)
    drift = Drift(spec)
    if actual.partitions != spec.partitions:
        drift.partitions = (actual.partitions, spec.partitions)
    if actual.replication != settings.topic_replication_factor:
        drift.replication = (actual.replication, settings.topic_replication_factor)
    drift.configs = {name: (actual.configs.get(name), value) for name, value in declared(spec, settings).items()
                     if actual.configs.get(name) != value}
    return drift


async def describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, Actual]:
    """The broker's view of those of `names` that exist."""
    existing = set(await admin.list_topics())
    names = [n for n in names if n in existing]
    if not names:
        return {}
    shape = {t["topic"]: t for t in await admin.describe_topics(names) if not t.get("error_code")}
    out: dict[str, Actual] = {}
    for response in await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in shape]):
        for error_code, _, _, name, entries in response.resources:
            if error_code == 0:
                parts = shape[name]["partitions"]
                out[name] = Actual(len(parts), len(parts[0]["replicas"]) if parts else 0,
                                   {e[0]: e[1] for e in entries}, {e[0]: e[1] for e in entries if _is_override(e)})
    return out


async def plan(settings: Settings, specs: list[TopicSpec], security: dict[str, Any]) -> list[Drift]:
    """Every declared topic's drift."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="backbone-topics",
                                **security)
    await admin.start()
    try:
        actual = await describe(admin, [s.name for s in specs])
    finally:
        await admin.close()
    return [compare(s, actual.get(s.name), settings) for s in specs]


async def apply(settings: Settings, drifts: list[Drift], security: dict[str, Any]) -> list[tuple[str, str]]:
    """Create missing topics, raise partition counts, set differing configs; never lowers partitions.

    Returns (topic, what was done) rows. AlterConfigs replaces a topic's whole set of overrides, so its
    current overrides are sent back with the declared values over them.
    """
    done: list[tuple[str, str]] = []
    missing = [d.spec for d in drifts if d.missing]
    if missing:
        created = await ensure_topics(settings.kafka_bootstrap_servers, missing, settings.topic_replication_factor,
                                      min_insync_replicas=settings.topic_min_insync_replicas,
                                      limits=settings.limits, security=security)
        done += [(name, "created") for name in created]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="backbone-topics",
                                **security)
    await admin.start()
    try:
        raise_to = {d.spec.name: NewPartitions(d.partitions[1]) for d in drifts
                    if d.partitions and d.partitions[0] < d.partitions[1]}
        if raise_to:
            response = await admin.create_partitions(raise_to)
            for name, code, message in response.topic_errors:
                done.append((name, f"partitions raised to {raise_to[name].total_count}" if code == 0
                             else f"partitions NOT raised: error {code} {message or ''}"))
        done += [(d.spec.name, f"partitions left at {d.partitions[0]} (declared {d.partitions[1]}): never lowered")
                 for d in drifts if d.partitions and d.partitions[0] > d.partitions[1]]
        await _alter(admin, [d for d in drifts if d.configs and not d.missing], settings, done)
    finally:
        await admin.close()
    return done


async def _alter(admin: AIOKafkaAdminClient, drifts: list[Drift], settings: Settings,
                 done: list[tuple[str, str]]) -> None:
    if not drifts:
        return
    current = await describe(admin, [d.spec.name for d in drifts])
    resources = [ConfigResource(ConfigResourceType.TOPIC, d.spec.name,
                                {**current[d.spec.name].overrides, **{k: v for k, (_, v) in d.configs.items()}})
                 for d in drifts if d.spec.name in current]
    for response in await admin.alter_configs(resources):
        for error_code, message, _, name, *_ in response.resources:
            keys = ", ".join(next(d.configs for d in drifts if d.spec.name == name))
            done.append((name, f"configs set: {keys}" if not error_code else f"configs NOT set: {error_code} {message}"))
