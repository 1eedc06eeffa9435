"""The local stack's store layout: the STORES switch, stack.env's store URLs, the chaos run's store kill (no process)."""

from __future__ import annotations

import random

import pytest
from store_layout import distinct_urls, layout, store_env, url_key  # deploy/local

from bench.chaos.faults import plan


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "per-service"), ({"STORES": ""}, "per-service"), ({"STORES": "shared"}, "shared"),
    ({"STORES": "per-service"}, "per-service"),
])
def test_the_stores_switch(environ, expected):
    assert layout(environ) == expected


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError):
        layout({"STORES": "one"})


def test_stack_env_names_each_service_store_and_keeps_mongodb_url_for_intake():
    urls = {"intake": "mongodb://a", "approval": "mongodb://b", "portal-sync": "mongodb://c"}
    env = store_env(urls)
    assert env == {"MONGODB_URL": "mongodb://a", "MONGODB_URL_INTAKE": "mongodb://a",
                   "MONGODB_URL_APPROVAL": "mongodb://b", "MONGODB_URL_PORTAL_SYNC": "mongodb://c"}
    assert url_key("portal-sync") == "MONGODB_URL_PORTAL_SYNC"
    assert distinct_urls({**env, "KAFKA_BOOTSTRAP_SERVERS": "x"}) == ["mongodb://a", "mongodb://b", "mongodb://c"]


def test_a_shared_store_is_one_url():
    env = store_env({"intake": "mongodb://s", "routing": "mongodb://s"})
    assert distinct_urls(env) == ["mongodb://s"]


def test_the_chaos_plan_kills_one_store_chosen_by_the_seed():
    stores = ["store-intake", "store-approval", "store-routing", "store-portal-sync", "store-notifier"]
    chosen = set()
    for seed in range(20):
        killed = [f.target for f in plan(random.Random(seed), 300, 1, stores=stores) if f.kind == "SIGKILL store"]
        assert len(killed) == 1 and killed[0] in stores
        assert killed == [f.target for f in plan(random.Random(seed), 300, 1, stores=stores)
                          if f.kind == "SIGKILL store"]  # same seed, same store
        chosen.add(killed[0])
    assert len(chosen) > 1
    assert not [f for f in plan(random.Random(1), 300, 1, stores=[]) if f.kind == "SIGKILL store"]
