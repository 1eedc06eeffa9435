"""Full journeys on the real broker and store, through Kafka only: Customer Request and CSR (seeds 000-002).

Portal types are in test_journeys_portal.py, ERP types in test_journeys_erp.py.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.oidc import bearer

pytestmark = pytest.mark.integration

CR = {"request_type": "technical_information"}
CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}
APPROVE = {"decision": "approve", "approver": "john", "comment": "ok"}


async def test_customer_request_approved_resolved_and_completed(wire):  # noqa: F811
    j = Journey(wire, "customer_request")
    opened = await j.ok("case.open", "carl", **opening("customer_request", CR))
    assert [e["type"] for e in opened] == ["case.opened"] and j.status == "open"
    await j.no("case.record_approval", "approval", "transition_not_allowed", step="approval", **APPROVE)
    sample = await j.no("case.request_sample", "carl", "invalid", product_id="P-9", quantity=2)
    assert "kept apart from Customer Requests" in sample["reason"]  # seed 000: separate processes

    submitted = await j.ok("case.submit", "carl", expect=("case.status_changed",))
    change = next(e["data"] for e in submitted if e["type"] == "case.status_changed")
    assert (change["trigger_name"], change["approval_step"], change["category"]) == ("submitted", "approval", "pending")
    await j.no("case.record_approval", "john", "forbidden", step="approval", **APPROVE)
    await j.no("case.resolve", "carl", "transition_not_allowed", resolution="x")

    approved = await j.ok("case.record_approval", "approval", step="approval", **APPROVE,
                          expect=("case.approval_recorded", "case.status_changed"))
    assert [e["type"] for e in approved] == ["case.approval_recorded", "case.status_changed"]
    assert all(e["data"]["status"] == "approved" for e in approved)

    only_text = await j.ok("case.resolve", "carl", resolution="Datasheet sent", expect=("case.updated",))
    assert [e["type"] for e in only_text] == ["case.updated"] and j.status == "approved"
    await j.no("case.close", "carl", "transition_not_allowed", reason="completed")  # only from resolved
    resolved = await j.ok("case.resolve", "carl", resolution_date="2026-11-26",
                          expect=("case.updated", "case.status_changed"))
    assert resolved[-1]["data"]["trigger_name"] == "resolution_filled"

    closed = await j.ok("case.close", "carl", reason="completed", expect=("case.status_changed", "case.closed"))
    assert closed[-1]["data"]["reason"] == "completed" and j.status == "closed_completed"
    await j.no("case.update", "carl", "closed", subject="again")

    assert j.status_changes() == [
        ("open", "pending_approval", "automatic"),
        ("pending_approval", "approved", "automatic"),
        ("approved", "resolved", "automatic"),
        ("resolved", "closed_completed", "manual"),
    ]
    await j.finish()


async def test_customer_request_by_sales_rep_is_approved_at_once(wire):  # noqa: F811
    j = Journey(wire, "customer_request")
    await j.ok("case.open", "mary", **opening("customer_request", CR))
    submitted = await j.ok("case.submit", "mary", expect=("case.status_changed",))
    assert submitted[-1]["data"]["trigger_name"] == "submitted_by_sales_rep"
    assert submitted[-1]["data"].get("approval_step") is None
    await j.no("case.record_approval", "approval", "transition_not_allowed", step="approval", **APPROVE)
    await j.ok("case.resolve", "mary", resolution="Sent", resolution_date="2026-11-26",
               expect=("case.updated", "case.status_changed"))
    await j.ok("case.close", "mary", reason="completed", expect=("case.closed",))
    assert j.status_changes() == [
        ("open", "approved", "automatic"),
        ("approved", "resolved", "automatic"),
        ("resolved", "closed_completed", "manual"),
    ]
    await j.finish()


def advice_served(base: str, case_id: str) -> list[str]:
    """The advice codes intake serves for a case (`GET /cases/{id}`, what the staff page shows)."""
    with urllib.request.urlopen(urllib.request.Request(f"{base}/cases/{case_id}", headers=bearer("mary")), timeout=30) as r:
        return [a["code"] for a in json.loads(r.read())["advice"]]


async def test_csr_registration_to_inactive(wire, intake):  # noqa: F811
    j = Journey(wire, "csr")
    opened = await j.ok("case.open", "mary", **opening("csr", CSR), expect=("case.opened", "case.advice"))
    assert j.status == "registration" and [e["type"] for e in opened] == ["case.opened", "case.advice"]
    advice = opened[1]["data"]  # seed 001: a warning at registration, not a refusal
    assert (advice["code"], advice["cleared"]) == ("product_required_before_submit", False)
    assert [a["code"] for a in j.case["advice"]] == ["product_required_before_submit"]
    again = await j.ok("case.update", "mary", description="Labels in Norwegian", expect=("case.updated", "case.advice"))
    assert [e["type"] for e in again] == ["case.updated", "case.advice"]
    assert advice_served(intake.url, j.case_id) == ["product_required_before_submit"]
    account = j.case["account"]  # copied from the seeded account directory
    assert account["name"] == "Nordlys Marine AS"
    assert account["sap_codes"] == {"sold_to": "0010001001", "ship_to": "0020001001", "bill_to": "0030001001"}
    assert account["customer_classification"] == "A - Key Account" and account["owner"] == "seller.ingrid"

    refusal = await j.no("case.submit", "mary", "guard_failed")
    assert "add" in refusal["reason"].lower() and "product" in refusal["reason"].lower()
    added = await j.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1",
                       expect=("case.product_added", "case.advice"))
    assert added[0]["data"]["related_product_count"] == 1
    assert (added[1]["data"]["code"], added[1]["data"]["cleared"]) == ("product_required_before_submit", True)
    assert advice_served(intake.url, j.case_id) == []
    submitted = await j.ok("case.submit", "mary", expect=("case.status_changed",))
    assert submitted[-1]["data"]["approval_step"] == "pre_approval"
    assert j.status == "pending_pre_approval"

    await j.no("case.update", "mary", "case_locked", subject="Changed while locked")
    await j.no("case.record_approval", "approval", "transition_not_allowed", step="final_approval", **APPROVE)
    await j.ok("case.record_approval", "approval", step="pre_approval", **APPROVE, expect=("case.status_changed",))
    assert j.status == "under_assessment"

    refusal = await j.no("case.submit", "frank", "guard_failed")
    assert "feasibility" in refusal["reason"]
    await j.no("case.record_assessment", "mary", "forbidden", feasibility_conclusion="ok")
    await j.ok("case.record_assessment", "frank", feasibility_conclusion="Feasible with new printer", feasible=True,
               expect=("case.updated",))
    final = await j.ok("case.submit", "frank", expect=("case.status_changed",))
    assert final[-1]["data"]["approval_step"] == "final_approval" and j.status == "approval_pending"
    await j.no("case.record_assessment", "frank", "case_locked", feasibility_conclusion="changed")
    await j.ok("case.record_approval", "approval", step="final_approval", **APPROVE, expect=("case.status_changed",))
    assert j.status == "under_implementation"

    await j.no("case.record_satisfaction", "mary", "transition_not_allowed", score=5)
    await j.no("case.set_status", "mary", "forbidden", status="implemented")
    await j.ok("case.set_status", "frank", status="implemented", expect=("case.status_changed",))
    satisfied = await j.ok("case.record_satisfaction", "mary", score=4, feedback="Labels look right",
                           expect=("case.updated",))
    assert any(c["field"].startswith("customer_satisfaction") for c in satisfied[0]["data"]["changes"])
    await j.ok("case.close", "mary", reason="no_longer_valid", expect=("case.closed",))
    assert j.status == "inactive"

    assert j.status_changes() == [
        ("registration", "pending_pre_approval", "automatic"),
        ("pending_pre_approval", "under_assessment", "automatic"),
        ("under_assessment", "approval_pending", "automatic"),
        ("approval_pending", "under_implementation", "automatic"),
        ("under_implementation", "implemented", "manual"),
        ("implemented", "inactive", "manual"),
    ]
    await j.finish()
