"""deploy/k8s against docker-compose.yml: the same services, topics and links in both, secrets kept secret.

Rules return a list of problems; each runs on the real files and on broken copies.
"""

from __future__ import annotations

import copy

import pytest

from tests.unit.deploy.manifests import (DELETE, K8S, SMTP_ENV, TOPIC_ENV, app_services, env_of, image_repo,
                                         k8s_docs, mutated)


def manifests() -> dict[str, dict[str, dict]]:
    """kind -> name -> manifest, over deploy/k8s."""
    out: dict[str, dict[str, dict]] = {}
    for items in k8s_docs().values():
        for d in items:
            if "metadata" in d:  # the Kustomization has none
                out.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    return out


def container(m: dict, name: str) -> dict:
    return m["Deployment"][name]["spec"]["template"]["spec"]["containers"][0]


def env_source(c: dict, var: str) -> tuple | None:
    """Where a container's env var comes from: ('value', v), ('configMap'|'secret', name, key), or None."""
    for e in c.get("env", []):
        if e["name"] == var:
            if "value" in e:
                return ("value", e["value"])
            src = e.get("valueFrom") or {}
            for kind in ("configMap", "secret"):
                ref = src.get(f"{kind}KeyRef")
                if ref:
                    return (kind, ref.get("name"), ref.get("key"))
    return None


def same_services_problems(compose: dict, m: dict) -> list[str]:
    """Every SERVICE_MODULE compose runs is deployed (same name, same image) and nothing else is."""
    problems: list[str] = []
    apps, deployed = app_services(compose), m.get("Deployment", {})
    for name in sorted(set(apps) - set(deployed)):
        problems.append(f"{name} ({apps[name]}) runs in compose but has no Deployment")
    for name in sorted(set(deployed) - set(apps)):
        problems.append(f"Deployment {name} runs no SERVICE_MODULE of compose")
    for name in sorted(set(apps) & set(deployed)):
        c = container(m, name)
        if image_repo(c["image"]) != image_repo(compose["services"][name]["image"]):
            problems.append(f"{name}: k8s image {c['image']!r} is not compose's {compose['services'][name]['image']!r}")
        if "command" in c and c["command"][-3:] != ["python", "-m", apps[name]]:
            problems.append(f"{name}: command {c['command']!r} does not run {apps[name]}")
        if name not in m.get("Service", {}):
            problems.append(f"{name}: no Service")
    return problems


def shared_env_problems(compose: dict, m: dict) -> list[str]:
    """Topic names, database and port are the same locally and in the cluster; SMTP is configured."""
    problems: list[str] = []
    data = m["ConfigMap"]["backbone-env"]["data"]
    local = env_of(compose["services"]["intake"])
    for key in (*TOPIC_ENV, "MONGODB_DATABASE", "HTTP_PORT"):
        if str(data.get(key)) != local.get(key):
            problems.append(f"{key}: configmap {data.get(key)!r}, compose {local.get(key)!r}")
    for key in SMTP_ENV:
        if not data.get(key):
            problems.append(f"configmap has no {key}")
    if not str(data.get("SMTP_PORT", "")).isdigit():
        problems.append("SMTP_PORT must be a port number")
    if "replicaSet=" not in data.get("MONGODB_URL", ""):
        problems.append("MONGODB_URL must name the replica set")
    for cm in m["ConfigMap"].values():
        if "LINK_SECRET" in (cm.get("data") or {}):
            problems.append(f"ConfigMap {cm['metadata']['name']} holds LINK_SECRET")
    return problems


def links_problems(_compose: dict, m: dict) -> list[str]:
    """Each service its own public address; notifier's case links = web's; approval's key from a Secret."""
    problems: list[str] = []
    sources = {name: env_source(container(m, name), "PUBLIC_BASE_URL") for name in m["Deployment"]}
    if len(set(sources.values())) != len(sources):
        problems.append(f"two services share a PUBLIC_BASE_URL source: {sources}")
    if env_source(container(m, "notifier"), "CASE_LINK_BASE") != sources.get("web"):
        problems.append("notifier CASE_LINK_BASE is not web's PUBLIC_BASE_URL")
    secret = env_source(container(m, "approval"), "LINK_SECRET")
    if not secret or secret[0] != "secret":
        problems.append(f"approval LINK_SECRET must come from a Secret, comes from {secret}")
    elif secret[1] in m.get("Secret", {}):  # a value in the repository is a value everyone knows
        problems.append(f"Secret {secret[1]} must be created by the operator, not shipped in the manifests")
    if env_source(container(m, "notifier"), "APPROVAL_PUBLIC_URL") != sources.get("approval"):
        problems.append("notifier APPROVAL_PUBLIC_URL is not approval's PUBLIC_BASE_URL")
    for name in m["Deployment"]:
        if name != "approval" and env_source(container(m, name), "LINK_SECRET"):
            problems.append(f"{name} does not sign links; it must not get LINK_SECRET")
        if env_source(container(m, name), "DEV_MODE"):
            problems.append(f"{name} sets DEV_MODE: it would accept a published link secret")
    for cm in m["ConfigMap"].values():
        if "DEV_MODE" in (cm.get("data") or {}):
            problems.append(f"ConfigMap {cm['metadata']['name']} sets DEV_MODE")
    return problems


