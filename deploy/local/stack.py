"""`make run` and the chaos run: genuine Kafka (one node or a cluster), the stores, the SMTP sink and every service.

`LocalStack` starts and stops it all by PID; each service replica runs under a `Supervised` that restarts it
after a crash. Each service gets its own store process unless `stores="shared"` (`store_layout.py`).
`main()` is `make run`: env switches -> LocalStack -> `.local/stack.env` -> wait for Ctrl-C.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from oidc_issuer import Issuer
from processes import free_port, python_env
from kafka_auth import ADMIN, as_principal, client_env, grant_acls, masked
from servers import ROOT, Kafka, MongoWire
from smtp_sink import SmtpSink
from store_layout import PER_SERVICE, layout, start_stores, store_env
from supervisor import Supervised

# Services in start order: (label, python module). A module not built yet is skipped.
SERVICES = [("intake", "intake"), ("approval", "approval"), ("routing", "routing"),
            ("portal-sync", "portal_sync"), ("notifier", "notifier"), ("web", "web")]
STORELESS = {"web"}  # the staff pages keep nothing: they read intake's and approval's APIs
STATE = ROOT / ".local"
HEALTH_PATH = "/readyz"


def _runnable(module: str) -> bool:
    """True when `python -m module` exists (planned services have no __main__ yet)."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        return False


class LocalStack:
    """Servers (unless the environment names existing ones), topics and supervised service replicas."""

    def __init__(self, state_dir: Path, brokers: int = 1, replicas: int = 1,
                 extra_env: dict[str, str] | None = None, log_dir: Path | None = None,
                 stores: str = PER_SERVICE) -> None:
        self.state_dir, self.brokers, self.replicas = Path(state_dir), brokers, replicas
        self.extra_env, self.log_dir = dict(extra_env or {}), log_dir
        self.store_layout = layout({"STORES": stores})
        self.env: dict[str, str] = {}
        self.services: dict[str, list[Supervised]] = {}
        self.kafka_nodes: list = []
        self.store_of: dict[str, MongoWire] = {}  # service label -> the store process it uses (none if external)
        self.store_urls: dict[str, str] = {}  # service label -> its MONGODB_URL
        self.smtp: SmtpSink | None = None
        self.issuer: Issuer | None = None
        self.users: dict[str, str] = {}  # Kafka principal -> password, when the stack runs its own Kafka
        self.web_form_secret = secrets.token_urlsafe(32)  # one for all web replicas: any checks another's forms
        self._cluster = None

    @property
    def stores(self) -> list[MongoWire]:
        """Every store process the stack started, each once (one per service, or the shared one)."""
        return list({id(store): store for store in self.store_of.values()}.values())

    @property
    def store(self) -> MongoWire | None:
        """The store that MONGODB_URL names: intake's (the first service's), or the shared one."""
        return next(iter(self.store_of.values()), None)

    def _log(self, label: str) -> Path | None:
        return self.log_dir / f"{label}.log" if self.log_dir else None

    def _start_kafka(self) -> str:
        if url := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            return url
        root = self.state_dir / "kafka"
        if self.brokers == 1:
            self.kafka_nodes = [Kafka(root, log_file=self._log("kafka")).start()]
            self.users = self.kafka_nodes[0].users
            return self.kafka_nodes[0].bootstrap
        from cluster import KafkaCluster

        self._cluster = KafkaCluster(root, self.brokers, log_dir=self.log_dir).start()
        self.kafka_nodes = self._cluster.nodes
        self.users = self._cluster.users
        return self._cluster.bootstrap

    def start(self) -> "LocalStack":
        """Start servers, create topics, start every service replica and wait until each is healthy."""
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # start-up probes fail until Kafka listens
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_servers()
            self._create_topics()
            self._start_services()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_servers(self) -> None:
        kafka_url = self._start_kafka()
        labels = [label for label, module in SERVICES if _runnable(module) and label not in STORELESS]
        if mongo_url := os.environ.get("MONGODB_URL"):  # an existing server: every service uses it
            self.store_urls = {label: mongo_url for label in labels}
        else:
            self.store_of = start_stores(self.state_dir, labels, self.store_layout, self.log_dir)
            self.store_urls = {label: store.url for label, store in self.store_of.items()}
        smtp_host, smtp_port = os.environ.get("SMTP_HOST"), os.environ.get("SMTP_PORT", "25")
        self.env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_url, **store_env(self.store_urls)}
        if self.users:  # SASL: what a client needs (crm, portal, ...); each child gets only its own password
            self.env.update(client_env(self.users))
        if not smtp_host:  # a real SMTP server on loopback that keeps every mail as a file for inspection
            self.smtp = SmtpSink(self.state_dir / "smtp", log_file=self._log("smtp")).start()
            smtp_host, smtp_port = "127.0.0.1", str(self.smtp.port)
        self.env.update({"SMTP_HOST": smtp_host, "SMTP_PORT": smtp_port})
        if self.smtp:
            self.env["SMTP_MAILDIR"] = str(self.smtp.maildir)
        # The development token issuer: services verify bearer tokens against its JWKS (`make token WHO=...`).
        self.issuer = Issuer(self.state_dir / "oidc").start()
        self.env.update(self.issuer.env)
        if self.brokers > 1:  # every topic replicated on the cluster; acks=all needs 2 of 3 in sync
            self.env.update({"TOPIC_REPLICATION_FACTOR": str(min(self.brokers, 3)),
                             "TOPIC_MIN_INSYNC_REPLICAS": str(min(self.brokers - 1, 2))})

    def _child_env(self, extra: dict[str, str] | None = None, principal: str | None = None) -> dict[str, str]:
        env = {**self.env, **self.extra_env, **(extra or {})}
        return python_env(as_principal(env, self.users, principal) if self.users else env)

    def _create_topics(self) -> None:
        argv = [sys.executable, "-m", "shared.runtime.create_topics"]
        result = subprocess.run(argv, env=self._child_env(principal=ADMIN), capture_output=True, text=True, timeout=180)
        print(f"[create-topics] {result.stdout.strip()}{result.stderr.strip()}", flush=True)
        if result.returncode != 0:
            raise RuntimeError("topic creation failed")
        if self.users:
            count = grant_acls(self.env["KAFKA_BOOTSTRAP_SERVERS"], self.users, {**self.env, **self.extra_env})
            print(f"[create-acls] {count} ACLs", flush=True)

    def _start_services(self) -> None:
        runnable = [(label, module) for label, module in SERVICES if _runnable(module)]
        ports = {label: [free_port() for _ in range(self.replicas)] for label, _ in runnable}
        for label, module in runnable:
            # The first replica's address is the service's address; further replicas get _2, _3, ...
            for i, port in enumerate(ports[label], start=1):
                self.env[f"{module.upper()}_HTTP" + (f"_{i}" if i > 1 else "")] = f"http://127.0.0.1:{port}"
        for label, module in runnable:
            replicas = []
            for i, port in enumerate(ports[label], start=1):
                name = label if self.replicas == 1 else f"{label}-{i}"
                url = f"http://127.0.0.1:{port}"
                # Same SERVICE_NAME for every replica: they share one consumer group and split the partitions.
                # DEV_MODE: the local stack may use the default link secret; the notifier links to approval.
                env = self._child_env({"SERVICE_NAME": label, "HTTP_PORT": str(port), "PUBLIC_BASE_URL": url,
                                       "DEV_MODE": "true", "APPROVAL_PUBLIC_URL": self.env.get("APPROVAL_HTTP", url),
                                       **self._own_env(label)}, principal=label)
                replicas.append(Supervised(name, [sys.executable, "-m", module], env,
                                           health_url=url + HEALTH_PATH, log_file=self._log(name)).start())
            self.services[label] = replicas
        for replicas in self.services.values():
            for replica in replicas:
                # A transient start-up failure is restarted like any exit; one that keeps failing stops the start.
                replica.wait_healthy(180, max_exits=3)

    def _own_env(self, label: str) -> dict[str, str]:
        """What one service alone gets: its store; the notifier's case links and web's APIs point at each other."""
        own = {"MONGODB_URL": self.store_urls[label]} if label in self.store_urls else {}
        web = self.env.get("WEB_HTTP")
        if label in ("notifier", "approval") and web:  # staff case links (e-mails, the approval page) land on web
            own["CASE_LINK_BASE"] = web
        if label == "web":  # locally the development issuer signs people in (docs/web.md)
            own.update({"INTAKE_URL": self.env.get("INTAKE_HTTP", ""), "APPROVAL_URL": self.env.get("APPROVAL_HTTP", ""),
                        "WEB_DEV_ISSUER_TOKEN_URL": f"{self.issuer.issuer}/token" if self.issuer else "",
                        "WEB_FORM_SECRET": self.web_form_secret})
        return own

    def stop(self) -> None:
        """Stop everything by PID: services first, then Kafka nodes, the stores and the SMTP sink."""
        for replicas in reversed(list(self.services.values())):
            for replica in replicas:
                replica.stop()
        for node in [] if self._cluster else self.kafka_nodes:
            node.stop()
        if self._cluster:
            self._cluster.stop()
        for server in (*self.stores, self.smtp, self.issuer):
            if server:
                server.stop()


