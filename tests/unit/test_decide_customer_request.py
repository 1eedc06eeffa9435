"""decide: Customer Request lifecycle (seed 000)."""

from __future__ import annotations

from tests.unit.test_decide_support import Journey, opened

CR = {"request_type": "technical_information"}


def test_open_starts_open_with_snapshot_and_account_details():
    j = opened("customer_request", "carl", fields=CR)
    assert j.status == "open" and j.types() == ["case.opened"]
    snapshot = j.events[0][1].case
    assert snapshot["status"] == "open" and snapshot["version"] == 1
    assert j.case.account.sap_codes.sold_to == "0010001001"
    assert j.case.history[0].command_type == "case.open"


def test_required_field_missing_is_invalid():
    r = Journey("X").no("case.open", "carl", "invalid", case_type="customer_request", gbu="g",
                                             account_id="ACC-1001", subject="s")
    assert "request_type" in r.reason


def test_submit_then_approved_by_approver():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    assert j.status == "pending_approval"
    assert j.status_changes() == [("open", "pending_approval", "automatic")]
    assert j.events[0][1].approval_step == "approval"
    j.ok("case.record_approval", "approval", decision="approve", step="approval", approver="john", comment="ok")
    assert j.status == "approved"
    assert j.types() == ["case.approval_recorded", "case.status_changed"]
    entry = j.case.approval_history[-1]
    assert (entry.status_before, entry.status_after, entry.approver) == ("pending_approval", "approved", "john")


def test_submit_by_sales_rep_creator_is_approved_at_once():
    j = opened("customer_request", "mary", fields=CR)
    j.ok("case.submit", "mary")
    assert j.status == "approved"
    assert j.status_changes() == [("open", "approved", "automatic")]
    assert j.events[0][1].trigger_name == "submitted_by_sales_rep"


def test_rejected_then_resubmitted_or_stopped():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    j.ok("case.record_approval", "approval", decision="reject", step="approval", approver="john")
    assert j.status == "rejected"
    j.ok("case.submit", "carl")
    assert j.status == "pending_approval"
    j.ok("case.record_approval", "approval", decision="reject", step="approval", approver="john")
    j.ok("case.close", "carl", reason="stopped")
    assert j.status == "closed_stopped" and j.case.closure_reason == "stopped"
    assert j.types() == ["case.status_changed", "case.closed"]


def test_resolved_only_when_both_fields_filled():
    j = opened("customer_request", "mary", fields=CR)
    j.ok("case.submit", "mary")
    j.ok("case.resolve", "mary", resolution="Datasheet sent")
    assert j.status == "approved" and j.types() == ["case.updated"]
    j.ok("case.resolve", "mary", resolution_date="2025-03-04")
    assert j.status == "resolved"
    assert j.types() == ["case.updated", "case.status_changed"]
    assert j.status_changes() == [("approved", "resolved", "automatic")]
    assert all(e.status == "resolved" for _, e in j.events)
    j.ok("case.close", "mary", reason="completed")
    assert j.status == "closed_completed"


def test_resolution_filled_before_approval_resolves_on_approval():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    j.no("case.resolve", "carl", "transition_not_allowed", resolution="x", resolution_date="2025-03-04")
    j.ok("case.record_approval", "approval", decision="approve", step="approval", approver="john")
    j.ok("case.resolve", "carl", resolution="x", resolution_date="2025-03-04")
    assert j.status == "resolved"


def test_closed_statuses_are_manual_only_and_checked():
    j = opened("customer_request", "mary", fields=CR)
    j.no("case.close", "mary", "transition_not_allowed", reason="completed")  # only from resolved
    j.no("case.set_status", "mary", "invalid", status="closed_completed")  # closing goes through case.close
    j.no("case.set_status", "mary", "transition_not_allowed", status="approved")  # automatic only
    j.no("case.close", "mary", "invalid", reason="duplicated")
    j.no("case.close", "customer", "forbidden", reason="stopped")
    j.ok("case.close", "mary", reason="stopped")
    j.no("case.update", "mary", "closed", subject="again")


def test_approval_only_from_approval_service_and_when_pending():
    j = opened("customer_request", "carl", fields=CR)
    j.no("case.record_approval", "approval", "transition_not_allowed", decision="approve", step="approval", approver="j")
    j.ok("case.submit", "carl")
    j.no("case.record_approval", "john", "forbidden", decision="approve", step="approval", approver="john")
    j.no("case.record_approval", "approval", "transition_not_allowed", decision="approve", step="final_approval", approver="j")
    j.no("case.submit", "carl", "transition_not_allowed")


def test_sample_request_is_neither_a_case_nor_recorded_on_a_customer_request():
    j = opened("customer_request", "carl", fields=CR)
    r = Journey("S-1").no(
        "case.open", "carl", "invalid", case_type="customer_request", gbu="g", account_id="ACC-1001", subject="Samples",
        fields=CR, is_sample_request=True,
    )
    assert "case.request_sample" in r.reason
    r = j.no("case.request_sample", "carl", "invalid", product_id="P-77", quantity=3, needed_by="2025-04-01")
    assert "kept apart from Customer Requests" in r.reason and j.case.sample_requests == []


def test_recalled_request_is_open_again():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    j.ok("case.record_approval", "approval", decision="recall", step="approval", approver="carl")
    assert j.status == "open" and j.status_changes()[-1] == ("pending_approval", "open", "automatic")
