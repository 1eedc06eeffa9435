"""LocalStack (the `make run` launcher) on one broker: a store per service; a killed service comes back; so does a store."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from stack import STORELESS, LocalStack  # deploy/local
from store_layout import SHARED, start_stores, url_key

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


def test_each_service_has_its_own_store_process(local):
    labels = [label for label in local.services if label not in STORELESS]  # web keeps nothing
    assert len(local.stores) == len(labels) and len({store.url for store in local.stores}) == len(labels)
    assert local.env["MONGODB_URL"] == local.env["MONGODB_URL_INTAKE"] == local.store.url
    for label in labels:
        url = local.env[url_key(label)]
        assert url == local.store_of[label].url
        assert all(replica.env["MONGODB_URL"] == url for replica in local.services[label])
    for label, store in local.store_of.items():  # a store holds no other service's database
        client: MongoClient = MongoClient(store.url)
        others = [name for name in client.list_database_names()
                  if name.startswith("cases_") and name != f"cases_{label.replace('-', '_')}"]
        client.close()
        assert others == [], label


def test_the_shared_layout_starts_one_store_for_all(tmp_path):
    stores = start_stores(tmp_path, ["intake", "routing"], SHARED)
    try:
        assert stores["intake"] is stores["routing"] and stores["intake"].healthy()
    finally:
        stores["intake"].stop()


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
