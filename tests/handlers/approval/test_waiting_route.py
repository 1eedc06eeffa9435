"""GET /approvals/waiting over httpx ASGI: staff only, a person's open steps as approver or delegate, with links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from approval.adapters.inbound.waiting import waiting_routes
from approval.core import Linker, decide, delegate, open_step
from tests.handlers.approval.memory_store import MemoryApprovalStore
from tests.support.oidc import auth, bearer
from tests.unit.approval.helpers import DIRECTORY, case, rules

BASE = "http://approvals.test"
LINKER = Linker("handler-test-secret-of-at-least-32-bytes", BASE, ttl=timedelta(days=14))


@pytest.fixture
async def api():
    store = MemoryApprovalStore()
    app = FastAPI()
    app.include_router(waiting_routes(store, LINKER, auth()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield store, client


async def _open(store: MemoryApprovalStore, case_id: str, at: datetime, subject: str = "Salt-mist coating"):
    """A marine CSR at final approval: peter and john (quality) must both approve (mode `all`)."""
    state = case("csr", "marine").model_copy(update={"case_id": case_id})
    state.content.subject = subject
    outcome = open_step(state, "final_approval", f"A-{case_id}", "mary", at, rules(), DIRECTORY, {}, LINKER)
    await store.put(outcome.state, f"open-{case_id}")
    return outcome.state


async def test_waiting_lists_the_persons_open_steps_as_approver_or_delegate(api):
    store, client = api
    now = datetime.now(UTC)
    first = await _open(store, "C-1", now - timedelta(hours=2))
    second = await _open(store, "C-2", now - timedelta(hours=1), subject="<script>x</script>")
    handed = delegate(second, "final_approval", "john", "nina", "on holiday", DIRECTORY, LINKER)
    await store.put(handed.state, "delegate-C-2")
    decided = decide(first, "final_approval", "peter", "approve", None, now)
    await store.put(decided.state, "decide-C-1")

    john = (await client.get("/approvals/waiting", headers=bearer("john"))).json()["items"]
    assert [i["case_id"] for i in john] == ["C-1", "C-2"]  # oldest first; still eligible after delegating
    item = john[0]
    assert set(item) == {"case_id", "approval_id", "step", "case_type", "gbu", "subject", "opened_at", "escalate_at", "link"}
    assert item["step"] == "final_approval" and item["case_type"] == "csr" and item["gbu"] == "marine"
    assert item["subject"] == "Salt-mist coating"
    claim = LINKER.check(item["link"].rsplit("/", 1)[1])
    assert (claim.case_id, claim.approval_id, claim.person) == ("C-1", "A-C-1", "john")  # a link for john

    nina = (await client.get("/approvals/waiting", headers=bearer("nina"))).json()["items"]
    assert [(i["case_id"], i["subject"]) for i in nina] == [("C-2", "<script>x</script>")]  # JSON, not HTML
    assert LINKER.check(nina[0]["link"].rsplit("/", 1)[1]).person == "nina"
    peter = (await client.get("/approvals/waiting", headers=bearer("peter"))).json()["items"]
    assert [i["case_id"] for i in peter] == ["C-2"]  # his part of C-1 is decided
    assert (await client.get("/approvals/waiting", headers=bearer("mary"))).json() == {"items": []}


async def test_waiting_needs_a_staff_token(api):
    _, client = api
    assert (await client.get("/approvals/waiting")).status_code == 401
    assert (await client.get("/approvals/waiting", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    refused = await client.get("/approvals/waiting", headers=bearer("cust.ola"))
    assert refused.status_code == 403