def switches(environ: Mapping[str, str]) -> tuple[int, int]:
    """(brokers, service replicas) from KAFKA_BROKERS (default 1) and SERVICE_REPLICAS (default 2 on a cluster)."""
    brokers = int(environ.get("KAFKA_BROKERS", "").strip() or 1)
    replicas = int(environ.get("SERVICE_REPLICAS", "").strip() or (2 if brokers > 1 else 1))
    if brokers < 1 or replicas < 1:
        raise ValueError(f"KAFKA_BROKERS={brokers} and SERVICE_REPLICAS={replicas} must be at least 1")
    return brokers, replicas


def write_env_file(env: Mapping[str, str], path: Path) -> None:
    """`.local/stack.env`: one KEY=value a line, readable by the owner only (it holds the Kafka passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in env.items()))


def main() -> int:
    """`make run`: KAFKA_BROKERS (1 or 3), SERVICE_REPLICAS and STORES switches; until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    brokers, replicas = switches(os.environ)
    stack = LocalStack(STATE / "stack", brokers=brokers, replicas=replicas, stores=layout(os.environ))
    env_file = STATE / "stack.env"
    try:
        stack.start()
        write_env_file(stack.env, env_file)
        shown = [f"{key}={masked(key, value)}" for key, value in stack.env.items()]
        print("\nstack is up; addresses in .local/stack.env:\n  " + "\n  ".join(shown))
        print("use them with:  set -a; . .local/stack.env; set +a      (Ctrl-C stops everything)\n", flush=True)
        while not stop.wait(1):
            pass
        return 0
    finally:
        stack.stop()
        env_file.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
