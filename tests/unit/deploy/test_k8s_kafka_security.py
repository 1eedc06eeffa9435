"""deploy/k8s on an authenticated broker: SASL_SSL with a principal per Deployment from Secrets the operator
creates, the CA from a Secret volume, no secret value in the manifests, OIDC in the ConfigMap, Jobs for
topics and ACLs.

Rules return a list of problems; each runs on the real manifests and on broken copies.
"""

from __future__ import annotations

import copy
import posixpath
import re

import pytest

from tests.unit.deploy.manifests import K8S
from tests.unit.deploy.test_k8s_wiring import container, env_source, manifests

ADMIN = "admin"
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "PRIVATE")
JOBS = {"create-topics": "shared.runtime.create_topics", "create-acls": "shared.runtime.acls"}


def job_container(m: dict, name: str) -> dict:
    return m["Job"][name]["spec"]["template"]["spec"]["containers"][0]


def pod_spec(m: dict, kind: str, name: str) -> dict:
    return m[kind][name]["spec"]["template"]["spec"]


def shared_env(m: dict, c: dict) -> dict[str, str]:
    """What a container gets from its envFrom ConfigMaps."""
    out: dict[str, str] = {}
    for src in c.get("envFrom", []):
        out.update((m["ConfigMap"].get(src.get("configMapRef", {}).get("name")) or {}).get("data") or {})
    return out


def clients(m: dict) -> list[tuple[str, str, str]]:
    """(kind, name, principal) of every Kafka client: each Deployment as itself, the Jobs as the admin."""
    return [("Deployment", n, n) for n in sorted(m["Deployment"])] + [("Job", n, ADMIN) for n in sorted(m.get("Job", {}))]


def client_problems(m: dict) -> list[str]:
    """SASL_SSL for every pod, its own principal's user name and password from its own Secret, the CA mounted
    read-only from a Secret volume where KAFKA_SSL_CAFILE points."""
    problems: list[str] = []
    used: dict[str, str] = {}
    for kind, name, principal in clients(m):
        c = container(m, name) if kind == "Deployment" else job_container(m, name)
        env = shared_env(m, c)
        for e in c.get("env", []):  # a value in the pod wins over envFrom
            if "value" in e:
                env[e["name"]] = e["value"]
        if env.get("KAFKA_SECURITY_PROTOCOL") != "SASL_SSL":
            problems.append(f"{name}: KAFKA_SECURITY_PROTOCOL {env.get('KAFKA_SECURITY_PROTOCOL')!r}, want SASL_SSL")
        if not str(env.get("KAFKA_SASL_MECHANISM", "")).startswith("SCRAM-"):
            problems.append(f"{name}: KAFKA_SASL_MECHANISM {env.get('KAFKA_SASL_MECHANISM')!r}, want SCRAM")
        secret = f"kafka-{principal}"
        for var, key in (("KAFKA_SASL_USERNAME", "username"), ("KAFKA_SASL_PASSWORD", "password")):
            if env_source(c, var) != ("secret", secret, key):
                problems.append(f"{name}: {var} must come from Secret {secret} key {key}, comes from {env_source(c, var)}")
        if secret in m.get("Secret", {}):
            problems.append(f"Secret {secret} must be created by the operator, not shipped")
        if kind == "Deployment":
            if secret in used:
                problems.append(f"{name} and {used[secret]} share the Kafka principal of {secret}")
            used[secret] = name
        cafile = str(env.get("KAFKA_SSL_CAFILE", ""))
        volumes = {v["name"]: v for v in pod_spec(m, kind, name).get("volumes", [])}
        mount = next((vm for vm in c.get("volumeMounts", []) if vm["mountPath"] == posixpath.dirname(cafile)), None)
        source = (volumes.get(mount["name"]) or {}).get("secret") if mount else None
        if not source or not mount.get("readOnly"):
            problems.append(f"{name}: KAFKA_SSL_CAFILE {cafile!r} is not in a read-only Secret volume")
        elif "items" in source and posixpath.basename(cafile) not in {i["path"] for i in source["items"]}:
            problems.append(f"{name}: the CA volume does not project {posixpath.basename(cafile)}")
    return problems


