"""The notifier's /deliveries over HTTP: staff only, and never a mail body, link or token."""

from __future__ import annotations

import json

import httpx
import pytest

from notifier.adapters.inbound.http import deliveries_routes
from shared.runtime.api import RequestLimits, api_app
from tests.support.oidc import auth, bearer

TOKEN = "eyJjYXNlIjoiQ1NSLTEifQ.c2lnbmF0dXJl"
LINK = f"http://approval.example/approvals/{TOKEN}"


class Store:
    """What Mongo's `for_case` returns for an approval mail (its projection drops only text and html)."""

    async def for_case(self, case_id: str) -> list[dict]:
        return [] if case_id != "CSR-1" else [{
            "id": "d-1", "event_id": "e-1", "event_type": "approval.requested", "case_id": "CSR-1",
            "recipient": "john", "role": "approver", "template": "approval_requested", "state": "sent",
            "attempts": 1, "strikes": 0, "created_at": "2026-01-01T00:00:00Z", "outbox": [{"token": TOKEN}],
            "mail": {"to": "john@example.com", "subject": "Approval needed", "message_id": "<d-1@x>", "link": LINK,
                     "text": f"Decide: {LINK}", "html": f'<a href="{LINK}">decide</a>'},
            "extra": {"link": LINK}}]


@pytest.fixture
async def http():
    app = RequestLimits(api_app("notifier", [deliveries_routes(Store(), auth())]), 65536, 32)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifier") as client:
        yield client


async def test_deliveries_need_a_staff_token(http):
    assert (await http.get("/deliveries?case_id=CSR-1")).status_code == 401
    assert (await http.get("/deliveries?case_id=CSR-1", headers=bearer("cust.ola"))).status_code == 403


async def test_deliveries_never_show_a_link_or_token(http):
    reply = await http.get("/deliveries?case_id=CSR-1", headers=bearer("clara"))
    assert reply.status_code == 200
    (delivery,) = reply.json()
    assert (delivery["recipient"], delivery["state"], delivery["attempts"]) == ("john", "sent", 1)
    assert delivery["mail"] == {"to": "john@example.com", "subject": "Approval needed", "message_id": "<d-1@x>"}
    assert TOKEN not in json.dumps(reply.json()) and "approvals/" not in reply.text


async def test_case_id_is_required_and_bounded(http):
    assert (await http.get("/deliveries", headers=bearer("clara"))).status_code == 422
    assert (await http.get("/deliveries?case_id=" + "x" * 500, headers=bearer("clara"))).status_code == 422
    assert (await http.get("/deliveries?case_id=NONE", headers=bearer("clara"))).json() == []
