"""The approval link router (GET page / JSON, POST decide with CSRF) on its own FastAPI app, over httpx ASGI."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from approval.adapters.inbound.http import COOKIE, approval_routes
from approval.core import Csrf, Linker, decide, open_step
from approval.core.tokens import signature_of
from shared.settings import Topics
from tests.handlers.approval.memory_store import MemoryApprovalStore
from tests.unit.approval.helpers import DIRECTORY, case, rules

SECRET = "handler-test-secret-of-at-least-32-bytes"
BASE = "http://approvals.test"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class FakeBroker:
    """Records what the router publishes; `fail` makes the next publish raise like a broker outage."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fail = False

    async def publish(self, body: bytes, topic: str, key: bytes, headers: dict) -> None:
        if self.fail:
            self.fail = False
            raise ConnectionError("broker unreachable")
        self.sent.append({"topic": topic, "key": key, "command": json.loads(body)})


class Links:
    """The router, its store and broker, and tokens for the approvers of an open step."""

    def __init__(self) -> None:
        self.clock, self.store, self.broker = Clock(), MemoryApprovalStore(), FakeBroker()
        self.linker = Linker(SECRET, BASE, ttl=timedelta(days=14), clock=self.clock)
        self.csrf = Csrf(SECRET, clock=self.clock)
        app = FastAPI()
        app.include_router(approval_routes(self.store, self.linker, self.csrf, self.broker, Topics(), comment_chars=50))
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)

    async def open(self, case_id: str = "C-1", requested_by: str = "mary") -> dict[str, str]:
        outcome = open_step(case("csr", "marine").model_copy(update={"case_id": case_id}), "final_approval", "A-1",
                            requested_by, self.clock(), rules(), DIRECTORY, {}, self.linker)
        await self.store.put(outcome.state, "open")
        return {d["approver"]: d["token"] for t, d in outcome.events if t == "approval.requested"}

    async def page(self, token: str) -> tuple[httpx.Response, str]:
        response = await self.client.get(f"/approvals/{token}")
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        return response, match.group(1) if match else ""

    async def post(self, token: str, csrf: str, decision: str = "approve", json_: bool = False, **form) -> httpx.Response:
        headers = {"accept": "application/json"} if json_ else {}
        return await self.client.post(f"/approvals/{token}/decide", headers=headers,
                                      data={"decision": decision, "csrf_token": csrf, **form})


@pytest.fixture
async def links():
    links = Links()
    yield links
    await links.client.aclose()


