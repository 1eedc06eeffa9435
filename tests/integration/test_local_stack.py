"""LocalStack (the `make run` launcher) on one broker: a killed service comes back; so does the store."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from stack import LocalStack  # deploy/local

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    root = tmp_path_factory.mktemp("local-stack")
    stack = LocalStack(root / "state", log_dir=root / "logs").start()
    yield stack
    stack.stop()


def test_env_names_every_server_and_service(local):
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_MAILDIR", "INTAKE_HTTP"):
        assert local.env[key], key
    assert [len(r) for r in local.services.values()] == [1] * len(local.services)
    assert local.services["intake"][0].healthy()


def test_a_killed_service_is_restarted_and_healthy_again(local):
    intake = local.services["intake"][0]
    before = intake.pid
    intake.kill()
    intake.wait_healthy(120)
    assert intake.pid not in (None, before)
    assert intake.restarts == 1
    assert all(r.alive() for rs in local.services.values() for r in rs)  # nothing else stopped


def test_the_store_comes_back_on_the_same_port_with_its_data(local):
    url = local.store.url
    client: MongoClient = MongoClient(url)
    client.stack_test.kept.insert_one({"_id": "acked"})
    client.close()
    local.store.kill()
    assert not local.store.alive()
    local.store.start()
    assert local.store.url == url
    client = MongoClient(url)
    assert client.stack_test.kept.find_one({"_id": "acked"}) == {"_id": "acked"}
    client.close()
    assert all(r.alive() for rs in local.services.values() for r in rs)  # services ride out the outage