def secret_literal_problems(m: dict) -> list[str]:
    """No secret value anywhere: no Secret document, no password or secret as a literal env value, none in a
    ConfigMap."""
    problems = [f"Secret {name} is shipped in the manifests" for name in m.get("Secret", {})]
    for kind in ("Deployment", "Job"):
        for name in m.get(kind, {}):
            for c in pod_spec(m, kind, name)["containers"]:
                for e in c.get("env", []):
                    if any(word in e["name"] for word in SECRET_WORDS) and "value" in e:
                        problems.append(f"{name}: {e['name']} is a literal value, not a secretKeyRef")
    for cm_name, cm in m["ConfigMap"].items():
        for key in (cm.get("data") or {}):
            if any(word in key.upper() for word in SECRET_WORDS):
                problems.append(f"ConfigMap {cm_name} holds {key}")
    return problems


def oidc_problems(m: dict) -> list[str]:
    """Every Deployment gets the OIDC provider's JWKS, issuer and audience (backbone-env)."""
    problems: list[str] = []
    for name in sorted(m["Deployment"]):
        c = container(m, name)
        env = shared_env(m, c)
        env.update({e["name"]: e.get("value") for e in c.get("env", []) if "value" in e})
        for key in ("OIDC_JWKS_URL", "OIDC_ISSUER"):
            if not str(env.get(key, "")).startswith("https://"):
                problems.append(f"{name}: {key} {env.get(key)!r} is not an https address")
        if not env.get("OIDC_AUDIENCE"):
            problems.append(f"{name}: no OIDC_AUDIENCE")
    return problems


def job_problems(m: dict) -> list[str]:
    """A Job creates the topics and one the ACLs, each from the services' ConfigMap, run once."""
    problems: list[str] = []
    for name, module in JOBS.items():
        if name not in m.get("Job", {}):
            problems.append(f"Job {name} missing")
            continue
        c = job_container(m, name)
        if c.get("command", [])[-3:] != ["python", "-m", module]:
            problems.append(f"Job {name} must run python -m {module}, runs {c.get('command')!r}")
        if pod_spec(m, "Job", name).get("restartPolicy") not in ("Never", "OnFailure"):
            problems.append(f"Job {name}: restartPolicy must be Never or OnFailure")
        if {s.get("configMapRef", {}).get("name") for s in c.get("envFrom", [])} != {"backbone-env"}:
            problems.append(f"Job {name} must read the services' ConfigMap backbone-env")
    return problems


RULES = [client_problems, secret_literal_problems, oidc_problems, job_problems]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_k8s_kafka_security_rule_holds(rule):
    assert rule(manifests()) == []


def _env(m: dict, name: str, var: str) -> dict:
    c = container(m, name) if name in m["Deployment"] else job_container(m, name)
    return next(e for e in c["env"] if e["name"] == var)


def _ca_volume(m: dict, name: str) -> dict:
    return next(v for v in pod_spec(m, "Deployment", name)["volumes"] if v["name"] == "kafka-ca")


def _drop_env(m: dict, name: str, var: str) -> None:
    c = container(m, name)
    c["env"] = [e for e in c["env"] if e["name"] != var]


