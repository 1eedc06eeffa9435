"""Genuine Apache Kafka (KRaft, one node) and a MongoDB-wire server, run on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from processes import Child, free_port, port_is_free, wait_until

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
KAFKA_LIBS = ROOT / ".local" / "kafka-libs"


def ensure_kafka_jars() -> None:
    """Resolve the broker's jars with Maven once; later runs reuse them."""
    if any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        return
    subprocess.run(
        ["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={KAFKA_LIBS}"],
        check=True,
    )


@dataclass(frozen=True)
class Quorum:
    """A multi-node KRaft cluster: its id and each node's (broker port, controller port), node ids from 1."""

    cluster_id: str
    ports: dict[int, tuple[int, int]]

    @property
    def voters(self) -> str:
        """Static `controller.quorum.voters`: every node is a voter (3 voters ride out one node down)."""
        return ",".join(f"{node}@127.0.0.1:{ports[1]}" for node, ports in sorted(self.ports.items()))


ADMIN = "admin"  # the launcher's super user: creates topics and ACLs; every other principal gets only its ACLs
MECHANISM = "SCRAM-SHA-512"


def principal_names() -> list[str]:
    """Every SCRAM user of the local stack: the admin, each service and each sending or reading system."""
    from shared.principals import load_principals
    from shared.runtime.acls import EXTERNAL_READS, SERVICES

    return list(dict.fromkeys([ADMIN, *SERVICES, *load_principals().senders, *EXTERNAL_READS]))


def load_users(root: Path) -> tuple[dict[str, str], bool]:
    """The stack's principals and passwords from `root/users.json` (0600), made once per stack and kept with its data.

    Also True when users were added: SCRAM users are written into the data at format time, so the data
    must be formatted anew (a stack from before SASL, or a new principal).
    """
    saved = root / "users.json"
    users = json.loads(saved.read_text()) if saved.exists() else {}
    missing = [name for name in principal_names() if name not in users]
    if missing:
        users.update({name: secrets.token_hex(16) for name in missing})
        root.mkdir(parents=True, exist_ok=True)
        saved.touch(mode=0o600)
        os.chmod(saved, 0o600)
        saved.write_text(json.dumps(users))
    return users, bool(missing)


def admin_security(users: dict[str, str]) -> dict:
    """aiokafka client options of the super user."""
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": MECHANISM,
            "sasl_plain_username": ADMIN, "sasl_plain_password": users[ADMIN]}


def random_cluster_id() -> str:
    """A new KRaft cluster id (StorageTool random-uuid)."""
    ensure_kafka_jars()
    return subprocess.run(_java("kafka.tools.StorageTool", "random-uuid"),
                          check=True, capture_output=True, text=True).stdout.strip()


def _java(main: str, *args: str, heap: str = "1g") -> list[str]:
    # Serial GC: one collector thread instead of G1's concurrent ones on a machine of two cores shared with
    # every service. C1 only (TieredStopAtLevel=1): a fresh node's C2 compiler took about half of Kafka's CPU
    # for the first minutes of a run (jstack: 6.8 of 17 CPU s); with C1 only, Kafka went from 32-39 % to 21 %
    # of a core at 12 claim journeys/s (bench/e2e.py; docs/design.md, "Kafka client").
    return ["java", "-Xms256m", f"-Xmx{heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}",
            "-cp", f"{KAFKA_LIBS}/*", main, *args]


