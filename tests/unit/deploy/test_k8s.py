"""deploy/k8s: every service deployed with probes, resources, hardening and its env, checked without a cluster.

Only what the API schemas cannot know (test_schemas.py validates every manifest against them). Rules return a
list of problems; each runs on the real manifests and on broken copies (one Deployment: the rule is the same for all).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.unit.deploy.manifests import K8S, SERVICE_ENV, TOPIC_ENV, by_kind, container_port


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
    (tmp_path / "extra-deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    assert kustomization_problems(tmp_path) == ["extra-deployment.yaml not listed in kustomization resources"]


# Secrets the operator creates before the first apply (deploy/README.md); their values are never in the repository.
# Kafka: one Secret per principal (kafka-admin for the Jobs, kafka-<service> for each Deployment).
KAFKA_PRINCIPALS = ("admin", "intake", "approval", "routing", "portal-sync", "notifier", "web")
OPERATOR_SECRETS = {("approval-link-secret", "LINK_SECRET"), ("web-form-secret", "secret")} | {
    (f"kafka-{principal}", key) for principal in KAFKA_PRINCIPALS for key in ("username", "password")}


def resolve_env(container: dict, configmaps: dict[str, dict], secrets: dict[str, dict]) -> tuple[dict, list[str]]:
    """The container's env (envFrom, value, configMapKeyRef, secretKeyRef) and the references that do not resolve."""
    env, problems = {}, []
    for src in container.get("envFrom", []):
        ref = src.get("configMapRef", {}).get("name")
        if ref not in configmaps:
            problems.append(f"envFrom configmap {ref!r} not in the manifests")
        else:
            env.update(configmaps[ref].get("data", {}))
    for e in container.get("env", []):
        source = e.get("valueFrom") or {}
        if "value" in e:
            env[e["name"]] = e["value"]
        elif "configMapKeyRef" in source or "secretKeyRef" in source:
            kind, ref = ("configMap", source["configMapKeyRef"]) if "configMapKeyRef" in source else ("secret", source["secretKeyRef"])
            doc = (configmaps if kind == "configMap" else secrets).get(ref.get("name"))
            values = {**(doc or {}).get("data", {}), **(doc or {}).get("stringData", {})}
            if kind == "secret" and (ref.get("name"), ref.get("key")) in OPERATOR_SECRETS:
                env[e["name"]] = f"<secret:{ref['name']}/{ref['key']}>"  # created by the operator, never shipped
            elif ref.get("key") not in values:
                problems.append(f"{e['name']}: {kind} {ref.get('name')!r} key {ref.get('key')!r} not in the manifests")
            else:
                env[e["name"]] = f"<{kind}:{ref['name']}/{ref['key']}>" if kind == "secret" else values[ref["key"]]
    return env, problems


