"""Intake's read API behind the API's limits, with real bearer tokens, over an in-memory reader."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from intake.adapters.inbound.http import case_routes, customers
from intake.core import load_lifecycles
from intake.core.listing import CaseFilter, Cursor, before, closed_statuses, order_key
from shared.directory import load_directory
from shared.runtime.api import api_app
from shared.runtime.api.limits import RequestLimits
from shared.settings import Settings
from tests.support.intake_cases import entry, stored_case
from tests.support.oidc import auth, bearer

LIFECYCLES = load_lifecycles()
CLOSED = closed_statuses(LIFECYCLES)


class MemoryReader:
    """A CaseReader over dicts, following the listing rules the Mongo reader turns into a query."""

    def __init__(self, cases: list[dict[str, Any]], histories: dict[str, list[dict[str, Any]]]) -> None:
        self.by_id, self.histories = {c["id"]: c for c in cases}, histories

    async def case(self, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        found = self.by_id.get(case_id)
        return None if found is None else (found, self.histories.get(case_id, []))

    async def cases(self, where: CaseFilter, after: Cursor | None, limit: int) -> list[dict[str, Any]]:
        rows = [c for c in self.by_id.values() if where.matches(c, CLOSED) and before(c, after)]
        return sorted(rows, key=order_key, reverse=True)[:limit]


CSR = stored_case("CSR-1", fields={"requirement_category": "labelling", "main_shipping_site": "Bergen"},
                  minutes=50, related_products=[{"product_id": "P-1", "name": "Lamp"}], related_product_count=1,
                  approval_history=[{"at": "2026-11-01T10:00:00Z", "command_id": "c9", "step": "pre_approval",
                                     "decision": "approve", "approver": "john", "comment": "ok",
                                     "status_before": "submitted", "status_after": "pre_approved"}],
                  advice=[{"code": "product_required_before_submit", "message": "Add a product", "at": "2026-11-01T09:00:00Z"}])
HISTORY = [entry("mary", "case.open", 0), entry("mary", "case.update", 1, ("subject", "a", "b")),
           entry("cust.ola", "case.add_customer_message", 2), entry("system:portal-sync", "case.add_customer_message", 3),
           entry("system:approval", "case.record_approval", 4, comment="rule r1")]
OTHERS = [stored_case("CL-1", "claim", minutes=10, status="new", account_id="ACC-1002", assignee="carl"),
          stored_case("CL-2", "claim", minutes=20, status="closed", gbu="lighting"),
          stored_case("HD-1", "helpdesk", minutes=30, status="available", queue="helpdesk", fields={"due_date": "2026-12-01"}),
          stored_case("CSR-2", minutes=30, assignee="mary"),  # as new as HD-1: the id breaks the tie
          stored_case("CSR-3", minutes=5), stored_case("CSR-4", minutes=1)]


@pytest.fixture
async def client():
    settings = Settings(service_name="intake")
    router = case_routes(MemoryReader([CSR, *OTHERS], {"CSR-1": HISTORY}), auth(), LIFECYCLES, customers(load_directory))
    app = RequestLimits(api_app("intake", [router]), settings.http_max_body_bytes, settings.limits.json_depth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as c:
        yield c


async def get(client: httpx.AsyncClient, path: str, who: str | None = "mary", **params: Any) -> httpx.Response:
    return await client.get(path, params=params, headers=bearer(who) if who else {})


async def test_staff_only(client):
    for path in ("/cases/CSR-1", "/cases"):
        missing = await get(client, path, None)
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
        customer = await get(client, path, "cust.ola")
        assert customer.status_code == 403 and customer.json() == {"error": "staff only"}
    unknown = await get(client, "/cases/NOPE-1")
    assert unknown.status_code == 404 and "NOPE-1" in unknown.json()["error"]


async def test_one_case_as_its_lifecycle_lays_it_out(client):
    reply = await get(client, "/cases/CSR-1")
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"case", "sections", "related", "approval_history", "history", "advice"}
    assert body["case"]["id"] == "CSR-1" and "history" not in body["case"]
    assert body["case"]["status_label"] == "Registration" and body["case"]["status_category"] == "open"
    titles = [s["title"] for s in body["sections"]]
    assert titles == [s.label for s in LIFECYCLES["csr"].sections] and titles[0] == "Case Information"
    info = {f["name"]: f for f in body["sections"][0]["fields"]}
    assert info["fields.requirement_category"] == {"name": "fields.requirement_category", "label": "Requirement Category",
                                                   "value": "labelling", "see": None}
    assert info["subject"]["value"] == "About CSR-1" and info["id"]["label"] == "Case Number"
    lists = {f["name"]: f for s in body["sections"] for f in s["fields"]}
    assert lists["history"]["see"] == "history" and lists["related_products"]["value"][0]["product_id"] == "P-1"
    assert body["related"] == {"products": [{"product_id": "P-1", "name": "Lamp"}], "product_count": 1, "accounts": [],
                               "shipping_sites": [], "team": [], "sample_requests": []}
    assert [(h["actor"], h["action"], h["kind"]) for h in body["history"]] == [
        ("mary", "case.open", "manual"), ("mary", "case.update", "manual"),
        ("cust.ola", "case.add_customer_message", "customer"),
        ("system:portal-sync", "case.add_customer_message", "customer"),
        ("system:approval", "case.record_approval", "automatic")]
    assert body["history"][1]["changes"] == [{"field": "subject", "before": "a", "after": "b"}]
    approval = body["approval_history"][0]
    assert (approval["approver"], approval["on_behalf_of"], approval["decision"], approval["kind"]) == (
        "john", None, "approve", "manual")
    assert body["advice"] == [{"code": "product_required_before_submit", "message": "Add a product",
                               "at": "2026-11-01T09:00:00Z"}]


async def test_filters(client):
    async def ids(**params: Any) -> list[str]:
        reply = await get(client, "/cases", **params)
        assert reply.status_code == 200, reply.text
        return [i["id"] for i in reply.json()["items"]]

    assert await ids() == ["CSR-1", "HD-1", "CSR-2", "CL-2", "CL-1", "CSR-3", "CSR-4"]  # newest change first
    assert await ids(account="ACC-1002") == ["CL-1"]
    assert await ids(type="claim") == ["CL-2", "CL-1"]
    assert await ids(type="claim", open="false") == ["CL-2"]
    assert await ids(open="true", type="claim") == ["CL-1"]
    assert "CL-2" not in await ids(open="true")
    assert await ids(assignee="carl") == ["CL-1"]
    assert "CL-1" not in await ids(assignee="none") and "CSR-2" not in await ids(assignee="none")
    assert await ids(gbu="lighting") == ["CL-2"] and await ids(queue="helpdesk") == ["HD-1"]
    assert await ids(status="registration", assignee="mary") == ["CSR-2"]
    item = (await get(client, "/cases", queue="helpdesk")).json()["items"][0]
    assert set(item) == {"id", "case_type", "gbu", "account_id", "subject", "status", "assignee", "queue",
                         "created_at", "updated_at", "due_date", "fields"}
    assert item["due_date"] == "2026-12-01"


async def test_pages_through_the_list(client):
    seen, cursor, pages = [], None, 0
    while True:
        reply = await get(client, "/cases", limit=3, **({"cursor": cursor} if cursor else {}))
        body = reply.json()
        seen += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == ["CSR-1", "HD-1", "CSR-2", "CL-2", "CL-1", "CSR-3", "CSR-4"]


async def test_bad_cursor_and_limit_are_refused_clearly(client):
    for cursor in ("garbage!", "WzEsMl0", Cursor("x", "y").encode()[:-2]):
        reply = await get(client, "/cases", cursor=cursor)
        assert reply.status_code == 400 and reply.json()["error"].startswith("cursor:"), (cursor, reply.text)
    for limit in (0, 201, "many"):
        reply = await get(client, "/cases", limit=limit)
        assert reply.status_code == 422 and reply.json()["error"].startswith("query.limit"), reply.text
