"""Structural checks of the deployment files (docker-compose.yml, deploy/Dockerfile, deploy/k8s).

Nothing here needs Docker or a cluster. Each rule is a function returning a list of
problems; it is run on the real files and, to prove it can fail, on a broken copy.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S = ROOT / "deploy" / "k8s"

SERVICE_ENV = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "MONGODB_URL",
    "MONGODB_DATABASE",
    "HTTP_PORT",
    "LOG_LEVEL",
)
TOPIC_ENV = (
    "TOPIC_CASE_COMMANDS",
    "TOPIC_CASE_EVENTS",
    "TOPIC_CASE_REJECTIONS",
    "TOPIC_APPROVAL_COMMANDS",
    "TOPIC_APPROVAL_EVENTS",
    "TOPIC_PORTAL_CASE_STATUS",
    "TOPIC_NOTIFICATION_EVENTS",
)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_of(service: dict) -> dict[str, str]:
    """A compose service's environment as a dict of strings (map or list form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def parse_listeners(value: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}."""
    out = {}
    for item in filter(None, (s.strip() for s in value.split(","))):
        name, rest = item.split("://", 1)
        host, port = rest.rsplit(":", 1)
        out[name] = (host, int(port))
    return out


def one_shot_services(compose: dict) -> set[str]:
    """Services something waits on to *complete*: they exit, so they need no healthcheck."""
    return {
        dep
        for svc in compose["services"].values()
        for dep, cond in (svc.get("depends_on") or {}).items()
        if isinstance(cond, dict) and cond.get("condition") == "service_completed_successfully"
    }


def dockerfile_built(compose: dict) -> dict[str, dict]:
    """Compose services built from deploy/Dockerfile -> their build section."""
    out = {}
    for name, svc in compose["services"].items():
        build = svc.get("build")
        if isinstance(build, dict) and (ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE:
            out[name] = build
    return out


# --------------------------------------------------------------------------- compose rules


def compose_problems(c: dict) -> list[str]:
    problems: list[str] = []
    services = c.get("services", {})
    for name in ("kafka", "mongo", "create-topics", "intake"):
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

    deps = services["intake"].get("depends_on") or {}
    want = {"kafka": "service_healthy", "mongo": "service_healthy", "create-topics": "service_completed_successfully"}
    for dep, cond in want.items():
        got = (deps.get(dep) or {}).get("condition") if isinstance(deps, dict) else None
        if got != cond:
            problems.append(f"intake depends_on {dep}: condition {got!r}, want {cond!r}")
    if ((services["create-topics"].get("depends_on") or {}).get("kafka") or {}).get("condition") != "service_healthy":
        problems.append("create-topics must wait for kafka to be healthy")
    return problems


def kafka_wiring_problems(c: dict) -> list[str]:
    """Every service's KAFKA_BOOTSTRAP_SERVERS names a listener the kafka service advertises to containers."""
    problems: list[str] = []
    kafka_name = "kafka"
    kafka = c["services"][kafka_name]
    kenv = env_of(kafka)
    advertised = parse_listeners(kenv.get("KAFKA_ADVERTISED_LISTENERS", ""))
    bound = parse_listeners(kenv.get("KAFKA_LISTENERS", ""))
    protocols = dict(p.split(":", 1) for p in kenv.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",") if p)
    controller = set(kenv.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(","))
    reachable_names = {kafka_name, kafka.get("hostname"), kafka.get("container_name")} - {None}

    if kenv.get("KAFKA_PROCESS_ROLES", "").replace(" ", "") not in ("broker,controller", "controller,broker"):
        problems.append("kafka is not in KRaft combined mode (KAFKA_PROCESS_ROLES)")
    if not kenv.get("CLUSTER_ID"):
        problems.append("kafka needs CLUSTER_ID to format its storage")
    node_id = kenv.get("KAFKA_NODE_ID")
    for voter in kenv.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(","):
        vid, addr = voter.split("@", 1)
        host, port = addr.rsplit(":", 1)
        ctrl_ports = {bound[n][1] for n in controller if n in bound}
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
    for name in ("intake", "create-topics"):
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
            continue
        parts = urlsplit(url)
        if parts.scheme != "mongodb" or parts.hostname not in names or (parts.port or 27017) != port:
            problems.append(f"{name}: MONGODB_URL {url!r} does not point at the mongo service")
        if parse_qs(parts.query).get("replicaSet") != [repl_set]:
            problems.append(f"{name}: MONGODB_URL must name replicaSet={repl_set}")
    if "MONGODB_URL" not in env_of(c["services"]["intake"]):
        problems.append("intake has no MONGODB_URL")
    return problems


