"""deploy/k8s: a PodDisruptionBudget and a NetworkPolicy per service, wired to the addresses of backbone-env;
ephemeral storage bounded; topics made with 3 replicas and min.insync.replicas=2.

What a schema cannot know. Rules return a list of problems; each runs on the real manifests and on broken copies.
"""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest

from shared.settings import Settings
from tests.unit.deploy.manifests import ROOT
from tests.unit.deploy.test_k8s_wiring import container, manifests

NS_LABEL = "kubernetes.io/metadata.name"


def pod_labels(m: dict, kind: str, name: str) -> dict:
    return m[kind][name]["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels, matchExpressions with In) matches these labels."""
    if not (selector.get("matchLabels") or {}).items() <= labels.items():
        return False
    return all(e["operator"] == "In" and labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", []))


def namespace_of(host: str) -> str:
    """The namespace of a cluster DNS name: <svc>.<namespace>.svc[.cluster.local] (a pod: <pod>.<svc>.<ns>.svc)."""
    parts = host.split(".")
    return parts[parts.index("svc") - 1]


def has_store(name: str) -> bool:
    """The service keeps a MongoDB database (its inject.py wires one)."""
    return any("mongo" in p.read_text() for p in ROOT.glob(f"services/{name}/*/inject.py"))


def peers_ports(rules: list[dict], side: str) -> list[tuple[dict, set]]:
    """(peer, {(port, protocol)}) for every peer of every rule."""
    return [(peer, {(p.get("port"), p.get("protocol", "TCP")) for p in rule.get("ports", [])})
            for rule in rules for peer in rule.get(side, [])]


def reaches(rules: list[dict], side: str, port, protocol: str = "TCP", namespace: str | None = None,
            pods: dict | None = None) -> bool:
    """A rule lets traffic through on port/protocol with a peer in `namespace` (and/or selecting pods labelled `pods`)."""
    for peer, ports in peers_ports(rules, side):
        ns_ok = namespace is None and "namespaceSelector" not in peer or namespace is not None and \
            (peer.get("namespaceSelector") or {}).get("matchLabels", {}).get(NS_LABEL) == namespace
        pod_ok = pods is None or selects(peer.get("podSelector") or {}, pods)
        if ns_ok and pod_ok and "ipBlock" not in peer and (port, protocol) in ports:
            return True
    return False


def policy_of(m: dict, kind: str, name: str) -> dict | None:
    labels = pod_labels(m, kind, name)
    return next((p for p in m.get("NetworkPolicy", {}).values()
                 if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)), None)


def network_problems(m: dict) -> list[str]:
    """Default deny; each service: HTTP only from the ingress controller, Prometheus (and web for the APIs it calls);
    out only to DNS, the brokers, its store, SMTP for the notifier, the APIs for web; the Jobs only DNS and brokers."""
    env = m["ConfigMap"]["backbone-env"]["data"]
    problems = []
    if not any(p["spec"]["podSelector"] == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in m.get("NetworkPolicy", {}).values()):
        problems.append("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rule)")
    kafka = [urlsplit(f"//{s.strip()}") for s in env["KAFKA_BOOTSTRAP_SERVERS"].split(",")]
    mongo = urlsplit(env["MONGODB_URL"])
    web_env = {e["name"]: e.get("value", "") for e in container(m, "web").get("env", [])}
    called_by_web = {urlsplit(web_env[k]).hostname: urlsplit(web_env[k]).port for k in ("INTAKE_URL", "APPROVAL_URL")}
    clients = [("Deployment", n) for n in sorted(m["Deployment"])] + [("Job", n) for n in sorted(m.get("Job", {}))]
    for kind, name in clients:
        policy = policy_of(m, kind, name)
        if policy is None:
            problems.append(f"{kind} {name}: no NetworkPolicy selects its pods")
            continue
        spec, pname = policy["spec"], policy["metadata"]["name"]
        if set(spec.get("policyTypes", [])) != {"Ingress", "Egress"}:
            problems.append(f"{pname}: policyTypes must be Ingress and Egress")
        ingress, egress = spec.get("ingress") or [], spec.get("egress") or []
        for proto in ("UDP", "TCP"):
            if not reaches(egress, "to", 53, proto, "kube-system", {"k8s-app": "kube-dns"}):
                problems.append(f"{pname}: no DNS ({proto} 53 to kube-dns)")
        for broker in kafka:
            if not reaches(egress, "to", broker.port, namespace=namespace_of(broker.hostname)):
                problems.append(f"{pname}: no egress to the brokers {broker.netloc}")
        store = reaches(egress, "to", mongo.port or 27017, namespace=namespace_of(mongo.hostname))
        if store != (kind == "Deployment" and has_store(name)):
            problems.append(f"{pname}: egress to MongoDB {'given' if store else 'missing'} ({name} store: {has_store(name)})")
        smtp = reaches(egress, "to", int(env["SMTP_PORT"]), namespace=namespace_of(env["SMTP_HOST"]))
        if smtp != (name == "notifier"):
            problems.append(f"{pname}: egress to the SMTP relay must be the notifier's alone")
        if kind == "Job":
            if ingress:
                problems.append(f"{pname}: nothing connects to a Job")
            continue
        port = next(p for p in container(m, name)["ports"] if p["name"] == "http")
        for peer, ports in peers_ports(ingress, "from"):
            if not ports or not ports <= {("http", "TCP"), (port["containerPort"], "TCP")}:
                problems.append(f"{pname}: ingress from {peer} on {sorted(ports, key=str) or 'every port'}, want only http")
        if not reaches(ingress, "from", "http", namespace="monitoring", pods={"app.kubernetes.io/name": "prometheus"}):
            problems.append(f"{pname}: Prometheus cannot scrape /metrics")
        if not reaches(ingress, "from", "http", namespace="ingress-nginx", pods={"app.kubernetes.io/name": "ingress-nginx"}):
            problems.append(f"{pname}: the ingress controller cannot reach its HTTP")
        from_web = reaches(ingress, "from", "http", pods=pod_labels(m, "Deployment", "web"))
        if from_web != (name in called_by_web):
            problems.append(f"{pname}: ingress from web {'given' if from_web else 'missing'}")
        for host, api_port in called_by_web.items():
            if name == "web" and not reaches(egress, "to", api_port, pods=pod_labels(m, "Deployment", host)):
                problems.append(f"{pname}: web cannot call {host}:{api_port}")
    return problems


def budget_problems(m: dict) -> list[str]:
    """Each Deployment has a PodDisruptionBudget that keeps one pod and still lets a drain evict one."""
    problems = []
    for name, dep in sorted(m["Deployment"].items()):
        budgets = [b for b in m.get("PodDisruptionBudget", {}).values()
                   if selects(b["spec"]["selector"], pod_labels(m, "Deployment", name))]
        if len(budgets) != 1:
            problems.append(f"{name}: {len(budgets)} PodDisruptionBudgets select its pods, want 1")
            continue
        spec = budgets[0]["spec"]
        keep = spec.get("minAvailable", dep["spec"]["replicas"] - spec.get("maxUnavailable", 0))
        if not isinstance(keep, int) or not 1 <= keep < dep["spec"]["replicas"]:
            problems.append(f"{name}: the budget keeps {keep} of {dep['spec']['replicas']}: want at least 1, and a drain must evict one")
    return problems


def storage_problems(m: dict) -> list[str]:
    """Every pod requests and limits ephemeral storage, and its /tmp emptyDir has a size limit under that limit."""
    problems = []
    for kind in ("Deployment", "Job"):
        for name, doc in sorted(m.get(kind, {}).items()):
            spec = doc["spec"]["template"]["spec"]
            res = spec["containers"][0].get("resources") or {}
            if not all("ephemeral-storage" in (res.get(part) or {}) for part in ("requests", "limits")):
                problems.append(f"{name}: resources need ephemeral-storage in requests and limits")
            for v in spec.get("volumes", []):
                if "emptyDir" in v and not (v["emptyDir"] or {}).get("sizeLimit"):
                    problems.append(f"{name}: emptyDir {v['name']} has no sizeLimit")
    return problems


def replication_problems(m: dict) -> list[str]:
    """create-topics (and routing, which makes its own topic) read replication 3 and min.insync.replicas 2."""
    env = m["ConfigMap"]["backbone-env"]["data"]
    got = (env.get("TOPIC_REPLICATION_FACTOR"), env.get("TOPIC_MIN_INSYNC_REPLICAS"))
    if got != ("3", "2"):
        return [f"backbone-env: replication factor / min.insync.replicas {got}, want ('3', '2')"]
    job_env = {s["configMapRef"]["name"] for s in m["Job"]["create-topics"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]}
    if "backbone-env" not in job_env:
        return ["create-topics does not read backbone-env"]
    s = Settings(_env_file=None, topic_replication_factor=got[0], topic_min_insync_replicas=got[1])  # type: ignore[call-arg]
    return [] if (s.topic_replication_factor, s.topic_min_insync_replicas) == (3, 2) else ["Settings do not read them"]


RULES = [network_problems, budget_problems, storage_problems, replication_problems]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_k8s_policy_rule_holds(rule):
    assert rule(manifests()) == []


def _rule(m: dict, policy: str, side: str, index: int) -> dict:
    return m["NetworkPolicy"][policy]["spec"][side][index]


BREAKAGES = {
    "no default deny": (network_problems, lambda m: m["NetworkPolicy"].pop("default-deny")),
    "no policy": (network_problems, lambda m: m["NetworkPolicy"].pop("routing")),
    "ingress only": (network_problems, lambda m: m["NetworkPolicy"]["intake"]["spec"].update(policyTypes=["Ingress"])),
    "no dns": (network_problems, lambda m: m["NetworkPolicy"]["approval"]["spec"]["egress"].pop(0)),
    "kafka elsewhere": (network_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(
        KAFKA_BOOTSTRAP_SERVERS="kafka.streaming.svc.cluster.local:9093")),
    "kafka port": (network_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(
        KAFKA_BOOTSTRAP_SERVERS="kafka-bootstrap.kafka.svc.cluster.local:9094")),
    "smtp for all": (network_problems, lambda m: m["NetworkPolicy"]["intake"]["spec"]["egress"].append(
        copy.deepcopy(m["NetworkPolicy"]["notifier"]["spec"]["egress"][3]))),
    "web gets a store": (network_problems, lambda m: m["NetworkPolicy"]["web"]["spec"]["egress"].append(
        copy.deepcopy(m["NetworkPolicy"]["intake"]["spec"]["egress"][2]))),
    "every port open": (network_problems, lambda m: _rule(m, "portal-sync", "ingress", 0).pop("ports")),
    "no scraping": (network_problems, lambda m: m["NetworkPolicy"]["notifier"]["spec"]["ingress"].pop()),
    "web shut out of approval": (network_problems, lambda m: _rule(m, "approval", "ingress", 0)["from"].pop()),
    "job reachable": (network_problems, lambda m: m["NetworkPolicy"]["kafka-jobs"]["spec"].update(
        ingress=[{"from": [{"podSelector": {}}]}])),
    "no budget": (budget_problems, lambda m: m["PodDisruptionBudget"].pop("notifier")),
    "budget blocks drains": (budget_problems, lambda m: m["PodDisruptionBudget"]["web"]["spec"].update(minAvailable=2)),
    "no storage limit": (storage_problems, lambda m: container(m, "routing")["resources"]["limits"].pop("ephemeral-storage")),
    "tmp unbounded": (storage_problems, lambda m: m["Job"]["create-acls"]["spec"]["template"]["spec"]["volumes"][0].update(
        emptyDir={})),
    "one replica": (replication_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].update(TOPIC_REPLICATION_FACTOR="1")),
    "isr 1": (replication_problems, lambda m: m["ConfigMap"]["backbone-env"]["data"].pop("TOPIC_MIN_INSYNC_REPLICAS")),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_k8s_policy_rule_catches_breakage(name):
    rule, breakage = BREAKAGES[name]
    m = copy.deepcopy(manifests())
    breakage(m)
    assert rule(m), f"{rule.__name__} did not notice: {name}"
