"""decide: customer-portal case types (seed 003): claim, change request/order, quotation, order."""

from __future__ import annotations

import pytest

from tests.unit.test_decide_support import Journey, opened


def test_claim_full_journey_with_cause_and_approval():
    j = opened("claim", "customer", cause=None, fields={"order_reference": "SO-1", "quantity_affected": 4})
    assert j.status == "new" and j.case.cause is None
    j.ok("case.add_customer_message", "customer", message="Two arrived broken")
    assert j.status == "new" and j.case.description_notes[0].from_customer  # nobody works on it yet
    j.ok("case.set_status", "seller", status="in_progress")
    j.ok("case.set_status", "seller", status="waiting_for_technical_feedback")
    j.ok("case.add_customer_message", "customer", message="Photos attached")
    assert j.status == "response_received"
    assert j.types() == ["case.message_received", "case.status_changed"]
    r = j.no("case.submit", "seller", "guard_failed")
    assert "cause" in r.reason
    j.no("case.update", "seller", "invalid", cause="weather")
    j.ok("case.update", "seller", cause="logistics")
    j.ok("case.submit", "seller")
    assert j.status == "awaiting_approval"
    j.ok("case.record_approval", "approval", decision="approve", step="approval", approver="boss")
    assert j.status == "approved"
    j.ok("case.set_status", "seller", status="replacement_order_issued")
    j.ok("case.set_status", "seller", status="replacement_order_delivered")
    j.ok("case.close", "seller", reason="completed")
    assert j.status == "closed" and j.case.closure_reason == "completed"


def test_claim_open_with_cause_and_rejected_approval_returns_to_seller():
    j = opened("claim", "customer", cause="technical")
    assert j.case.cause == "technical"
    j.ok("case.set_status", "seller", status="in_progress")
    j.ok("case.submit", "seller")
    j.ok("case.record_approval", "approval", decision="reject", step="approval", approver="boss")
    assert j.status == "in_progress"
    j.no("case.set_status", "seller", "transition_not_allowed", status="approved")
    j.no("case.set_status", "customer", "forbidden", status="waiting_for_feedback")


def test_claim_cause_must_be_known_and_only_for_claims():
    Journey("C-9").no("case.open", "customer", "invalid", case_type="claim", gbu="g", account_id="ACC-1001",
                      subject="s", cause="weather")
    r = Journey("C-8").no("case.open", "seller", "invalid", case_type="quotation", gbu="g", account_id="ACC-1001",
                          subject="s", cause="technical")
    assert "cause" in r.reason


@pytest.mark.parametrize("case_type", ["claim", "change_request", "change_order", "quotation"])
def test_closing_reasons_and_duplicate_of(case_type):
    j = opened(case_type, "customer")
    j.no("case.close", "seller", "invalid", reason="solved")
    r = j.no("case.close", "seller", "invalid", reason="duplicated")
    assert "duplicate_of" in r.reason
    j.no("case.close", "seller", "invalid", reason="completed", duplicate_of="X-1")
    j.no("case.close", "seller", "invalid", reason="duplicated", duplicate_of=j.case_id)
    j.no("case.close", "seller", "invalid")  # reason is required by the schema
    j.no("case.close", "customer", "forbidden", reason="rejected")
    j.ok("case.close", "seller", reason="duplicated", duplicate_of="X-1")
    assert (j.status, j.case.duplicate_of, j.events[1][1].duplicate_of) == ("closed", "X-1", "X-1")
    j.no("case.add_customer_message", "customer", "closed", message="hello?")


@pytest.mark.parametrize("case_type", ["change_request", "change_order", "quotation"])
def test_change_and_quotation_manual_statuses(case_type):
    j = opened(case_type, "customer")
    j.ok("case.set_status", "seller", status="in_progress")
    j.ok("case.set_status", "seller", status="awaiting_internal")
    j.no("case.set_status", "seller", "transition_not_allowed", status="response_received")
    j.no("case.set_status", "seller", "invalid", status="approved")
    j.ok("case.add_customer_message", "customer", message="Any news?")
    assert j.status == "response_received"
    j.ok("case.set_status", "seller", status="waiting_for_feedback")
    j.ok("case.add_customer_message", "seller", message="Noted by phone")  # not from the customer: no move
    assert j.status == "waiting_for_feedback" and j.status_changes() == []
    j.ok("case.close", "seller", reason="completed")


def test_quotation_quote_draft_then_sent_moves_case():
    j = opened("quotation", "customer", fields={"requested_quantity": 120})
    assert (j.case.quote.status, j.case.quote.revision) == ("draft", 1)  # the request itself makes the draft
    j.ok("case.request_quote", "customer", note="120 pcs")  # adds to the draft
    assert (j.case.quote.status, j.case.quote.revision, j.case.quote.note, j.status) == ("draft", 1, "120 pcs", "new")
    j.no("case.send_quote", "customer", "forbidden")
    j.ok("case.set_status", "seller", status="in_progress")
    j.ok("case.send_quote", "seller", quote_reference="Q-1", amount=1500.0, currency="EUR")
    assert j.case.quote.status == "sent" and j.status == "waiting_for_feedback"
    assert j.types() == ["case.quote_sent", "case.status_changed"]
    assert j.status_changes() == [("in_progress", "waiting_for_feedback", "automatic")]
    j.ok("case.request_quote", "customer", note="make it 150")
    assert j.case.quote.revision == 2 and j.status == "response_received"
    j.ok("case.send_quote", "seller", amount=1800.0, currency="EUR")
    assert j.status == "waiting_for_feedback"


def test_order_journey():
    j = opened("order", "customer")
    assert j.status == "new"
    j.no("case.confirm_order", "customer", "transition_not_allowed")
    j.no("case.set_status", "seller", "transition_not_allowed", status="in_progress")
    j.ok("case.place_order", "seller", order_reference="SO-77")
    assert j.status == "in_progress" and j.types() == ["case.order_placed", "case.status_changed"]
    j.no("case.place_order", "seller", "transition_not_allowed", order_reference="SO-78")
    j.no("case.confirm_order", "seller", "forbidden")
    j.no("case.set_status", "warehouse", "transition_not_allowed", status="completed")
    j.ok("case.confirm_order", "customer")
    assert j.status == "accepted" and j.case.order.status == "confirmed"
    j.no("case.set_status", "customer", "forbidden", status="completed")
    j.ok("case.set_status", "warehouse", status="completed")
    j.ok("case.close", "seller", reason="completed")
    assert j.status == "closed"


def test_commands_that_do_not_apply_to_a_type_are_invalid():
    j = opened("order", "customer")
    r = j.no("case.send_quote", "seller", "invalid")
    assert "does not apply" in r.reason
    j2 = opened("claim", "customer")
    j2.no("case.place_order", "seller", "invalid", order_reference="x")


def test_recalled_claim_approval_is_back_in_progress():
    j = opened("claim", "customer", cause="logistics")
    j.ok("case.set_status", "seller", status="in_progress")
    j.ok("case.submit", "seller")
    j.ok("case.record_approval", "approval", decision="recall", step="approval", approver="seller.ingrid")
    assert j.status == "in_progress" and j.case.approval_history[-1].decision == "recall"