def build_problems(c: dict) -> list[str]:
    problems: list[str] = []
    built = dockerfile_built(c)
    if "intake" not in built or "create-topics" not in built:
        return [f"intake and create-topics must build from deploy/Dockerfile (built: {sorted(built)})"]
    args = built["intake"].get("args") or {}
    if isinstance(args, list):
        args = dict(a.split("=", 1) for a in args)
    if args.get("SERVICE_MODULE") != "intake":
        problems.append(f"intake SERVICE_MODULE is {args.get('SERVICE_MODULE')!r}")
    if not (ROOT / "services" / "intake" / "intake").is_dir():
        problems.append("services/intake/intake does not exist")
    ct = c["services"]["create-topics"]
    ct_args = ct["build"].get("args") or {}
    command = ct.get("command") or ["python", "-m", ct_args.get("SERVICE_MODULE", "")]
    command = command.split() if isinstance(command, str) else command
    if command[-3:] != ["python", "-m", "shared.runtime.create_topics"]:
        problems.append(f"create-topics runs {command!r}")
    intake = c["services"]["intake"]
    if "8081:8080" not in [str(p) for p in intake.get("ports", [])]:
        problems.append("intake must publish 8081:8080")
    env = env_of(intake)
    if env.get("HTTP_PORT", "8080") != "8080":
        problems.append("intake HTTP_PORT does not match the published container port 8080")
    if env.get("HTTP_HOST") != "0.0.0.0":
        problems.append("intake must bind HTTP on 0.0.0.0 (the settings default 127.0.0.1 is unreachable from outside the container)")
    return problems


def env_consistency_problems(c: dict) -> list[str]:
    """create-topics and every service see the same topic names and store."""
    problems: list[str] = []
    clients = {n: env_of(s) for n, s in c["services"].items() if n in ("create-topics", "intake")}
    for key in (*SERVICE_ENV, *TOPIC_ENV):
        values = {n: e.get(key) for n, e in clients.items() if key != "HTTP_PORT" or n != "create-topics"}
        if len(set(values.values())) != 1 or None in values.values():
            problems.append(f"{key} differs or is missing: {values}")
    if env_of(c["services"]["intake"]).get("SERVICE_NAME") != "intake":
        problems.append("intake SERVICE_NAME must be intake")
    return problems


COMPOSE_RULES = [compose_problems, kafka_wiring_problems, mongo_wiring_problems, build_problems, env_consistency_problems]


@pytest.mark.parametrize("rule", COMPOSE_RULES, ids=lambda r: r.__name__)
def test_compose_rule_holds(compose, rule):
    assert rule(compose) == []


def test_compose_has_no_planned_service_running(compose):
    planned = {"approval", "routing", "portal-sync", "portal_sync", "notifier"}
    assert planned.isdisjoint(compose["services"]), "planned services are added only once they exist"


def test_compose_volumes_are_named_and_declared(compose):
    declared = set(compose.get("volumes") or {})
    for name in ("kafka", "mongo"):
        vols = compose["services"][name].get("volumes") or []
        sources = {str(v).split(":", 1)[0] for v in vols}
        assert sources and sources <= declared, f"{name} data must be on named volumes"
    kafka_env = env_of(compose["services"]["kafka"])
    kafka_mounts = {str(v).split(":")[1] for v in compose["services"]["kafka"]["volumes"]}
    assert kafka_env["KAFKA_LOG_DIRS"] in kafka_mounts, "kafka log dir must be the mounted volume"


def _set(d: dict, path: str, value):
    *head, last = path.split("/")
    for key in head:
        d = d[key]
    if value is _DELETE:
        del d[last]
    else:
        d[last] = value


_DELETE = object()

