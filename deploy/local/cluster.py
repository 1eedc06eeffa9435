"""A multi-node KRaft cluster on loopback from the same jars: every node a broker and a controller voter."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from pathlib import Path

from processes import free_port, port_is_free, wait_until
from servers import Kafka, Quorum, admin_security, load_users, random_cluster_id


class KafkaCluster:
    """`size` combined nodes under `root/node-<id>`; ports and cluster id kept in `root/cluster.json`."""

    def __init__(self, root: Path, size: int = 3, log_dir: Path | None = None) -> None:
        self.root, self.size, self.log_dir = Path(root), size, log_dir
        self.nodes: list[Kafka] = []
        self.users: dict[str, str] = {}

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers for clients: every node, so any one of them may be down."""
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def admin_security(self) -> dict:
        """aiokafka client options of the super user."""
        return admin_security(self.users)

    def _quorum(self) -> Quorum:
        """The last run's quorum when its ports are all free again, else a new one on new, empty data."""
        saved = self.root / "cluster.json"
        self.users, added = load_users(self.root)  # one set of SCRAM users for every node
        if saved.exists() and not added:
            data = json.loads(saved.read_text())
            ports = {int(node): (p[0], p[1]) for node, p in data["ports"].items()}
            if len(ports) == self.size and all(port_is_free(p) for pair in ports.values() for p in pair):
                return Quorum(data["cluster_id"], ports)
        # The voters' addresses and the cluster id are written into each node's formatted data.
        for node in range(1, self.size + 1):
            shutil.rmtree(self.root / f"node-{node}", ignore_errors=True)
        quorum = Quorum(random_cluster_id(), {node: (free_port(), free_port()) for node in range(1, self.size + 1)})
        self.root.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({"cluster_id": quorum.cluster_id,
                                     "ports": {str(n): list(p) for n, p in quorum.ports.items()}}))
        return quorum

    def start(self, timeout: float = 180) -> "KafkaCluster":
        """Start every node at once (a quorum needs a majority up), then wait until all brokers are registered."""
        quorum = self._quorum()
        self.nodes = [Kafka(self.root / f"node-{node}", self._log(node), node, quorum, self.users)
                      for node in sorted(quorum.ports)]
        try:
            for node in self.nodes:
                node.launch()
            for node in self.nodes:
                node.wait_healthy(timeout)
            wait_until(self.complete, timeout, "kafka cluster")
        except BaseException:
            self.stop()
            raise
        return self

    def _log(self, node: int) -> Path | None:
        return self.log_dir / f"kafka-{node}.log" if self.log_dir else None

    def complete(self) -> bool:
        """True when the metadata lists every node as a broker."""
        return asyncio.run(_broker_count(self.bootstrap, self.admin_security)) == self.size

    def stop(self) -> None:
        """Stop every node by its PID, all at once: one by one, the last would wait for a quorum that is gone."""
        threads = [threading.Thread(target=node.stop) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


async def _broker_count(bootstrap: str, security: dict) -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, **security)
    try:
        await admin.start()
        return len((await admin.describe_cluster())["brokers"])
    except Exception:  # not up yet
        return 0
    finally:
        await admin.close()
