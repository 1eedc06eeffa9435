"""Intake's read API on the real broker and store: cases driven through Kafka, then read over HTTP from the process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from intake.core import load_lifecycles
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.oidc import bearer

pytestmark = pytest.mark.integration

CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}
APPROVE = {"decision": "approve", "approver": "john", "comment": "ok"}


def get(base: str, path: str, who: str | None = "mary", **params: Any) -> tuple[int, Any]:
    """Status and JSON body of a GET (4xx are answers here, not exceptions)."""
    query = f"?{urlencode(params)}" if params else ""
    req = urllib.request.Request(base + path + query, headers=bearer(who) if who else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


async def test_cases_driven_through_kafka_read_over_http(intake, wire):  # noqa: F811
    csr = Journey(wire, "csr")
    await csr.ok("case.open", "mary", **opening("csr", CSR))
    await csr.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1", expect=("case.product_added",))
    await csr.ok("case.update", "mary", subject="Labels in Norwegian", expect=("case.updated",))
    await csr.ok("case.add_team_member", "mary", person_id="frank", role="assessor")
    await csr.ok("case.submit", "mary", expect=("case.status_changed",))
    await csr.ok("case.record_approval", "approval", step="pre_approval", **APPROVE, expect=("case.status_changed",))
    claim = Journey(wire, "claim")
    await claim.ok("case.open", "customer", **opening("claim", {"order_reference": "SO-1", "quantity_affected": 4}))
    await claim.ok("case.add_customer_message", "portal", message="Photos attached")
    elsewhere = Journey(wire, "csr")
    await elsewhere.ok("case.open", "mary", **opening("csr", CSR, account_id="ACC-1002"))
    base = intake.url

    status, body = get(base, f"/cases/{csr.case_id}")
    assert status == 200, body
    assert body["case"]["id"] == csr.case_id and body["case"]["subject"] == "Labels in Norwegian"
    assert body["case"]["status"] == "under_assessment" and "history" not in body["case"]
    assert [s["title"] for s in body["sections"]] == [s.label for s in load_lifecycles()["csr"].sections]
    assert body["related"]["product_count"] == 1 and body["related"]["products"][0]["product_id"] == "P-1"
    assert body["related"]["team"] == [{"person_id": "frank", "role": "assessor"}]
    assert [(h["action"], h["actor"], h["kind"]) for h in body["history"]] == [  # oldest first, pending ones included
        ("case.open", "mary", "manual"), ("case.add_product", "mary", "manual"), ("case.update", "mary", "manual"),
        ("case.add_team_member", "mary", "manual"), ("case.submit", "mary", "manual"),
        ("case.record_approval", "system:approval", "automatic")]
    assert {"field": "subject", "before": "A csr", "after": "Labels in Norwegian"} in body["history"][2]["changes"]
    decision = body["approval_history"][-1]
    assert (decision["step"], decision["decision"], decision["approver"], decision["kind"]) == (
        "pre_approval", "approve", "john", "manual")
    assert isinstance(body["advice"], list)

    status, body = get(base, f"/cases/{claim.case_id}")
    assert status == 200 and [h["kind"] for h in body["history"]] == ["customer", "customer"]

    status, listed = get(base, "/cases", account="ACC-1001")
    assert status == 200 and [i["id"] for i in listed["items"]] == [claim.case_id, csr.case_id]  # newest change first
    assert listed["next_cursor"] is None and listed["items"][1]["status"] == "under_assessment"
    status, first = get(base, "/cases", account="ACC-1001", limit=1)
    status, second = get(base, "/cases", account="ACC-1001", limit=1, cursor=first["next_cursor"])
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [claim.case_id, csr.case_id]
    assert second["next_cursor"] is None
    assert [i["id"] for i in get(base, "/cases", account="ACC-1002", type="csr", open="true")[1]["items"]] == [
        elsewhere.case_id]
    assert get(base, "/cases", type="claim", assignee="none")[1]["items"][0]["id"] == claim.case_id

    assert get(base, f"/cases/{csr.case_id}", "cust.ola")[0] == 403
    assert get(base, f"/cases/{csr.case_id}", None)[0] == 401
    assert get(base, "/cases/NO-SUCH-CASE")[0] == 404
    assert get(base, "/cases", cursor="nonsense")[0] == 400
    assert get(base, "/readyz", None)[0] == 200  # the probes stay open