BREAKAGES = {
    "plaintext": (client_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(KAFKA_SECURITY_PROTOCOL="PLAINTEXT")),
    "service plaintext override": (client_problems, lambda m: container(m, "routing")["env"].append(
        {"name": "KAFKA_SECURITY_PROTOCOL", "value": "SASL_PLAINTEXT"})),
    "no mechanism": (client_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].pop("KAFKA_SASL_MECHANISM")),
    "another's secret": (client_problems, lambda m: _env(m, "notifier", "KAFKA_SASL_PASSWORD")["valueFrom"]["secretKeyRef"].update(
        name="kafka-intake")),
    "user and password from two secrets": (client_problems, lambda m: _env(m, "approval", "KAFKA_SASL_USERNAME")["valueFrom"][
        "secretKeyRef"].update(name="kafka-routing")),
    "service as admin": (client_problems, lambda m: [_env(m, "intake", v)["valueFrom"]["secretKeyRef"].update(name="kafka-admin")
                                                     for v in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD")]),
    "job as a service": (client_problems, lambda m: _env(m, "create-acls", "KAFKA_SASL_PASSWORD")["valueFrom"]["secretKeyRef"].update(
        name="kafka-intake")),
    "no username": (client_problems, lambda m: _drop_env(m, "portal-sync", "KAFKA_SASL_USERNAME")),
    "principal secret shipped": (client_problems, lambda m: m.setdefault("Secret", {}).update(
        {"kafka-intake": {"metadata": {"name": "kafka-intake"}, "stringData": {"password": "x"}}})),
    "ca not mounted": (client_problems, lambda m: container(m, "notifier").update(
        volumeMounts=[v for v in container(m, "notifier")["volumeMounts"] if v["name"] != "kafka-ca"])),
    "ca from an emptyDir": (client_problems, lambda m: _ca_volume(m, "routing").update({"emptyDir": {}}) or _ca_volume(m, "routing").pop("secret")),
    "ca mount writable": (client_problems, lambda m: [v.update(readOnly=False) for v in job_container(m, "create-topics")["volumeMounts"]
                                                      if v["name"] == "kafka-ca"]),
    "ca file elsewhere": (client_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(KAFKA_SSL_CAFILE="/etc/ssl/ca.pem")),
    "literal password": (secret_literal_problems, lambda m: container(m, "intake")["env"].append(
        {"name": "KAFKA_SASL_PASSWORD", "value": "hunter2"})),
    "password in configmap": (secret_literal_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(
        KAFKA_SASL_PASSWORD="hunter2")),
    "secret shipped": (secret_literal_problems, lambda m: m.setdefault("Secret", {}).update({"kafka-ca": {}})),
    "no jwks": (oidc_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].pop("OIDC_JWKS_URL")),
    "issuer over http": (oidc_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(OIDC_ISSUER="http://idp")),
    "issuer emptied in a pod": (oidc_problems, lambda m: container(m, "portal-sync")["env"].append({"name": "OIDC_ISSUER", "value": ""})),
    "no audience": (oidc_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(OIDC_AUDIENCE="")),
    "no acls job": (job_problems, lambda m: m["Job"].pop("create-acls")),
    "acls job runs topics": (job_problems, lambda m: job_container(m, "create-acls").update(
        command=["python", "-m", "shared.runtime.create_topics"])),
    "job restarts always": (job_problems, lambda m: pod_spec(m, "Job", "create-topics").update(restartPolicy="Always")),
    "job without configmap": (job_problems, lambda m: job_container(m, "create-acls").update(envFrom=[])),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_k8s_kafka_security_rule_catches_breakage(name):
    rule, breakage = BREAKAGES[name]
    m = copy.deepcopy(manifests())
    breakage(m)
    assert rule(m), f"{rule.__name__} did not notice: {name}"


def test_operator_secrets_are_documented():
    """Each Secret the manifests read is one deploy/README.md tells the operator to create (one command, or a
    `for p in ...` loop over principals around `create secret generic kafka-$p`)."""
    readme = (K8S.parent / "README.md").read_text()
    documented = set(re.findall(r"create secret generic (kafka-[a-z-]+) ", readme))
    for names, body in re.findall(r"for p in ([a-z -]+); do\n(.*?)\ndone", readme, re.S):
        if "create secret generic kafka-$p " in body:
            documented |= {f"kafka-{p}" for p in names.split()}
    wanted = {f"kafka-{principal}" for _kind, _name, principal in clients(manifests())} | {"kafka-ca"}
    assert wanted <= documented, sorted(wanted - documented)
