"""Which servers the tests run against, and the official `apache/kafka` and `mongo` images through testcontainers.

One choice for the session's `stack` fixture: an address in the environment wins; else a reachable Docker
engine runs the official images; else the local launcher's genuine Kafka and SecantusDB (deploy/local).
TEST_SERVERS=local or TEST_SERVERS=containers forces one of the last two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KAFKA_IMAGE = "apache/kafka:4.1.1"  # the broker compose runs
MONGO_IMAGE = "mongo:7"
LOCAL, CONTAINER, EXISTING = "local", "container", "existing"


@dataclass(frozen=True)
class Plan:
    """Where each server comes from: EXISTING (its address in the environment), CONTAINER or LOCAL."""

    kafka: str
    mongodb: str


def engine_reachable(timeout: float = 3.0) -> bool:
    """True when a Docker engine answers a ping (a docker CLI without an engine is not enough)."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no SDK, no socket, no permission, engine down: all mean "no Docker here"
        return False


def plan(environ: Mapping[str, str], reachable: Callable[[], bool] = engine_reachable) -> Plan:
    """The servers for this session; asks the engine only when a server has no address in the environment."""
    wanted = environ.get("TEST_SERVERS", "").strip().lower()
    if wanted not in ("", LOCAL, "containers"):
        raise ValueError(f"TEST_SERVERS={wanted!r}: use 'local' or 'containers' (or leave it unset)")
    need = [name for name, var in (("kafka", "KAFKA_BOOTSTRAP_SERVERS"), ("mongodb", "MONGODB_URL")) if not environ.get(var)]
    if not need:
        return Plan(EXISTING, EXISTING)
    if wanted == LOCAL:
        fresh = LOCAL
    elif wanted == "containers":
        if not reachable():
            raise RuntimeError("TEST_SERVERS=containers, but no Docker engine answers (DOCKER_HOST, the socket)")
        fresh = CONTAINER
    else:
        fresh = CONTAINER if reachable() else LOCAL
    return Plan(*(fresh if name in need else EXISTING for name in ("kafka", "mongodb")))


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.5)


class KafkaImage:
    """`apache/kafka` in KRaft combined mode with the local launcher's security: SASL/SCRAM-SHA-512 for every
    principal (written at format time), the StandardAuthorizer, `admin` the only super user."""

    def __init__(self, users: dict[str, str]) -> None:
        from processes import free_port  # deploy/local, on pytest's pythonpath
        from testcontainers.core.container import DockerContainer

        self.users = users
        # The broker listens inside the container on the port it is published on, so the one advertised
        # address works for clients on the host and for the broker itself.
        self.port = free_port()
        self.container = DockerContainer(KAFKA_IMAGE).with_bind_ports(self.port, self.port)
        self.host = self.container.get_docker_client().host()
        self.container.with_command(["bash", "-c", self._script()])

    def _script(self) -> str:
        from servers import MECHANISM, Kafka

        security = Kafka(Path("/nonexistent"), users=self.users)._security_config()  # the same rules as make run
        config = [
            "process.roles=broker,controller", "node.id=1",
            "controller.quorum.bootstrap.servers=127.0.0.1:9093",
            f"listeners=BROKER://0.0.0.0:{self.port},CONTROLLER://127.0.0.1:9093",
            f"advertised.listeners=BROKER://{self.host}:{self.port}", "controller.listener.names=CONTROLLER",
            *security, "log.dirs=/tmp/kraft-data", "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=6", "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1", "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1", "group.initial.rebalance.delay.ms=0",
            "group.coordinator.append.linger.ms=0", "auto.create.topics.enable=false", "num.partitions=3",
        ]
        scram = " ".join(f"--add-scram '{MECHANISM}=[name={n},password={p}]'" for n, p in self.users.items())
        body = "\n".join(config).replace("'", "'\"'\"'")
        return (f"set -e; printf '%s\\n' '{body}' > /tmp/server.properties; "
                f"/opt/kafka/bin/kafka-storage.sh format --standalone -t $(/opt/kafka/bin/kafka-storage.sh random-uuid) "
                f"-c /tmp/server.properties {scram}; exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties")

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers for clients on this host."""
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 180) -> "KafkaImage":
        """Start the container and wait until the admin lists topics."""
        import asyncio

        from servers import _kafka_lists_topics, admin_security

        self.container.start()
        try:
            _wait(lambda: asyncio.run(_kafka_lists_topics(self.bootstrap, admin_security(self.users))), timeout, KAFKA_IMAGE)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Remove the container."""
        self.container.stop()


class MongoImage:
    """The official `mongo` image as a one-member replica set (transactions and change streams need one)."""

    def __init__(self) -> None:
        from testcontainers.core.container import DockerContainer

        self.container = DockerContainer(MONGO_IMAGE).with_command("--replSet rs0 --bind_ip_all").with_exposed_ports(27017)

    @property
    def url(self) -> str:
        """MongoDB URL for clients on this host (directConnection: the member's own name is the container's)."""
        return (f"mongodb://{self.container.get_container_host_ip()}:"
                f"{self.container.get_exposed_port(27017)}/?directConnection=true")

    def start(self, timeout: float = 120) -> "MongoImage":
        """Start the container, initiate the replica set, wait for a writable primary."""
        self.container.start()
        initiate = "try { rs.status() } catch (e) { rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]}) }"
        try:
            _wait(lambda: self.container.exec(["mongosh", "--quiet", "--eval", initiate]).exit_code == 0, timeout, MONGO_IMAGE)
            _wait(self._primary, timeout, MONGO_IMAGE)
        except BaseException:
            self.stop()
            raise
        return self

    def _primary(self) -> bool:
        from pymongo import MongoClient

        client: MongoClient[Any] = MongoClient(self.url, serverSelectionTimeoutMS=1000)
        try:
            return bool(client.admin.command("hello").get("isWritablePrimary"))
        except Exception:  # not up yet
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Remove the container."""
        self.container.stop()
