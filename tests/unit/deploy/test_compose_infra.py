"""docker-compose.yml infrastructure: Kafka, MongoDB, create-topics and healthchecks, checked without Docker.

Each rule is a function returning a list of problems; it is run on the real file and,
to prove it can fail, on a broken copy.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.deploy.manifests import DELETE, app_services, env_of, mutated, one_shot_services


def parse_listeners(value: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}."""
    out = {}
    for item in filter(None, (s.strip() for s in value.split(","))):
        name, rest = item.split("://", 1)
        host, port = rest.rsplit(":", 1)
        out[name] = (host, int(port))
    return out


def infra_problems(c: dict) -> list[str]:
    """Images, a healthcheck on everything long-running, create-topics waiting for Kafka."""
    problems: list[str] = []
    services = c.get("services", {})
    for name in ("kafka", "mongo", "create-topics"):
        if name not in services:
            problems.append(f"service {name} missing")
    if problems:
        return problems
    if not re.fullmatch(r"apache/kafka:4\.1\.\d+", services["kafka"].get("image", "")):
        problems.append(f"kafka image is {services['kafka'].get('image')!r}, want apache/kafka:4.1.x")
    if not re.fullmatch(r"mongo:7(\.\d+)*", services["mongo"].get("image", "")):
        problems.append(f"mongo image is {services['mongo'].get('image')!r}, want mongo:7")
    one_shot = one_shot_services(c)
    for name, svc in services.items():
        if name in one_shot:
            continue
        hc = svc.get("healthcheck") or {}
        test = hc.get("test")
        if hc.get("disable") or not test or (isinstance(test, list) and test[0] == "NONE"):
            problems.append(f"long-running service {name} has no healthcheck")
    if ((services["create-topics"].get("depends_on") or {}).get("kafka") or {}).get("condition") != "service_healthy":
        problems.append("create-topics must wait for kafka to be healthy")
    return problems


def kafka_wiring_problems(c: dict) -> list[str]:
    """Every service's KAFKA_BOOTSTRAP_SERVERS names a listener the kafka service advertises to containers."""
    problems: list[str] = []
    kafka = c["services"]["kafka"]
    kenv = env_of(kafka)
    advertised = parse_listeners(kenv.get("KAFKA_ADVERTISED_LISTENERS", ""))
    bound = parse_listeners(kenv.get("KAFKA_LISTENERS", ""))
    protocols = dict(p.split(":", 1) for p in kenv.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",") if p)
    controller = set(kenv.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(","))
    reachable_names = {"kafka", kafka.get("hostname"), kafka.get("container_name")} - {None}

    if kenv.get("KAFKA_PROCESS_ROLES", "").replace(" ", "") not in ("broker,controller", "controller,broker"):
        problems.append("kafka is not in KRaft combined mode (KAFKA_PROCESS_ROLES)")
    if not kenv.get("CLUSTER_ID"):
        problems.append("kafka needs CLUSTER_ID to format its storage")
    node_id = kenv.get("KAFKA_NODE_ID")
    ctrl_ports = {bound[n][1] for n in controller if n in bound}
    for voter in kenv.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(","):
        vid, addr = voter.split("@", 1)
        host, port = addr.rsplit(":", 1)
        if vid != node_id or host not in reachable_names or int(port) not in ctrl_ports:
            problems.append(f"quorum voter {voter} does not match node id {node_id} / controller listener {ctrl_ports}")
    for key, val in kenv.items():
        if key.endswith("REPLICATION_FACTOR") and val != "1":
            problems.append(f"{key}={val} on a single broker")
    for name in advertised:
        if name not in bound or name not in protocols:
            problems.append(f"advertised listener {name} is not bound or has no security protocol")

    # Listeners that containers on the compose network can use.
    internal = {
        f"{host}:{port}"
        for name, (host, port) in advertised.items()
        if host in reachable_names and name not in controller and name in bound and bound[name][1] == port
    }
    if not internal:
        problems.append("kafka advertises no listener under its service name")
    clients = [n for n, s in c["services"].items() if "KAFKA_BOOTSTRAP_SERVERS" in env_of(s)]
    for name in ("create-topics", *app_services(c)):
        if name not in clients:
            problems.append(f"{name} has no KAFKA_BOOTSTRAP_SERVERS")
    for name in clients:
        for server in env_of(c["services"][name])["KAFKA_BOOTSTRAP_SERVERS"].split(","):
            if server.strip() not in internal:
                problems.append(f"{name}: KAFKA_BOOTSTRAP_SERVERS {server!r} is not one of the advertised internal listeners {sorted(internal)}")

    # The external listener is the one published on the host.
    published = {str(p).rsplit(":", 2)[-2] if str(p).count(":") >= 1 else str(p) for p in kafka.get("ports", [])}
    for name, (host, port) in advertised.items():
        if host in ("localhost", "127.0.0.1") and str(port) not in published:
            problems.append(f"external listener {name} on port {port} is not published")
    return problems