MUTATIONS = {
    "kafka image": (compose_problems, "services/kafka/image", "bitnami/kafka:3.7"),
    "mongo image": (compose_problems, "services/mongo/image", "mongo:6"),
    "no intake healthcheck": (compose_problems, "services/intake/healthcheck", _DELETE),
    "no kafka healthcheck": (compose_problems, "services/kafka/healthcheck", {"disable": True}),
    "intake starts early": (compose_problems, "services/intake/depends_on/create-topics/condition", "service_started"),
    "mongo only started": (compose_problems, "services/intake/depends_on/mongo/condition", "service_started"),
    "bootstrap to host listener": (kafka_wiring_problems, "services/intake/environment/KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
    "bootstrap wrong port": (kafka_wiring_problems, "services/intake/environment/KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
    "advertised not bound": (kafka_wiring_problems, "services/kafka/environment/KAFKA_LISTENERS", "EXTERNAL://:9092,CONTROLLER://:9093"),
    "voter wrong port": (kafka_wiring_problems, "services/kafka/environment/KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9999"),
    "mongo url host": (mongo_wiring_problems, "services/intake/environment/MONGODB_URL", "mongodb://localhost:27017/?replicaSet=rs0"),
    "mongo url no rs": (mongo_wiring_problems, "services/intake/environment/MONGODB_URL", "mongodb://mongo:27017/"),
    "mongo standalone": (mongo_wiring_problems, "services/mongo/command", ["--bind_ip_all"]),
    "wrong module": (build_problems, "services/intake/build/args/SERVICE_MODULE", "intake.main"),
    "http on loopback": (build_problems, "services/intake/environment/HTTP_HOST", "127.0.0.1"),
    "topic mismatch": (env_consistency_problems, "services/create-topics/environment/TOPIC_CASE_EVENTS", "cases.events"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_compose_rule_catches_breakage(compose, name):
    rule, path, value = MUTATIONS[name]
    broken = copy.deepcopy(compose)
    _set(broken, path, value)
    assert rule(broken), f"{rule.__name__} did not notice: {name}"


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        instr, _, args = buf.strip().partition(" ")
        out.append((instr.upper(), args.strip()))
        buf = ""
    return out


def dockerfile_problems(text: str) -> list[str]:
    problems: list[str] = []
    ins = dockerfile_instructions(text)
    froms = [i for i, (k, _) in enumerate(ins) if k == "FROM"]
    if len(froms) < 2:
        problems.append("not multi-stage")
    if not froms:
        return problems
    for i in froms:
        if not ins[i][1].startswith("python:3.11-slim"):
            problems.append(f"base image {ins[i][1]!r} is not python:3.11-slim")
    final = ins[froms[-1] :]

    if not any(k == "ARG" and a.split("=")[0] == "SERVICE_MODULE" for k, a in final):
        problems.append("final stage lacks ARG SERVICE_MODULE")
    if not any(k == "ENV" and re.search(r"\bSERVICE_MODULE=\$\{?SERVICE_MODULE\}?", a) for k, a in final):
        problems.append("final stage does not persist SERVICE_MODULE as ENV")

    users = [a for k, a in final if k == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("final stage does not switch to a non-root USER")
    elif not users[-1].split(":")[0].isdigit():
        problems.append("USER should be numeric so Kubernetes can enforce runAsNonRoot")

    if not any(k == "EXPOSE" and "8080" in a.split() for k, a in final):
        problems.append("EXPOSE 8080 missing")
    hcs = [a for k, a in final if k == "HEALTHCHECK"]
    if not hcs or "urllib" not in hcs[-1] or "/health" not in hcs[-1]:
        problems.append("HEALTHCHECK must GET /health with python's urllib")
    if not any(k == "RUN" and "pip install" in a for k, a in ins[: froms[-1]] + final):
        problems.append("project is not pip-installed")

    cmds = [a for k, a in final if k == "CMD"]
    if not cmds:
        problems.append("no CMD")
    else:
        try:
            cmd = json.loads(cmds[-1])
        except json.JSONDecodeError:
            cmd = None
        # Exec form does not expand variables: a shell must do it, and exec python.
        if not (
            isinstance(cmd, list)
            and cmd[:2] in (["sh", "-c"], ["/bin/sh", "-c"])
            and re.search(r"^exec python -m \"?\$\{?SERVICE_MODULE\}?\"?$", cmd[2])
        ):
            problems.append(f"CMD {cmds[-1]!r} does not exec `python -m $SERVICE_MODULE`")
    return problems


def test_dockerfile_rules_hold():
    assert dockerfile_problems(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize(
    "old,new",
    [
        ("ARG SERVICE_MODULE\n", "\n"),
        ("USER 10001:10001", "USER root"),
        ("HEALTHCHECK", "# HEALTHCHECK"),
        ('CMD ["sh", "-c", "exec python -m \\"$SERVICE_MODULE\\""]', 'CMD ["python", "-m", "$SERVICE_MODULE"]'),
        ("FROM python:3.11-slim AS runtime", "FROM python:3.12-slim AS runtime"),
        ("ENV SERVICE_MODULE=${SERVICE_MODULE}", "ENV OTHER=1"),
    ],
)
def test_dockerfile_rule_catches_breakage(old, new):
    text = DOCKERFILE.read_text()
    assert old in text, f"test out of date: {old!r} not in Dockerfile"
    assert dockerfile_problems(text.replace(old, new))


def test_dockerfile_copies_exactly_what_pyproject_packages():
    """pip install . in the image must find every package pyproject declares, and the build
    context (.dockerignore) must let those folders through."""
    ins = dockerfile_instructions(DOCKERFILE.read_text())
    copied = {a.split()[0] for k, a in ins if k == "COPY" and not a.startswith("--from")}
    finder = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for where in finder["where"]:
        top = Path(where).parts[0] if where != "." else None
        if top:
            assert top in copied, f"pyproject finds packages in {where} but the Dockerfile does not COPY {top}"
    for pattern in finder["include"]:
        top = pattern.rstrip("*").split(".")[0]
        assert any((ROOT / w / top).is_dir() for w in finder["where"]), f"{pattern} matches no folder"
        home = next(w for w in finder["where"] if (ROOT / w / top).is_dir())
        assert (home == "." and top in copied) or Path(home).parts[0] in copied
    assert "pyproject.toml" in copied
    for src in copied:
        assert not dockerignored(src), f".dockerignore drops {src}, which the Dockerfile copies"


def test_service_modules_are_packaged(compose):
    """SERVICE_MODULE of every compose service must be a package pip install . ships."""
    finder = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for name, build in dockerfile_built(compose).items():
        module = (build.get("args") or {})["SERVICE_MODULE"]
        top = module.split(".")[0]
        assert any(fnmatch.fnmatch(top, p) for p in finder["include"]), f"{name}: {top} not in pyproject include"
        assert any((ROOT / w / top).is_dir() for w in finder["where"]), f"{name}: {top} not under pyproject where"


# --------------------------------------------------------------------------- .dockerignore


def dockerignored(path: str) -> bool:
    """Simplified .dockerignore evaluation for a top-level path: last matching rule wins."""
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern):
            excluded = not negate
    return excluded


def test_dockerignore_keeps_context_small():
    for heavy in (".git", ".venv", ".local", "tests"):
        assert dockerignored(heavy), f"{heavy} is sent to the docker build context"


# --------------------------------------------------------------------------- Kubernetes


def k8s_docs() -> dict[str, list[dict]]:
    return {p.name: [d for d in yaml.safe_load_all(p.read_text()) if d] for p in sorted(K8S.glob("*.y*ml"))}


def test_every_k8s_file_parses():
    docs = k8s_docs()
    assert "kustomization.yaml" in docs
    for name, items in docs.items():
        assert items, f"{name} is empty"
        for d in items:
            assert d.get("apiVersion") and d.get("kind"), f"{name}: document without apiVersion/kind"


def kustomization_problems(folder: Path) -> list[str]:
    kust = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = set(kust.get("resources") or [])
    present = {p.name for p in folder.glob("*.y*ml")} - {"kustomization.yaml"}
    problems = [f"{f} not listed in kustomization resources" for f in sorted(present - listed)]
    problems += [f"{f} listed but missing" for f in sorted(listed - present)]
    return problems


def test_kustomization_lists_every_file():
    assert kustomization_problems(K8S) == []


def test_kustomization_rule_catches_unlisted_file(tmp_path):
    for p in K8S.glob("*.yaml"):
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "approval-deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    assert kustomization_problems(tmp_path) == ["approval-deployment.yaml not listed in kustomization resources"]


def by_kind(kind: str, name: str | None = None) -> list[dict]:
    return [d for items in k8s_docs().values() for d in items if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def container_port(container: dict, ref) -> int | None:
    for p in container.get("ports", []):
        if ref in (p.get("name"), p.get("containerPort")):
            return p["containerPort"]
    return None


def deployment_problems(dep: dict, configmaps: dict[str, dict]) -> list[str]:
    problems: list[str] = []
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env = {}
    for src in c.get("envFrom", []):
        ref = src.get("configMapRef", {}).get("name")
        if ref not in configmaps:
            problems.append(f"envFrom configmap {ref!r} not in the manifests")
        else:
            env.update(configmaps[ref].get("data", {}))
    env.update({e["name"]: e.get("value") for e in c.get("env", [])})
    for key in (*SERVICE_ENV, *TOPIC_ENV, "SERVICE_NAME"):
        if key not in env:
            problems.append(f"{dep['metadata']['name']}: env {key} not set")
    if env.get("HTTP_HOST") != "0.0.0.0":
        problems.append("HTTP_HOST must be 0.0.0.0 for the kubelet to reach the probes")
    http_port = int(env.get("HTTP_PORT", 8080))
    if container_port(c, http_port) is None:
        problems.append(f"HTTP_PORT {http_port} is not a container port")
    for probe in ("readinessProbe", "livenessProbe"):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != "/health" or container_port(c, get.get("port")) != http_port:
            problems.append(f"{probe} must GET /health on container port {http_port}, has {get}")
    for probe in ("startupProbe",):
        get = (c.get(probe) or {}).get("httpGet")
        if get and (get.get("path") != "/health" or container_port(c, get.get("port")) != http_port):
            problems.append(f"{probe} must GET /health on the container port")
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        if not {"cpu", "memory"} <= set(res.get(part) or {}):
            problems.append(f"resources.{part} needs cpu and memory")
    sel = dep["spec"]["selector"]["matchLabels"]
    if not sel.items() <= dep["spec"]["template"]["metadata"]["labels"].items():
        problems.append("selector does not match pod labels")
    return problems


@pytest.fixture(scope="module")
def configmaps() -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in by_kind("ConfigMap")}


def test_intake_deployment(configmaps):
    (dep,) = by_kind("Deployment", "intake")
    assert deployment_problems(dep, configmaps) == []
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert c["image"].split(":")[0].endswith("intake")
    # The image's CMD runs SERVICE_MODULE=intake; an override here must not change that.
    assert "command" not in c or c["command"][-3:] == ["python", "-m", "intake"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c["readinessProbe"]["httpGet"].update(path="/ready"),
        lambda c: c["livenessProbe"]["httpGet"].update(port=9090),
        lambda c: c.pop("livenessProbe"),
        lambda c: c["resources"].pop("limits"),
        lambda c: c["ports"][0].update(containerPort=8000),
        lambda c: c["envFrom"][0]["configMapRef"].update(name="nope"),
    ],
    ids=["ready-path", "liveness-port", "no-liveness", "no-limits", "port-mismatch", "unknown-configmap"],
)
def test_deployment_rule_catches_breakage(configmaps, mutate):
    (dep,) = copy.deepcopy(by_kind("Deployment", "intake"))
    mutate(dep["spec"]["template"]["spec"]["containers"][0])
    assert deployment_problems(dep, configmaps)


def test_intake_service_targets_the_http_port():
    (svc,) = by_kind("Service", "intake")
    (dep,) = by_kind("Deployment", "intake")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert all(container_port(c, p["targetPort"]) == 8080 for p in svc["spec"]["ports"])


def test_create_topics_job(configmaps):
    (job,) = by_kind("Job", "create-topics")
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in ("Never", "OnFailure")
    (c,) = spec["containers"]
    assert c["command"][-3:] == ["python", "-m", "shared.runtime.create_topics"]
    refs = {s["configMapRef"]["name"] for s in c["envFrom"]}
    (dep,) = by_kind("Deployment", "intake")
    dep_refs = {s["configMapRef"]["name"] for s in dep["spec"]["template"]["spec"]["containers"][0]["envFrom"]}
    assert refs == dep_refs and refs <= configmaps.keys(), "the Job must see the same topics/brokers as the services"


def test_configmap_matches_compose_topics_and_database(compose, configmaps):
    """Topic names and database are the same locally and in the cluster; only addresses differ."""
    (cm,) = configmaps.values()
    local = env_of(compose["services"]["intake"])
    for key in (*TOPIC_ENV, "MONGODB_DATABASE", "HTTP_PORT"):
        assert str(cm["data"][key]) == local[key], key
    assert all(isinstance(v, str) for v in cm["data"].values()), "ConfigMap data values must be strings"
    assert "replicaSet=" in cm["data"]["MONGODB_URL"]


def test_kustomize_namespace_matches_namespace_manifest():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    (ns,) = by_kind("Namespace")
    assert kust["namespace"] == ns["metadata"]["name"]
    image_names = {i["name"] for i in kust.get("images", [])}
    images = {c["image"].split(":")[0] for kind in ("Deployment", "Job") for d in by_kind(kind) for c in d["spec"]["template"]["spec"]["containers"]}
    assert images <= image_names, "every image should be settable through kustomize `images:`"


def test_no_planned_service_deployed():
    names = {d["metadata"]["name"] for kind in ("Deployment", "Service") for d in by_kind(kind)}
    assert names.isdisjoint({"approval", "routing", "portal-sync", "notifier"})
