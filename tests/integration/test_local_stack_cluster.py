"""KAFKA_BROKERS=3: a three-node KRaft cluster, RF 3 / min ISR 2, two replicas of each service; one node may die."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from stack import LocalStack  # deploy/local

from tests.support import credentials
from tests.support.kafka_io import Producer, TopicReader, command

pytestmark = pytest.mark.integration


async def _topic_state(bootstrap: str, topic: str) -> tuple[list[dict], dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **credentials.options())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
        return described["partitions"], configs
    finally:
        await admin.close()


def test_cluster_replicates_every_topic_and_keeps_taking_writes_with_a_node_down(tmp_path):
    stack = LocalStack(tmp_path / "state", brokers=3, replicas=2, log_dir=tmp_path / "logs").start()
    # Every client below is a principal of this stack (SASL/SCRAM, ACLs); the session's stay as they were.
    with credentials.using(stack.users):
        try:
            _check(stack)
        finally:
            stack.stop()


def _check(stack: LocalStack) -> None:
    """RF 3 and min ISR 2 everywhere; a write through intake with one node down; the node rejoins."""
    env = stack.env
    assert len(stack.kafka_nodes) == 3 and len(env["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == 3
    assert {label: len(r) for label, r in stack.services.items()} == {label: 2 for label in stack.services}
    assert all(r.healthy() for rs in stack.services.values() for r in rs)
    for topic in ("case.commands.crm", "case.events", "__consumer_offsets"):
        partitions, configs = asyncio.run(_topic_state(env["KAFKA_BOOTSTRAP_SERVERS"], topic))
        assert partitions and all(len(p["replicas"]) == 3 for p in partitions), topic
        assert configs["min.insync.replicas"] == "2", topic

    victim = stack.kafka_nodes[0]
    victim.kill()
    assert not victim.alive()
    case_id = f"C-{uuid.uuid4().hex[:8]}"
    opened = command("case.open", case_id, {
        "case_type": "helpdesk", "gbu": "lighting", "account_id": "ACC-1001",
        "subject": "Lamp flickers", "actor": {"id": "system:webform", "roles": []}})

    async def open_case_through_intake() -> None:
        async with TopicReader(env["KAFKA_BOOTSTRAP_SERVERS"], "case.events", principal="crm") as reader:
            async with Producer(env["KAFKA_BOOTSTRAP_SERVERS"], "webform") as producer:  # acks=all
                await producer.send("case.commands.webform", opened)
            await reader.wait_for(lambda rs: any(r.key == case_id.encode() for r in rs), timeout=120)

    asyncio.run(open_case_through_intake())
    victim.start()  # same ports, same data: it rejoins
    assert victim.alive() and victim.healthy()
