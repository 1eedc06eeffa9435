"""Full journeys through Kafka only: customer-portal case types (seed 003).

Claim, Change Request, Change Order, Quotation and Order, each opened by the customer (directly or relayed
by `system:portal-sync`) and worked by the seller.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)

pytestmark = pytest.mark.integration

CHANGE = {"order_reference": "SO-4411", "requested_change": "Deliver a week later"}


async def test_claim_cause_customer_message_approval_and_duplicate_close(wire):  # noqa: F811
    j = Journey(wire, "claim")
    await j.ok("case.open", "customer", **opening("claim", {"order_reference": "SO-1", "quantity_affected": 4}))
    assert j.status == "new" and j.case["cause"] is None
    noted = await j.ok("case.add_customer_message", "customer", message="Two arrived broken")
    assert [e["type"] for e in noted] == ["case.message_received"] and j.status == "new"  # nobody works on it yet
    await j.ok("case.set_status", "seller", status="in_progress", expect=("case.status_changed",))
    answered = await j.ok("case.add_customer_message", "portal", message="Photos attached",
                          expect=("case.message_received", "case.status_changed"))
    assert answered[0]["data"]["from_customer"] is True
    assert answered[-1]["data"]["trigger_name"] == "customer_message" and j.status == "response_received"

    refusal = await j.no("case.submit", "seller", "guard_failed")
    assert "cause" in refusal["reason"]
    await j.no("case.update", "seller", "invalid", cause="weather")
    await j.ok("case.update", "seller", cause="logistics", expect=("case.updated",))
    submitted = await j.ok("case.submit", "seller", expect=("case.status_changed",))
    assert submitted[-1]["data"]["approval_step"] == "approval"
    await j.ok("case.record_approval", "approval", decision="approve", step="approval", approver="boss",
               expect=("case.status_changed",))
    await j.ok("case.set_status", "seller", status="replacement_order_issued", expect=("case.status_changed",))

    refusal = await j.no("case.close", "seller", "invalid", reason="duplicated")
    assert "duplicate_of" in refusal["reason"]
    await j.no("case.close", "customer", "forbidden", reason="completed")
    original = f"CLAIM-{uuid.uuid4().hex[:12]}"
    closed = await j.ok("case.close", "seller", reason="duplicated", duplicate_of=original, expect=("case.closed",))
    assert (closed[-1]["data"]["reason"], closed[-1]["data"]["duplicate_of"]) == ("duplicated", original)
    await j.no("case.add_customer_message", "customer", "closed", message="hello?")

    assert j.status_changes() == [
        ("new", "in_progress", "manual"),
        ("in_progress", "response_received", "automatic"),
        ("response_received", "awaiting_approval", "automatic"),
        ("awaiting_approval", "approved", "automatic"),
        ("approved", "replacement_order_issued", "manual"),
        ("replacement_order_issued", "closed", "manual"),
    ]
    await j.finish()


async def test_change_request_manual_statuses_and_customer_answer(wire):  # noqa: F811
    j = Journey(wire, "change_request")
    await j.ok("case.open", "customer", **opening("change_request", CHANGE))
    await j.ok("case.set_status", "seller", status="in_progress", expect=("case.status_changed",))
    await j.ok("case.set_status", "seller", status="waiting_for_feedback", expect=("case.status_changed",))
    await j.ok("case.add_customer_message", "customer", message="A week later is fine",
               expect=("case.status_changed",))
    await j.no("case.set_status", "seller", "transition_not_allowed", status="response_received")
    await j.ok("case.set_status", "seller", status="awaiting_internal", expect=("case.status_changed",))
    await j.no("case.set_status", "customer", "forbidden", status="in_progress")
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    assert j.status_changes() == [
        ("new", "in_progress", "manual"),
        ("in_progress", "waiting_for_feedback", "manual"),
        ("waiting_for_feedback", "response_received", "automatic"),
        ("response_received", "awaiting_internal", "manual"),
        ("awaiting_internal", "closed", "manual"),
    ]
    await j.finish()


async def test_change_order_seller_note_does_not_move_it(wire):  # noqa: F811
    j = Journey(wire, "change_order")
    await j.ok("case.open", "portal", **opening("change_order", CHANGE))
    await j.ok("case.set_status", "seller", status="awaiting_internal", expect=("case.status_changed",))
    await j.ok("case.add_customer_message", "portal", message="Any news?", expect=("case.status_changed",))
    await j.ok("case.set_status", "seller", status="waiting_for_feedback", expect=("case.status_changed",))
    noted = await j.ok("case.add_customer_message", "seller", message="Noted by phone")
    assert [e["type"] for e in noted] == ["case.message_received"] and noted[0]["data"]["from_customer"] is False
    await j.no("case.set_status", "seller", "invalid", status="approved")
    await j.ok("case.close", "seller", reason="rejected", comment="Too late", expect=("case.closed",))
    assert j.status_changes() == [
        ("new", "awaiting_internal", "manual"),
        ("awaiting_internal", "response_received", "automatic"),
        ("response_received", "waiting_for_feedback", "manual"),
        ("waiting_for_feedback", "closed", "manual"),
    ]
    await j.finish()


async def test_quotation_draft_sent_and_revised(wire):  # noqa: F811
    j = Journey(wire, "quotation")
    opened = await j.ok("case.open", "customer", **opening("quotation", {"requested_quantity": 120}),
                        expect=("case.opened", "case.quote_requested"))
    drafted = opened[1]["data"]  # seed 003: the customer's request makes the Draft quote automatically
    assert (drafted["quote_status"], drafted["revision"]) == ("draft", 1)
    assert (j.case["quote"]["status"], j.case["quote"]["requested_by"]) == ("draft", "cust.ola")
    noted = await j.ok("case.request_quote", "customer", note="120 pcs", expect=("case.quote_requested",))
    assert noted[0]["data"]["revision"] == 1 and j.status == "new"  # added to the same draft
    await j.ok("case.set_status", "seller", status="in_progress", expect=("case.status_changed",))
    sent = await j.ok("case.send_quote", "seller", quote_reference="Q-1", amount=1500.0, currency="EUR",
                      expect=("case.quote_sent", "case.status_changed"))
    assert sent[0]["data"]["quote_status"] == "sent" and sent[-1]["data"]["trigger_name"] == "quote_sent"
    revised = await j.ok("case.request_quote", "customer", note="make it 150",
                         expect=("case.quote_requested", "case.status_changed"))
    assert revised[0]["data"]["revision"] == 2 and j.status == "response_received"
    await j.ok("case.send_quote", "seller", amount=1800.0, currency="EUR", expect=("case.status_changed",))
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    assert j.status_changes() == [
        ("new", "in_progress", "manual"),
        ("in_progress", "waiting_for_feedback", "automatic"),
        ("waiting_for_feedback", "response_received", "automatic"),
        ("response_received", "waiting_for_feedback", "automatic"),
        ("waiting_for_feedback", "closed", "manual"),
    ]
    await j.finish()


async def test_order_placed_confirmed_completed_closed(wire):  # noqa: F811
    j = Journey(wire, "order")
    await j.ok("case.open", "customer", **opening("order", {"requested_delivery_date": "2026-12-15"}))
    await j.no("case.confirm_order", "customer", "transition_not_allowed")
    await j.no("case.set_status", "seller", "transition_not_allowed", status="in_progress")
    placed = await j.ok("case.place_order", "erp", order_reference="SO-77",
                        expect=("case.order_placed", "case.status_changed"))
    assert placed[0]["data"]["order_status"] == "placed" and placed[-1]["data"]["trigger_name"] == "order_placed"
    await j.no("case.confirm_order", "seller", "forbidden")
    confirmed = await j.ok("case.confirm_order", "customer", expect=("case.order_confirmed", "case.status_changed"))
    assert confirmed[0]["data"]["order_reference"] == "SO-77" and j.status == "accepted"
    await j.no("case.set_status", "customer", "forbidden", status="completed")
    await j.ok("case.set_status", "warehouse", status="completed", expect=("case.status_changed",))
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    assert j.status_changes() == [
        ("new", "in_progress", "automatic"),
        ("in_progress", "accepted", "automatic"),
        ("accepted", "completed", "manual"),
        ("completed", "closed", "manual"),
    ]
    await j.finish()