async def test_page_shows_case_and_step_with_a_csrf_form_and_a_strict_cookie(links):
    tokens = await links.open(requested_by="<b>mallory</b>")
    response, csrf = await links.page(tokens["john"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "C-1" in html and "final_approval" in html and "john" in html and csrf
    assert "&lt;b&gt;mallory&lt;/b&gt;" in html and "<b>mallory</b>" not in html  # autoescaped
    cookie = response.headers["set-cookie"].lower()
    assert f"{COOKIE}=" in cookie and "samesite=strict" in cookie and "httponly" in cookie
    assert f"path=/approvals/{tokens['john']}".lower() in cookie
    assert response.headers["cache-control"] == "no-store" and response.headers["x-frame-options"] == "DENY"


async def test_json_on_request_names_the_form_fields(links):
    tokens = await links.open()
    response = await links.client.get(f"/approvals/{tokens['peter']}", headers={"accept": "application/json"})
    body = response.json()
    assert response.status_code == 200
    assert (body["case_id"], body["step"], body["approver"], body["status"]) == ("C-1", "final_approval", "peter", "pending")
    assert body["decide"]["url"] == f"{BASE}/approvals/{tokens['peter']}/decide"
    assert body["decide"]["fields"]["csrf_token"] and body["your_part"]["status"] == "pending"


async def test_decide_needs_the_pages_csrf_token_and_cookie(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    _, other_csrf = await links.page(tokens["peter"])  # a valid CSRF token, but of another link
    saved = list(links.client.cookies.jar)
    assert (await links.post(tokens["john"], "")).status_code == 403
    assert (await links.post(tokens["john"], other_csrf)).status_code == 403
    old_api = await links.client.post(f"/approvals/{tokens['john']}/decide?decision=approve")
    assert old_api.status_code == 403
    links.client.cookies.clear()  # the token alone, without the browser's cookie (another site's form)
    assert (await links.post(tokens["john"], csrf)).status_code == 403
    assert links.broker.sent == [] and links.store.spent == {}
    for cookie in saved:
        links.client.cookies.jar.set_cookie(cookie)
    sent = await links.post(tokens["john"], csrf, "reject", json_=True, comment="Not <yet>")
    assert sent.status_code == 202 and sent.json()["status"] == "sent"
    [message] = links.broker.sent
    command = message["command"]
    assert message["key"] == b"C-1" and message["topic"] == Topics().approval_commands
    assert command["id"] == sent.json()["command_id"] and command["type"] == "approval.decide"
    assert command["data"] == {"case_id": "C-1", "step": "final_approval", "decision": "reject", "comment": "Not <yet>",
                               "token": tokens["john"], "actor": {"id": "john", "roles": []}}


async def test_a_used_link_is_refused_on_replay(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    assert (await links.post(tokens["john"], csrf)).status_code == 202
    replay = await links.post(tokens["john"], csrf)
    assert replay.status_code == 409 and "already used" in replay.text
    again = await links.client.get(f"/approvals/{tokens['john']}", headers={"accept": "application/json"})
    assert again.status_code == 409 and again.json() == {"error": "This approval link was already used.", "code": "used"}
    assert len(links.broker.sent) == 1


async def test_two_clicks_at_once_send_one_decision(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    answers = await asyncio.gather(*(links.post(tokens["john"], csrf) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409, 409] and len(links.broker.sent) == 1


async def test_an_expired_link_is_refused(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    links.clock.now += timedelta(days=14, seconds=1)
    for response in (await links.client.get(f"/approvals/{tokens['john']}"), await links.post(tokens["john"], csrf)):
        assert response.status_code == 410 and "expired" in response.text
    assert links.broker.sent == []


async def test_an_old_form_is_refused(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    links.clock.now += links.csrf.max_age + timedelta(minutes=2)
    assert (await links.post(tokens["john"], csrf)).status_code == 403


@pytest.mark.parametrize("token", [
    "é.abcdefghijklmnopqrstuvwx", "abc", "a.b", "x" * 2000 + ".abcdefghijklmnopqrstuvwx",
    "bm90IGpzb24.abcdefghijklmnopqrstuvwx",  # base64 of "not json"
    "WzEsMiwzLDRd.abcdefghijklmnopqrstuvwx",  # [1,2,3,4]: wrong types
    "%00%ff.abcdefghijklmnopqrstuvwx", "a..", "a..b"])
async def test_malformed_tokens_get_a_clear_4xx(links, token):
    await links.open()
    for response in (await links.client.get(f"/approvals/{token}", headers={"accept": "application/json"}),
                     await links.post(token, "x", json_=True)):
        assert response.status_code in (400, 404) and response.json()["error"]


async def test_a_forged_or_foreign_token_is_refused(links):
    tokens = await links.open()
    forged = tokens["john"].partition(".")[0] + "." + "A" * 24
    foreign = Linker("another-deployments-secret-32-bytes-long", BASE, clock=links.clock).token("C-1", "A-1", "john")
    for token in (forged, foreign):
        response = await links.client.get(f"/approvals/{token}")
        assert response.status_code == 404 and "invalid approval link" in response.text


async def test_bad_decision_or_long_comment_is_refused_and_leaves_the_link_usable(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    assert (await links.post(tokens["john"], csrf, "maybe")).status_code == 400
    assert (await links.post(tokens["john"], csrf, comment="x" * 51)).status_code == 400
    assert (await links.post(tokens["john"], csrf)).status_code == 202


async def test_broker_outage_gives_the_link_back(links):
    tokens = await links.open()
    _, csrf = await links.page(tokens["john"])
    links.broker.fail = True
    assert (await links.post(tokens["john"], csrf)).status_code == 503
    assert signature_of(tokens["john"]) not in links.store.spent
    assert (await links.post(tokens["john"], csrf)).status_code == 202


async def test_a_decided_step_shows_no_form_and_refuses_a_decision(links):
    tokens = await links.open()
    first = decide(await links.store.read("C-1"), "final_approval", "john", "reject", "no", links.clock())
    await links.store.put(first.state, "decided")
    response, csrf = await links.page(tokens["peter"])
    assert response.status_code == 200 and "closed (rejected)" in response.text and not csrf
    form_token, nonce = links.csrf.issue(tokens["peter"])
    links.client.cookies.set(COOKIE, nonce)
    assert (await links.post(tokens["peter"], form_token)).status_code == 409 and links.broker.sent == []