def mongo_wiring_problems(c: dict) -> list[str]:
    """MongoDB runs as the replica set every MONGODB_URL names, reachable under its service name."""
    problems: list[str] = []
    mongo = c["services"]["mongo"]
    cmd = mongo.get("command") or []
    cmd = cmd.split() if isinstance(cmd, str) else list(cmd)
    if "--replSet" not in cmd:
        return ["mongo does not run as a replica set (--replSet)"]
    repl_set = cmd[cmd.index("--replSet") + 1]
    port = int(cmd[cmd.index("--port") + 1]) if "--port" in cmd else 27017
    hc = " ".join(map(str, (mongo.get("healthcheck") or {}).get("test") or []))
    if "rs.initiate" not in hc or f"'{repl_set}'" not in hc and f'"{repl_set}"' not in hc:
        problems.append("mongo healthcheck does not initiate the replica set it runs")
    if f"mongo:{port}" not in hc:
        problems.append("replica set member host must be the service name so containers can reach it")
    if "ping" not in hc:
        problems.append("mongo healthcheck does not ping")
    names = {"mongo", mongo.get("hostname"), mongo.get("container_name")} - {None}
    for name, svc in c["services"].items():
        url = env_of(svc).get("MONGODB_URL")
        if url is None:
            if name in app_services(c):
                problems.append(f"{name} has no MONGODB_URL")
            continue
        parts = urlsplit(url)
        if parts.scheme != "mongodb" or parts.hostname not in names or (parts.port or 27017) != port:
            problems.append(f"{name}: MONGODB_URL {url!r} does not point at the mongo service")
        if parse_qs(parts.query).get("replicaSet") != [repl_set]:
            problems.append(f"{name}: MONGODB_URL must name replicaSet={repl_set}")
    return problems


RULES = [infra_problems, kafka_wiring_problems, mongo_wiring_problems]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_compose_infra_rule_holds(compose, rule):
    assert rule(compose) == []


MUTATIONS = {
    "kafka image": (infra_problems, "services/kafka/image", "bitnami/kafka:3.7"),
    "mongo image": (infra_problems, "services/mongo/image", "mongo:6"),
    "no kafka healthcheck": (infra_problems, "services/kafka/healthcheck", {"disable": True}),
    "no mailpit healthcheck": (infra_problems, "services/mailpit/healthcheck", DELETE),
    "create-topics too early": (infra_problems, "services/create-topics/depends_on/kafka/condition", "service_started"),
    "bootstrap to host listener": (kafka_wiring_problems, "services/intake/environment/KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
    "bootstrap wrong port": (kafka_wiring_problems, "services/notifier/environment/KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
    "service without bootstrap": (kafka_wiring_problems, "services/routing/environment/KAFKA_BOOTSTRAP_SERVERS", DELETE),
    "advertised not bound": (kafka_wiring_problems, "services/kafka/environment/KAFKA_LISTENERS", "EXTERNAL://:9092,CONTROLLER://:9093"),
    "voter wrong port": (kafka_wiring_problems, "services/kafka/environment/KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9999"),
    "mongo url host": (mongo_wiring_problems, "services/approval/environment/MONGODB_URL", "mongodb://localhost:27017/?replicaSet=rs0"),
    "mongo url no rs": (mongo_wiring_problems, "services/portal-sync/environment/MONGODB_URL", "mongodb://mongo:27017/"),
    "mongo standalone": (mongo_wiring_problems, "services/mongo/command", ["--bind_ip_all"]),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_compose_infra_rule_catches_breakage(compose, name):
    rule, path, value = MUTATIONS[name]
    assert rule(mutated(compose, path, value)), f"{rule.__name__} did not notice: {name}"


def test_compose_volumes_are_named_and_declared(compose):
    declared = set(compose.get("volumes") or {})
    for name in ("kafka", "mongo"):
        sources = {str(v).split(":", 1)[0] for v in compose["services"][name].get("volumes") or []}
        assert sources and sources <= declared, f"{name} data must be on named volumes"
    kafka_env = env_of(compose["services"]["kafka"])
    kafka_mounts = {str(v).split(":")[1] for v in compose["services"]["kafka"]["volumes"]}
    assert kafka_env["KAFKA_LOG_DIRS"] in kafka_mounts, "kafka log dir must be the mounted volume"