class Kafka:
    """Apache Kafka in KRaft combined mode (broker + controller), data under `root`.

    Alone (no `quorum`) it is a one-node cluster; with a `quorum` it is node `node_id` of that cluster.
    """

    def __init__(self, root: Path, log_file: Path | None = None, node_id: int = 1,
                 quorum: Quorum | None = None, users: dict[str, str] | None = None) -> None:
        self.root, self.log_file, self.node_id, self.quorum = root, log_file, node_id, quorum
        self._users = users  # a cluster's nodes share one set; a lone node keeps its own under root
        self.port = self.controller_port = 0
        self.child: Child | None = None
        self.label = f"kafka-{node_id}" if quorum else "kafka"

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers for clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def users(self) -> dict[str, str]:
        """SCRAM users (principal -> password) of this broker."""
        if self._users is None:
            self._users, added = load_users(self.root)
            if added:  # formatted without them: format again
                shutil.rmtree(self.root / "data", ignore_errors=True)
        return self._users

    @property
    def admin_security(self) -> dict:
        """aiokafka client options of the super user."""
        return admin_security(self.users)

    def _java(self, main: str, *args: str) -> list[str]:
        # Three nodes on a small machine: a smaller heap each.
        return _java(main, *args, heap="512m" if self.quorum else "1g")

    def _choose_ports(self) -> bool:
        """Reuse the last ports (and data) when free; returns True when data must be formatted anew."""
        if self.quorum:  # the cluster chose the ports (and wiped the data if they changed)
            self.port, self.controller_port = self.quorum.ports[self.node_id]
            self.root.mkdir(parents=True, exist_ok=True)
        if self.port:  # started again after a kill or stop: same ports, same data
            return not (self.root / "data" / "meta.properties").exists()
        saved = self.root / "ports.json"
        if saved.exists():
            ports = json.loads(saved.read_text())
            if all(port_is_free(p) for p in ports.values()):
                self.port, self.controller_port = ports["broker"], ports["controller"]
                return not (self.root / "data" / "meta.properties").exists()
        # The controller address is written into the formatted metadata, so new ports mean new data.
        shutil.rmtree(self.root / "data", ignore_errors=True)
        self.port, self.controller_port = free_port(), free_port()
        self.root.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({"broker": self.port, "controller": self.controller_port}))
        return True

    def _write_config(self) -> Path:
        config = self.root / "server.properties"
        voters = len(self.quorum.ports) if self.quorum else 1
        replicas, min_isr = min(voters, 3), max(1, min(voters - 1, 2))  # 3 nodes: RF 3, acks=all needs 2
        quorum = (f"controller.quorum.voters={self.quorum.voters}" if self.quorum
                  else f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}")
        config.write_text("\n".join([
            "process.roles=broker,controller",
            f"node.id={self.node_id}",
            quorum,
            f"listeners=BROKER://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=BROKER://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            *self._security_config(),
            f"log.dirs={self.root / 'data'}",
            f"offsets.topic.replication.factor={replicas}",
            "offsets.topic.num.partitions=6",
            f"transaction.state.log.replication.factor={replicas}",
            f"transaction.state.log.min.isr={min_isr}",
            f"share.coordinator.state.topic.replication.factor={replicas}",
            f"share.coordinator.state.topic.min.isr={min_isr}",
            # Defaults for every topic, also those created without explicit settings.
            f"default.replication.factor={replicas}",
            f"min.insync.replicas={min_isr}",
            "group.initial.rebalance.delay.ms=0",
            # A development node on a small machine: fewer request threads than the defaults (3 network,
            # 8 I/O) contend less with the services for the two cores.
            "num.network.threads=2",
            "num.io.threads=2",
            # Offsets commits are on the hot path of every consumer; do not wait to batch them.
            "group.coordinator.append.linger.ms=0",
            "auto.create.topics.enable=false",
            "num.partitions=3",
            "",
        ]))
        return config

    def _security_config(self) -> list[str]:
        """SASL on both listeners, ACLs enforced; only the admin is a super user.

        Clients and brokers use SCRAM-SHA-512 (users written at format time). The controller listener uses
        PLAIN with a static admin entry: KRaft controllers cannot read SCRAM credentials from the metadata
        they serve, and a PLAINTEXT controller would let anyone on loopback in as ANONYMOUS.
        """
        password = self.users[ADMIN]
        scram = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{ADMIN}" password="{password}";'
        plain = (f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{ADMIN}" '
                 f'password="{password}" user_{ADMIN}="{password}";')
        return [
            "listener.security.protocol.map=BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
            "inter.broker.listener.name=BROKER",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            "sasl.mechanism.controller.protocol=PLAIN",
            f"listener.name.broker.sasl.enabled.mechanisms={MECHANISM}",
            f"listener.name.broker.scram-sha-512.sasl.jaas.config={scram}",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            f"listener.name.controller.plain.sasl.jaas.config={plain}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            f"super.users=User:{ADMIN}",
        ]

    def _scram_flags(self) -> list[str]:
        return [flag for name, password in self.users.items()
                for flag in ("--add-scram", f"{MECHANISM}=[name={name},password={password}]")]

    def launch(self) -> "Kafka":
        """Format storage if needed and start the process, without waiting (a cluster's nodes start together)."""
        ensure_kafka_jars()
        self.users  # noqa: B018  # before the ports: new users mean new data
        fresh = self._choose_ports()
        config = self._write_config()
        if fresh:
            cluster_id = self.quorum.cluster_id if self.quorum else random_cluster_id()
            # Static voters need no quorum flag; a lone node formats itself as a one-voter dynamic quorum.
            flags = [] if self.quorum else ["--standalone"]
            subprocess.run(self._java("kafka.tools.StorageTool", "format", *flags, "-t", cluster_id,
                                      "-c", str(config), *self._scram_flags()), check=True, capture_output=True)
        self.child = Child(self.label, self._java("kafka.Kafka", str(config)), log_file=self.log_file).start()
        return self

    def wait_healthy(self, timeout: float = 90) -> "Kafka":
        """Wait until this node answers an admin client; fail early if its process exits."""
        wait_until(self.healthy, timeout, self.label, self.child)
        return self

    def start(self, timeout: float = 90) -> "Kafka":
        """Format storage if needed, start the broker and wait until an admin client lists topics."""
        return self.launch().wait_healthy(timeout)

    def healthy(self) -> bool:
        """Health check: an admin client lists topics."""
        return asyncio.run(_kafka_lists_topics(self.bootstrap, self.admin_security))

    def stop(self) -> None:
        """Stop the broker by its PID."""
        if self.child:
            self.child.stop(timeout=30)

    def kill(self) -> None:
        """SIGKILL the broker (a crash); `start()` brings it back on the same ports and data."""
        if self.child:
            self.child.kill()

    def alive(self) -> bool:
        """True while the broker process runs."""
        return bool(self.child and self.child.alive())


