"""The test servers' choice: an address in the environment, else Docker's official images, else the local servers."""

from __future__ import annotations

import pytest

from tests.support.containers import CONTAINER, EXISTING, LOCAL, Plan, engine_reachable, plan

BOTH = {"KAFKA_BOOTSTRAP_SERVERS": "10.0.0.1:9092", "MONGODB_URL": "mongodb://db/"}


class Engine:
    """A stand-in for the Docker ping that counts how often it was asked."""

    def __init__(self, up: bool) -> None:
        self.up, self.asked = up, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.up


@pytest.mark.parametrize(("up", "want"), [(True, CONTAINER), (False, LOCAL)])
def test_docker_decides_when_nothing_is_given(up, want):
    assert plan({}, Engine(up)) == Plan(want, want)


def test_addresses_in_the_environment_win_and_docker_is_not_asked():
    engine = Engine(True)
    assert plan(BOTH, engine) == Plan(EXISTING, EXISTING)
    assert engine.asked == 0


@pytest.mark.parametrize(("env", "want"), [({"MONGODB_URL": "mongodb://db/"}, Plan(CONTAINER, EXISTING)),
                                           ({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}, Plan(EXISTING, CONTAINER))])
def test_only_the_missing_server_is_started(env, want):
    assert plan(env, Engine(True)) == want


def test_forcing_local_never_asks_docker():
    engine = Engine(True)
    assert plan({"TEST_SERVERS": "local"}, engine) == Plan(LOCAL, LOCAL)
    assert engine.asked == 0


def test_forcing_containers_without_an_engine_fails_instead_of_falling_back():
    with pytest.raises(RuntimeError, match="no Docker engine"):
        plan({"TEST_SERVERS": "containers"}, Engine(False))
    assert plan({"TEST_SERVERS": "containers"}, Engine(True)) == Plan(CONTAINER, CONTAINER)


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="TEST_SERVERS"):
        plan({"TEST_SERVERS": "docker"}, Engine(True))


def test_no_engine_behind_the_socket_is_not_reachable(tmp_path, monkeypatch):
    """A docker CLI or a stale socket path without an engine answering is "no Docker"."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'docker.sock'}")
    assert engine_reachable(timeout=2) is False
