"""Readers shared by the deployment-file checks: paths, compose/k8s loaders and small parsers."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S = ROOT / "deploy" / "k8s"

SERVICE_ENV = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "MONGODB_DATABASE", "HTTP_PORT", "LOG_LEVEL")
TOPIC_ENV = (
    "TOPIC_CASE_COMMANDS",
    "TOPIC_CASE_EVENTS",
    "TOPIC_CASE_REJECTIONS",
    "TOPIC_APPROVAL_COMMANDS",
    "TOPIC_APPROVAL_EVENTS",
    "TOPIC_PORTAL_CASE_STATUS",
    "TOPIC_NOTIFICATION_EVENTS",
    "TOPIC_ROUTING_COMMANDS",
)
SMTP_ENV = ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM")
MAIL_CATCHER_IMAGE = re.compile(r"axllent/mailpit(:v?\d+(\.\d+)*)?")
DELETE = object()


def load_compose() -> dict:
    """docker-compose.yml as plain data: merge keys resolved, no object shared between services
    (YAML aliases would be), so a test can break one service's copy alone."""
    return json.loads(json.dumps(yaml.safe_load(COMPOSE.read_text())))


def service_packages() -> dict[str, Path]:
    """Every runnable service package in the repo: services/<folder>/<package>/__main__.py."""
    return {main.parent.name: main.parent for main in sorted(ROOT.glob("services/*/*/__main__.py"))}


def env_of(service: dict) -> dict[str, str]:
    """A compose service's environment as a dict of strings (map or list form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def build_args(service: dict) -> dict[str, str]:
    """Build args of a compose service (map or list form)."""
    args = (service.get("build") or {}).get("args") or {}
    return dict(a.split("=", 1) for a in args) if isinstance(args, list) else dict(args)


def published_ports(service: dict) -> dict[int, int]:
    """Container port -> host port of a compose service's short-syntax `ports`."""
    out = {}
    for spec in service.get("ports") or []:
        parts = str(spec).split("/")[0].split(":")
        if len(parts) >= 2:
            out[int(parts[-1])] = int(parts[-2])
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


def app_services(compose: dict) -> dict[str, str]:
    """Long-running compose services built from deploy/Dockerfile -> their SERVICE_MODULE."""
    one_shot = one_shot_services(compose)
    return {n: build_args(compose["services"][n]).get("SERVICE_MODULE", "") for n in dockerfile_built(compose) if n not in one_shot}


def image_repo(image: str) -> str:
    """An image reference without its tag: case-backbone/intake:local -> case-backbone/intake."""
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def mutated(data: dict, path: str, value) -> dict:
    """A deep copy of `data` with the value at 'a/b/c' replaced (or deleted with DELETE)."""
    broken = copy.deepcopy(data)
    *head, last = path.split("/")
    node = broken
    for key in head:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return broken


def k8s_docs(folder: Path = K8S) -> dict[str, list[dict]]:
    """Every manifest file of the folder -> its non-empty documents."""
    return {p.name: [d for d in yaml.safe_load_all(p.read_text()) if d] for p in sorted(folder.glob("*.y*ml"))}


def by_kind(kind: str, name: str | None = None) -> list[dict]:
    """Manifests of one kind (and name) across deploy/k8s."""
    return [d for items in k8s_docs().values() for d in items
            if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def container_port(container: dict, ref) -> int | None:
    """The containerPort a probe/Service port reference (name or number) resolves to."""
    for p in container.get("ports", []):
        if ref in (p.get("name"), p.get("containerPort")):
            return p["containerPort"]
    return None


def main_service_name(package: Path) -> str | None:
    """The service_name a package's inject.main() forces (it wins over env SERVICE_NAME), if any."""
    inject = package / "inject.py"
    if not inject.is_file():
        return None
    body = inject.read_text().partition("\ndef main(")[2]
    found = re.search(r"service_name=\"([^\"]+)\"", body.split("\ndef ", 1)[0])
    return found.group(1) if found else None
