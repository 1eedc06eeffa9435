"""Fixtures: the real local Kafka and store (started once per session), isolated names per module."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.runtime.acls import acls, create_acls, wait_until_effective
from shared.runtime.create_topics import ensure_topics, topic_specs
from shared.settings import Settings, Topics
from tests.support import containers, credentials
from tests.support.env import service_env

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    """Addresses of the servers the tests use; `users`: the Kafka principals' passwords (empty: no SASL)."""

    kafka: str
    mongodb: str
    users: dict[str, str]


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Existing servers from KAFKA_BOOTSTRAP_SERVERS/MONGODB_URL; else, with a Docker engine, the official
    apache/kafka and mongo images (testcontainers); else genuine Kafka + SecantusDB started here."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    kafka_url, mongo_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    servers = containers.plan(os.environ)
    started = []
    with tempfile.TemporaryDirectory(prefix="case-backbone-") as tmp:
        try:
            from servers import Kafka, MongoWire, load_users  # deploy/local, on pytest's pythonpath

            # SASL/SCRAM with ACLs either way, like the local stack: every test client is a principal.
            if servers.kafka == containers.CONTAINER:
                started.append(containers.KafkaImage(load_users(Path(tmp) / "kafka")[0]).start())
            elif servers.kafka == containers.LOCAL:
                started.append(Kafka(Path(tmp) / "kafka", log_file=Path(tmp) / "kafka.log").start())
            if servers.kafka != containers.EXISTING:
                kafka_url = started[-1].bootstrap
                credentials.USERS.update(started[-1].users)
            if servers.mongodb == containers.CONTAINER:
                started.append(containers.MongoImage().start())
            elif servers.mongodb == containers.LOCAL:
                started.append(MongoWire(Path(tmp) / "store", log_file=Path(tmp) / "store.log").start())
            if servers.mongodb != containers.EXISTING:
                mongo_url = started[-1].url
            yield Stack(kafka=kafka_url, mongodb=mongo_url, users=dict(credentials.USERS))
        finally:
            for server in reversed(started):
                server.stop()


def unique(prefix: str) -> str:
    """A short unique name."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def _delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **credentials.options())
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def settings(stack: Stack) -> Iterator[Settings]:
    """Settings with this module's own topics (created, then deleted), ACLs, database and consumer group.

    In-process clients of these settings connect as the admin; service processes as their own principal.
    """
    prefix = unique("t") + "."
    s = Settings(service_name="intake", kafka_bootstrap_servers=stack.kafka, mongodb_url=stack.mongodb,
                 mongodb_database=unique("db_"), topic_prefix=prefix, consumer_group_prefix=unique("g-") + "-",
                 outbox_sweep_seconds=0.5, **credentials.settings_fields())
    specs = topic_specs(s.topics)
    asyncio.run(ensure_topics(stack.kafka, specs, security=credentials.options()))
    if stack.users:
        asyncio.run(create_acls(stack.kafka, acls(s.topics, s.consumer_group_prefix), credentials.options()))
        for principal, topic in (("crm", s.topics.case_events), ("portal", s.topics.portal_case_status)):
            asyncio.run(wait_until_effective(stack.kafka, credentials.options(principal), topic))
    yield s
    asyncio.run(_delete_topics(stack.kafka, [spec.name for spec in specs]))
    from pymongo import MongoClient

    client: MongoClient = MongoClient(stack.mongodb)
    for name in client.list_database_names():  # every service's database of this module
        if name.startswith(s.mongodb_database):
            client.drop_database(name)
    client.close()


@pytest.fixture(scope="module")
def topics(settings: Settings) -> Topics:
    """This module's topic names."""
    return settings.topics


@pytest.fixture(scope="module")
def python() -> str:
    """The interpreter running the tests (the project's venv)."""
    return sys.executable


@pytest.fixture(scope="module")
def intake(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The intake service as a real process on this module's topics and database."""
    from tests.support.service_process import ServiceProcess

    proc = ServiceProcess("intake", service_env(settings), tmp_path_factory.mktemp("intake") / "intake.log")
    proc.start()
    yield proc
    proc.stop()
