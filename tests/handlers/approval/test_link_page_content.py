"""The approval page shows what seed 001's approver reads: the case content from case events, escaped, and the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from approval.adapters.inbound.http import approval_routes
from approval.core import Csrf, Linker, decide, delegate, open_step
from approval.core.content import Bounds
from approval.core.followed import content_changed, opened
from shared.contract.events import CaseOpened, CaseUpdated, ProductChanged
from shared.settings import Topics
from tests.handlers.approval.memory_store import MemoryApprovalStore
from tests.handlers.approval.test_link_routes import SECRET, FakeBroker
from tests.unit.approval.helpers import DIRECTORY, rules

BASE, WEB = "http://approvals.test", "http://web.test"
HOSTILE = '<script>alert("x")</script>'
COMMON = {"case_id": "C-9", "case_type": "csr", "gbu": "marine", "account_id": "ACC-1001", "status": "registration",
          "version": 1, "actor": {"id": "mary", "roles": ["sales_rep"]}}


def _state_with_history(linker: Linker, now: datetime):
    """A marine CSR as approval saw it: opened by mary, a product added, assessed; pre-approved by john;
    final approval (mode all) with john's part delegated to nina and peter's approval given."""
    snapshot = {"subject": f"Labels {HOSTILE}", "description": "Line one\nLine <two>",
                "account": {"name": "Nordlys & Co"}, "created_by": {"id": "mary"},
                "related_products": [{"product_id": "P-1", "name": "Luminaire <b>1</b>"}], "related_product_count": 1}
    bounds = Bounds(text_chars=200, list_items=2)
    state = opened(None, CaseOpened(**COMMON, case=snapshot), bounds).state
    state = content_changed(state, ProductChanged(**COMMON, product_id="P-2", name="Lamp 2", related_product_count=2),
                            "case.product_added", bounds).state
    state = content_changed(state, ProductChanged(**COMMON, product_id="P-3", name="Lamp 3", related_product_count=3),
                            "case.product_added", bounds).state  # over list_items: counted, not listed
    state = content_changed(state, CaseUpdated(**COMMON, command_type="case.record_assessment", changes=[
        {"field": "feasibility_conclusion", "before": None, "after": "Feasible " + "x" * 300},
        {"field": "fields.other", "before": None, "after": "not shown"}]), "case.updated", bounds).state
    pre = open_step(state, "pre_approval", "A-pre", "mary", now - timedelta(hours=3), rules(), DIRECTORY, {}, linker)
    state = decide(pre.state, "pre_approval", "john", "approve", f"ok {HOSTILE}", now - timedelta(hours=2)).state
    final = open_step(state, "final_approval", "A-final", "frank", now - timedelta(hours=1), rules(), DIRECTORY, {}, linker)
    state = delegate(final.state, "final_approval", "john", "nina", None, DIRECTORY, linker).state
    state = decide(state, "final_approval", "peter", "approve", "Fine", now - timedelta(minutes=30)).state
    return state


@pytest.fixture
async def page():
    store, linker = MemoryApprovalStore(), Linker(SECRET, BASE, ttl=timedelta(days=14))
    await store.put(_state_with_history(linker, datetime.now(UTC)), "setup")
    app = FastAPI()
    app.include_router(approval_routes(store, linker, Csrf(SECRET), FakeBroker(), Topics(), case_links=WEB))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client, f"/approvals/{linker.token('C-9', 'A-final', 'nina')}"


async def test_the_page_shows_the_case_content_escaped_with_the_history_and_a_case_link(page):
    client, path = page
    response = await client.get(path)
    assert response.status_code == 200
    html = response.text
    assert HOSTILE not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # subject and comment
    assert "Labels &lt;script&gt;" in html and "Line one\nLine &lt;two&gt;" in html and "Nordlys &amp; Co" in html
    assert "Related products (3)" in html and "Luminaire &lt;b&gt;1&lt;/b&gt;" in html and "Lamp 2" in html
    assert "Lamp 3" not in html  # the list is bounded; the count is intake's
    assert "Feasible xxx" in html and "x" * 300 not in html and "not shown" not in html
    assert f'href="{WEB}/cases/C-9"' in html
    assert "Registered by</th><td>mary" in html and "Submitted by</th><td>frank" in html
    history = html[html.index("Approval history"):]
    assert history.index("pre_approval") < history.index("final_approval")
    assert "john" in history and "peter" in history and 'name="decision" value="approve"' in html  # nina may decide


async def test_json_carries_the_same_content_and_history(page):
    client, path = page
    body = (await client.get(path, headers={"accept": "application/json"})).json()
    assert body["subject"] == f"Labels {HOSTILE}" and body["account_name"] == "Nordlys & Co"
    assert body["product_count"] == 3 and [p["product_id"] for p in body["products"]] == ["P-1", "P-2"]
    assert len(body["feasibility_conclusion"]) == 200 and body["registered_by"] == "mary"
    assert body["case_link"] == f"{WEB}/cases/C-9" and body["approver"] == "nina"
    assert [(e["step"], e["approver"], e["decision"]) for e in body["approval_history"]] == [
        ("pre_approval", "john", "approve"), ("final_approval", "peter", "approve")]
    assert body["decide"]["fields"]["csrf_token"]
