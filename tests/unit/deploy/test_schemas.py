"""deploy/k8s against the Kubernetes API schemas and docker-compose.yml against the compose-spec schema, offline.

kubernetes-validate and check-jsonschema ship the schemas inside their packages; every check here runs with
outbound connections refused, so a validator that quietly fetched a schema would fail the test.
"""

from __future__ import annotations

import copy
import socket

import kubernetes_validate
import pytest
import yaml
from check_jsonschema import main as check_jsonschema

from tests.unit.deploy.manifests import COMPOSE, k8s_docs, load_compose

# The oldest Kubernetes the manifests promise to work on (deploy/README.md); strict: an unknown field
# (a misspelt probe, a resource key in the wrong place) is an error, not silently dropped by the API server.
K8S_VERSION = "1.30"
NOT_KUBERNETES = {"Kustomization"}  # kustomize's own file: read by kubectl -k, never sent to the API server


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No outbound connection: the validators must answer from the schemas they bundle."""
    def refuse(self, address):
        raise OSError(f"network used during offline validation: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def k8s_problems(doc: dict) -> list[str]:
    """Schema errors of one manifest (a kind without a schema is an error too)."""
    where = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{where}: {'.'.join(map(str, e.path))}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [f"{where}: {e.message}"]
    return []


def all_manifests() -> list[tuple[str, dict]]:
    return [(f"{name}:{d.get('kind')}/{(d.get('metadata') or {}).get('name')}", d)
            for name, items in k8s_docs().items() for d in items if d.get("kind") not in NOT_KUBERNETES]


MANIFESTS = all_manifests()


@pytest.mark.parametrize("doc", [d for _, d in MANIFESTS], ids=[i for i, _ in MANIFESTS])
def test_manifest_is_valid_kubernetes(doc):
    assert k8s_problems(doc) == []


def _deployment() -> dict:
    return copy.deepcopy(next(d for _, d in MANIFESTS if d["kind"] == "Deployment"))


def _container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


K8S_BREAKAGES = {
    "misspelt probe": lambda d: _container(d).update(readinesProbe=_container(d).pop("readinessProbe")),
    "replicas as text": lambda d: d["spec"].update(replicas="two"),
    "env value a number": lambda d: _container(d)["env"].append({"name": "HTTP_PORT", "value": 8080}),
    "no containers": lambda d: d["spec"]["template"]["spec"].pop("containers"),
    "unknown kind": lambda d: d.update(kind="Deploymint"),
}


@pytest.mark.parametrize("name", K8S_BREAKAGES)
def test_manifest_schema_catches_breakage(name):
    doc = _deployment()
    K8S_BREAKAGES[name](doc)
    assert k8s_problems(doc), f"the schema did not notice: {name}"


def compose_problems(path, capsys) -> str:
    """check-jsonschema's report on a compose file against the compose-spec schema it bundles ('' when valid)."""
    with pytest.raises(SystemExit) as done:
        check_jsonschema(["--builtin-schema", "vendor.compose-spec", "--output-format", "text", str(path)])
    out = capsys.readouterr()
    return "" if done.value.code == 0 else out.out + out.err


def test_compose_is_valid_compose_spec(capsys):
    assert compose_problems(COMPOSE, capsys) == ""


COMPOSE_BREAKAGES = {
    "unknown service key": lambda c: c["services"]["intake"].update(imagee="case-backbone/intake"),
    "bad depends_on condition": lambda c: c["services"]["routing"]["depends_on"]["kafka"].update(condition="service_happy"),
    "ports as a map": lambda c: c["services"]["mailpit"].update(ports={"8025": 8025}),
    "volumes as one string": lambda c: c["services"]["kafka"].update(volumes="kafka-data:/var/lib/kafka/data"),
}


@pytest.mark.parametrize("name", COMPOSE_BREAKAGES)
def test_compose_schema_catches_breakage(name, tmp_path, capsys):
    broken = load_compose()
    COMPOSE_BREAKAGES[name](broken)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    assert compose_problems(path, capsys), f"the compose-spec schema did not notice: {name}"
