"""Fixtures of the deployment-file checks: the parsed compose file and k8s ConfigMaps/Secrets."""

from __future__ import annotations

import pytest

from tests.unit.deploy.manifests import by_kind, load_compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def configmaps() -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in by_kind("ConfigMap")}


@pytest.fixture(scope="module")
def secrets() -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in by_kind("Secret")}
