"""routing's read models over HTTP: staff with a token read them; customers and anonymous callers do not."""

from __future__ import annotations

import httpx
import pytest

from routing.adapters.inbound.http import read_routes
from routing.inject import put_file_rules_in_force
from routing.adapters.outbound.cached import RulesInForce
from shared.directory import load_directory
from shared.lifecycles import load_lifecycles
from shared.runtime.api import RequestLimits, api_app
from shared.settings import Settings
from tests.handlers.routing.memory_store import MemoryRoutingStore
from tests.support.oidc import auth, bearer

PATHS = ["/people/mary/cases", "/people/hank/available", "/queues/helpdesk/backlog", "/cases/C-1/routing", "/rules"]


@pytest.fixture
async def http():
    store, directory = MemoryRoutingStore(), load_directory()
    await put_file_rules_in_force(store, directory, None)
    router = read_routes(store, RulesInForce(store, directory, load_lifecycles()), directory, auth())
    settings = Settings()
    app = RequestLimits(api_app("routing", [router]), settings.http_max_body_bytes, settings.limits.json_depth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing") as client:
        yield client


@pytest.mark.parametrize("path", PATHS)
async def test_anonymous_callers_get_401_with_a_challenge(http, path):
    reply = await http.get(path)
    assert reply.status_code == 401 and reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", PATHS)
async def test_customers_get_403(http, path):
    reply = await http.get(path, headers=bearer("cust.ola"))
    assert reply.status_code == 403 and reply.json()["error"] == "staff only"


async def test_staff_read_the_read_models(http):
    assert (await http.get("/people/mary/cases", headers=bearer("carl"))).json() == {
        "person": "mary", "count": 0, "cases": []}
    assert "helpdesk" in (await http.get("/people/hank/available", headers=bearer("hank"))).json()["queues"]
    assert (await http.get("/rules", headers=bearer("mary"))).json()["version"] >= 1
    assert (await http.get("/people/nobody/cases", headers=bearer("mary"))).status_code == 404
    assert (await http.get("/cases/C-1/routing", headers=bearer("mary"))).status_code == 404
    assert (await http.get("/queues/nowhere/backlog", headers=bearer("mary"))).status_code == 404


async def test_a_huge_body_gets_413_even_on_a_read_route(http):
    reply = await http.post("/rules", content=b"x" * (10 * 1024 * 1024), headers=bearer("mary"))
    assert reply.status_code == 413
