"""portal-sync's HTTP routes behind the API's limits, with real bearer tokens: the account rule, messages, 4xx."""

from __future__ import annotations

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from portal_sync.adapters.inbound.http import portal_routes
from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.core import DEFAULT_MAPPING
from portal_sync.inject import register
from portal_sync.adapters.inbound.messages import CustomerMessages
from shared.runtime.api import api_app
from shared.runtime.api.limits import RequestLimits
from shared.runtime.outbox import Publisher
from shared.settings import Settings
from tests.handlers.portal_sync.memory_store import MemoryProjectionStore
from tests.support.capture import capture
from tests.support.oidc import auth, bearer, dev_issuer
from tests.unit.portal_sync.events import closing, opened

OLA, HANS = "cust.ola", "cust.hans"  # customers of ACC-1001 and ACC-1002 in the directory


@pytest.fixture
def settings() -> Settings:
    return Settings(service_name="portal-sync", topic_prefix="h.")


@pytest.fixture
async def portal(settings):
    store = MemoryProjectionStore()
    await store.activate_first(DEFAULT_MAPPING.read_text(), 1)
    broker = KafkaBroker()
    register(broker, settings, store, known_statuses())
    seen = capture(broker, {"commands": settings.topics.case_commands})
    router = portal_routes(store, CustomerMessages(store, Publisher(broker), settings.topics), auth())
    app = RequestLimits(api_app("portal-sync", [router]), settings.http_max_body_bytes, settings.limits.json_depth)
    async with TestKafkaBroker(broker) as test_broker:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as client:
            for event in (opened("CL-1", "claim", account_id="ACC-1001"), opened("CL-2", "claim", account_id="ACC-1002"),
                          opened("Q-1", "quotation", account_id="ACC-1001")):
                await test_broker.publish(event.to_bytes(), settings.topics.case_events, key=event.subject.encode())
            yield client, test_broker, seen


async def test_every_route_wants_a_token(portal):
    client, _, seen = portal
    for method, path in [("GET", "/cases/CL-1"), ("GET", "/accounts/ACC-1001/cases"), ("POST", "/cases/CL-1/messages")]:
        reply = await client.request(method, path, json={"message": "hi"} if method == "POST" else None)
        assert reply.status_code == 401 and reply.headers["www-authenticate"].startswith('Bearer realm="case-backbone"')
    forged = await client.get("/cases/CL-1", headers={"Authorization": "Bearer not.a.jwt"})
    assert forged.status_code == 401 and 'error="invalid_token"' in forged.headers["www-authenticate"]
    stranger = await client.get("/cases/CL-1", headers=bearer_unchecked("nobody"))
    assert stranger.status_code == 403
    assert seen["commands"] == []


def bearer_unchecked(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_issuer().mint(subject, check=False)}"}


async def test_a_customer_sees_only_their_own_accounts_cases(portal):
    client, _, _ = portal
    listed = await client.get("/accounts/ACC-1001/cases", headers=bearer(OLA))
    assert listed.status_code == 200 and {c["case_id"] for c in listed.json()["cases"]} == {"CL-1", "Q-1"}
    assert (await client.get("/cases/CL-1", headers=bearer(OLA))).json()["portal_status"] == "In Progress"
    other = await client.get("/accounts/ACC-1002/cases", headers=bearer(OLA))
    assert other.status_code == 403 and "own account" in other.json()["error"]
    # Another account's case looks like no case at all: its existence is not this customer's business.
    assert (await client.get("/cases/CL-2", headers=bearer(OLA))).status_code == 404
    assert (await client.get("/cases/CL-2", headers=bearer(HANS))).status_code == 200


async def test_staff_read_any_account(portal):
    client, _, _ = portal
    for path in ("/accounts/ACC-1002/cases", "/cases/CL-2", "/accounts/ACC-1001/cases"):
        assert (await client.get(path, headers=bearer("carl"))).status_code == 200


async def test_a_customer_message_is_sent_under_the_callers_own_id(portal):
    client, _, seen = portal
    reply = await client.post("/cases/CL-1/messages", json={"message": "Fine", "message_id": "m-1"}, headers=bearer(OLA))
    assert reply.status_code == 202
    (cmd,) = seen["commands"]
    assert cmd["type"] == "case.add_customer_message" and cmd["subject"] == "CL-1"
    assert cmd["data"]["actor"]["id"] == OLA and cmd["data"]["message"] == "Fine"
    again = await client.post("/cases/CL-1/messages", json={"message": "Fine", "message_id": "m-1", "customer_id": OLA},
                              headers=bearer(OLA))
    assert again.json()["command_id"] == cmd["id"]  # a retried post is the same command


@pytest.mark.parametrize(("who", "case", "body", "status"), [
    (OLA, "CL-1", {"message": "hi", "customer_id": HANS}, 403),  # speaking as someone else
    (OLA, "CL-2", {"message": "hi"}, 404),  # another account's case
    ("carl", "CL-1", {"message": "hi"}, 403),  # staff may not speak as the customer
    (OLA, "CL-1", {"message": ""}, 422), (OLA, "CL-1", {"message": "hi", "admin": True}, 422),
    (OLA, "NONE", {"message": "hi"}, 404)])
async def test_messages_that_are_not_the_callers_to_send_are_refused(portal, who, case, body, status):
    client, _, seen = portal
    reply = await client.post(f"/cases/{case}/messages", json=body, headers=bearer(who))
    assert reply.status_code == status and reply.json()["error"]
    assert seen["commands"] == []


async def test_a_closed_case_takes_no_message(portal, settings):
    client, broker, seen = portal
    for event in closing("CL-1", "claim", "new", 2):
        event = event.model_copy(update={"data": {**event.data, "account_id": "ACC-1001"}})
        await broker.publish(event.to_bytes(), settings.topics.case_events, key=b"CL-1")
    assert (await client.post("/cases/CL-1/messages", json={"message": "?"}, headers=bearer(OLA))).status_code == 409
    assert seen["commands"] == []


async def test_oversized_deeply_nested_and_broken_bodies_get_4xx(portal):
    client, _, seen = portal
    headers = {**bearer(OLA), "content-type": "application/json"}
    big = await client.post("/cases/CL-1/messages", content=b"x" * (10 * 1024 * 1024), headers=headers)
    assert big.status_code == 413
    deep = await client.post("/cases/CL-1/messages", content=b"[" * 10_000 + b"]" * 10_000, headers=headers)
    assert deep.status_code == 400 and "nested deeper" in deep.json()["error"]
    broken = await client.post("/cases/CL-1/messages", content=b"{", headers=headers)
    assert broken.status_code == 422
    assert (await client.get("/cases/CL-1/messages", headers=bearer(OLA))).status_code == 405
    assert seen["commands"] == []