async def _kafka_lists_topics(bootstrap: str, security: dict) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, **security)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:  # not up yet
        return False
    finally:
        await admin.close()


class MongoWire:
    """SecantusDB, a MongoDB-wire server (GPL: run as a separate process, never vendored)."""

    def __init__(self, root: Path, log_file: Path | None = None, label: str = "store") -> None:
        self.root, self.log_file, self.label = root, log_file, label
        self.port = 0
        self.child: Child | None = None

    @property
    def url(self) -> str:
        """MongoDB URL for clients."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 60) -> "MongoWire":
        """Start on `port` (a free one the first time, the same one after a kill) and wait for a ping."""
        return self.launch().wait_healthy(timeout)

    def launch(self) -> "MongoWire":
        """Start the process without waiting (several stores boot side by side)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        binary = Path(sys.executable).with_name("secantusd-py")
        # --sync-on-commit: an acknowledged write survives a kill -9 (without it the newest writes were lost).
        argv = [str(binary), "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.root),
                "--sync-on-commit"]
        self.child = Child(self.label, argv, log_file=self.log_file).start()
        return self

    def wait_healthy(self, timeout: float = 60) -> "MongoWire":
        """Wait until a ping answers; fail early if the process exits."""
        wait_until(self.healthy, timeout, self.label, self.child)
        return self

    def healthy(self) -> bool:
        """Health check: a ping answers."""
        from pymongo import MongoClient

        client: MongoClient = MongoClient(self.url, serverSelectionTimeoutMS=1000)
        try:
            client.admin.command("ping")
            return True
        except Exception:  # not up yet
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server by its PID."""
        if self.child:
            self.child.stop()

    def kill(self) -> None:
        """SIGKILL the server (a crash); `start()` brings it back on the same port and data."""
        if self.child:
            self.child.kill()

    def alive(self) -> bool:
        """True while the server process runs."""
        return bool(self.child and self.child.alive())