def test_same_services_in_compose_and_k8s(compose):
    assert same_services_problems(compose, manifests()) == []


def test_shared_env_matches_compose(compose):
    assert shared_env_problems(compose, manifests()) == []


def test_links_and_secret():
    assert links_problems({}, manifests()) == []


def _drop_env(var: str):
    return lambda c: c.update(env=[e for e in c["env"] if e["name"] != var])


BREAKAGES = {
    "deployment missing": (same_services_problems, lambda m: m["Deployment"].pop("routing")),
    "service missing": (same_services_problems, lambda m: m["Service"].pop("notifier")),
    "wrong image": (same_services_problems, lambda m: container(m, "portal-sync").update(image="case-backbone/portal_sync")),
    "wrong command": (same_services_problems, lambda m: container(m, "approval").update(command=["python", "-m", "intake"])),
    "topic renamed": (shared_env_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(TOPIC_CASE_EVENTS="events")),
    "no smtp host": (shared_env_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].pop("SMTP_HOST")),
    "secret in configmap": (shared_env_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(LINK_SECRET="x")),
    "literal link secret": (links_problems, lambda m: container(m, "approval").update(
        env=[{"name": "LINK_SECRET", "value": "x"} if e["name"] == "LINK_SECRET" else e for e in container(m, "approval")["env"]])),
    "secret shipped": (links_problems, lambda m: m.setdefault("Secret", {}).update({"approval-link-secret": {
        "metadata": {"name": "approval-link-secret"}, "stringData": {"LINK_SECRET": "x"}}})),
    "approval links elsewhere": (links_problems, lambda m: _drop_env("APPROVAL_PUBLIC_URL")(container(m, "notifier"))),
    "dev mode": (links_problems, lambda m: container(m, "approval")["env"].append({"name": "DEV_MODE", "value": "true"})),
    "dev mode in configmap": (links_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(DEV_MODE="true")),
    "case links elsewhere": (links_problems, lambda m: _drop_env("CASE_LINK_BASE")(container(m, "notifier"))),
    "shared public url": (links_problems, lambda m: container(m, "routing").update(env=copy.deepcopy(container(m, "intake")["env"]))),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_wiring_rule_catches_breakage(compose, name):
    rule, breakage = BREAKAGES[name]
    m = copy.deepcopy(manifests())
    breakage(m)
    assert rule(compose, m), f"{rule.__name__} did not notice: {name}"


def test_compose_service_without_deployment_is_noticed(compose):
    extra = mutated(compose, "services/notifier-2", copy.deepcopy(compose["services"]["notifier"]))
    assert same_services_problems(extra, manifests()) == ["notifier-2 (notifier) runs in compose but has no Deployment"]
    assert same_services_problems(mutated(compose, "services/routing", DELETE), manifests()) == [
        "Deployment routing runs no SERVICE_MODULE of compose"]


def test_no_secret_is_shipped_and_the_link_secret_is_documented():
    """No Secret (nor a value of one) is in the manifests; the README says how the operator creates the link secret."""
    assert not [p.name for p in K8S.glob("*.yaml") if "kind: Secret" in p.read_text()]
    assert env_source(container(manifests(), "approval"), "LINK_SECRET") == ("secret", "approval-link-secret", "LINK_SECRET")
    readme = (K8S.parent / "README.md").read_text()
    assert "kubectl -n case-backbone create secret generic approval-link-secret" in readme
    assert "--from-literal=LINK_SECRET=" in readme


@pytest.mark.parametrize("name", sorted(manifests()["Deployment"]))
def test_replica_count_is_explained(name):
    """A Deployment file says why its replica count is safe (consumer groups, timers, sender loops)."""
    text = (K8S / f"{name}-deployment.yaml").read_text()
    head = text.split("apiVersion:", 1)[0].lower()
    assert "replica" in head, f"{name}-deployment.yaml does not explain its replica count"