def deployment_problems(dep: dict, configmaps: dict[str, dict], secrets: dict[str, dict]) -> list[str]:
    """Env complete and resolvable, probes at the HTTP port (liveness /livez, start-up and readiness /readyz),
    time to drain, resources, non-root hardening."""
    name = dep["metadata"]["name"]
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env, problems = resolve_env(c, configmaps, secrets)
    for key in (*SERVICE_ENV, *TOPIC_ENV, "SERVICE_NAME", "PUBLIC_BASE_URL"):
        if key not in env:
            problems.append(f"{name}: env {key} not set")
    if env.get("SERVICE_NAME") != name:
        problems.append(f"{name}: SERVICE_NAME {env.get('SERVICE_NAME')!r}")
    if env.get("HTTP_HOST") != "0.0.0.0":
        problems.append(f"{name}: HTTP_HOST must be 0.0.0.0 for the kubelet to reach the probes")
    if not str(env.get("PUBLIC_BASE_URL", "")).startswith(("http://", "https://")):
        problems.append(f"{name}: PUBLIC_BASE_URL {env.get('PUBLIC_BASE_URL')!r} is not an address")
    http_port = int(env.get("HTTP_PORT", 8080))
    if container_port(c, http_port) is None:
        problems.append(f"{name}: HTTP_PORT {http_port} is not a container port")
    for probe, path in (("startupProbe", "/readyz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path or container_port(c, get.get("port")) != http_port:
            problems.append(f"{name}: {probe} must GET {path} on container port {http_port}, has {get}")
    # The drain: HTTP, in-flight records and each loop's last flush may each take the grace.
    needed = 3 * float(env.get("SHUTDOWN_GRACE_SECONDS", 15))
    if dep["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30) < needed:
        problems.append(f"{name}: terminationGracePeriodSeconds under {needed:.0f}: SIGKILL would cut the drain short")
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        if not {"cpu", "memory"} <= set(res.get(part) or {}):
            problems.append(f"{name}: resources.{part} needs cpu and memory")
    pod_sc, sc = dep["spec"]["template"]["spec"].get("securityContext") or {}, c.get("securityContext") or {}
    if not pod_sc.get("runAsNonRoot") or pod_sc.get("runAsUser") != 10001:
        problems.append(f"{name}: pod must run as non-root uid 10001 (the image's user)")
    if sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem") \
            or "ALL" not in (sc.get("capabilities") or {}).get("drop", []):
        problems.append(f"{name}: container securityContext must drop ALL, read-only root, no privilege escalation")
    if not isinstance(dep["spec"].get("replicas"), int):
        problems.append(f"{name}: replicas must be set explicitly")
    sel = dep["spec"]["selector"]["matchLabels"]
    if not sel.items() <= dep["spec"]["template"]["metadata"]["labels"].items():
        problems.append(f"{name}: selector does not match pod labels")
    return problems


DEPLOYMENTS = sorted(d["metadata"]["name"] for d in by_kind("Deployment"))


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_deployment(name, configmaps, secrets):
    (dep,) = by_kind("Deployment", name)
    assert deployment_problems(dep, configmaps, secrets) == []


BREAKAGES = {
    "ready-path": lambda c: c["readinessProbe"]["httpGet"].update(path="/ready"),
    "liveness-port": lambda c: c["livenessProbe"]["httpGet"].update(port=9090),
    "no-liveness": lambda c: c.pop("livenessProbe"),
    "liveness-on-readyz": lambda c: c["livenessProbe"]["httpGet"].update(path="/readyz"),
    "ready-on-livez": lambda c: c["readinessProbe"]["httpGet"].update(path="/livez"),
    "old-health": lambda c: c["startupProbe"]["httpGet"].update(path="/health"),
    "grace-over-budget": lambda c: c.setdefault("env", []).append({"name": "SHUTDOWN_GRACE_SECONDS", "value": "40"}),
    "no-limits": lambda c: c["resources"].pop("limits"),
    "port-mismatch": lambda c: c["ports"][0].update(containerPort=8000),
    "unknown-configmap": lambda c: c["envFrom"][0]["configMapRef"].update(name="nope"),
    "root-writable": lambda c: c["securityContext"].update(readOnlyRootFilesystem=False),
    "no-public-url": lambda c: c.update(env=[e for e in c["env"] if e["name"] != "PUBLIC_BASE_URL"]),
    "unknown-url-key": lambda c: next(e for e in c["env"] if e["name"] == "PUBLIC_BASE_URL")["valueFrom"]["configMapKeyRef"].update(key="nope"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_deployment_rule_catches_breakage(breakage, configmaps, secrets):
    (dep,) = copy.deepcopy(by_kind("Deployment", "approval"))
    BREAKAGES[breakage](dep["spec"]["template"]["spec"]["containers"][0])
    assert deployment_problems(dep, configmaps, secrets)


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_service_targets_the_http_port(name):
    (svc,) = by_kind("Service", name)
    (dep,) = by_kind("Deployment", name)
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    assert all(container_port(c, p["targetPort"]) == 8080 for p in svc["spec"]["ports"])


def test_create_topics_job(configmaps):
    (job,) = by_kind("Job", "create-topics")
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in ("Never", "OnFailure")
    (c,) = spec["containers"]
    assert c["command"][-3:] == ["python", "-m", "shared.runtime.create_topics"]
    refs = {s["configMapRef"]["name"] for s in c["envFrom"]}
    for dep in by_kind("Deployment"):
        dep_refs = {s["configMapRef"]["name"] for s in dep["spec"]["template"]["spec"]["containers"][0]["envFrom"]}
        assert refs == dep_refs and refs <= configmaps.keys(), "the Job must see the same topics/brokers as the services"


def test_kustomize_namespace_and_images():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    (ns,) = by_kind("Namespace")
    assert kust["namespace"] == ns["metadata"]["name"]
    image_names = {i["name"] for i in kust.get("images", [])}
    images = {c["image"].split(":")[0] for kind in ("Deployment", "Job") for d in by_kind(kind) for c in d["spec"]["template"]["spec"]["containers"]}
    assert images <= image_names, "every image should be settable through kustomize `images:`"
