"""decide: Customer Specific Requirement lifecycle (seeds 001/002)."""

from __future__ import annotations

import pytest

from tests.unit.test_decide_support import opened

CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}


def registered():
    j = opened("csr", "mary", fields=CSR)
    assert j.status == "registration"
    return j


def pre_approved():
    j = registered()
    j.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1")
    j.ok("case.submit", "mary")
    j.ok("case.record_approval", "approval", decision="approve", step="pre_approval", approver="john")
    return j


def test_account_details_are_filled_from_directory():
    j = registered()
    assert j.case.account.customer_classification == "A - Key Account"
    assert j.case.account.sap_codes.ship_to == "0020001001"
    assert j.case.account.owner == "seller.ingrid"


def test_submit_without_product_is_guard_failed_with_advice():
    j = registered()
    r = j.no("case.submit", "mary", "guard_failed")
    assert "related product" in r.reason


def test_related_lists_and_product_count():
    j = registered()
    j.ok("case.add_product", "mary", product_id="P-1")
    j.ok("case.add_product", "mary", product_id="P-2")
    assert j.case.related_product_count == 2 and j.events[0][1].related_product_count == 2
    j.no("case.add_product", "mary", "invalid", product_id="P-2")
    j.ok("case.remove_product", "mary", product_id="P-1")
    assert j.case.related_product_count == 1 and j.types() == ["case.product_removed"]
    j.no("case.remove_product", "mary", "invalid", product_id="P-1")
    j.ok("case.add_account", "mary", account_id="ACC-1002", name="Helios")
    j.no("case.add_account", "mary", "invalid", account_id="ACC-1001")
    j.ok("case.add_shipping_site", "mary", site_id="0020009999", name="Hamburg", country="DE")
    j.ok("case.add_team_member", "mary", person_id="frank", role="assessor")
    j.no("case.add_team_member", "mary", "invalid", person_id="frank", role="assessor")
    assert [m.role for m in j.case.team] == ["assessor"]
    assert [s.site_id for s in j.case.shipping_sites] == ["0020009999"]
    assert [a.account_id for a in j.case.additional_accounts] == ["ACC-1002"]
    change = next(c for c in j.case.history[-1].changes if c.field == "team")
    assert change.before == [] and change.after == [{"person_id": "frank", "role": "assessor"}]


def test_pending_pre_approval_is_locked():
    j = registered()
    j.ok("case.add_product", "mary", product_id="P-1")
    j.ok("case.submit", "mary")
    assert j.status == "pending_pre_approval"
    for type_, data in [("case.update", {"subject": "x"}), ("case.add_product", {"product_id": "P-9"}),
                        ("case.submit", {}), ("case.assign", {"assignee": "frank"})]:
        j.no(type_, "mary", "case_locked", **data)
    j.no("case.close", "mary", "transition_not_allowed", reason="no_longer_valid")


def test_full_journey_registration_to_inactive():
    j = pre_approved()
    assert j.status == "under_assessment"
    assert j.status_changes() == [("pending_pre_approval", "under_assessment", "automatic")]
    r = j.no("case.submit", "frank", "guard_failed")
    assert "feasibility" in r.reason
    j.no("case.record_assessment", "mary", "forbidden", feasibility_conclusion="ok")
    j.ok("case.record_assessment", "frank", feasibility_conclusion="Feasible with new label printer", feasible=True)
    j.ok("case.submit", "frank")
    assert j.status == "approval_pending" and j.events[0][1].approval_step == "final_approval"
    j.no("case.record_assessment", "frank", "case_locked", feasibility_conclusion="changed")
    j.no("case.record_approval", "approval", "transition_not_allowed", decision="approve", step="pre_approval", approver="p")
    j.ok("case.record_approval", "approval", decision="approve", step="final_approval", approver="peter")
    assert j.status == "under_implementation"
    j.no("case.record_satisfaction", "mary", "transition_not_allowed", score=5)
    j.no("case.set_status", "mary", "forbidden", status="implemented")
    j.ok("case.set_status", "frank", status="implemented")
    assert j.status_changes() == [("under_implementation", "implemented", "manual")]
    j.ok("case.record_satisfaction", "mary", score=4, feedback="Labels look right")
    assert j.case.customer_satisfaction.score == 4
    j.ok("case.close", "mary", reason="no_longer_valid")
    assert j.status == "inactive"
    assert [a.step for a in j.case.approval_history] == ["pre_approval", "final_approval"]
    statuses = [c.after for h in j.case.history for c in h.changes if c.field == "status"]
    assert statuses == ["registration", "pending_pre_approval", "under_assessment", "approval_pending",
                        "under_implementation", "implemented", "inactive"]


@pytest.mark.parametrize("stage", ["registration", "pending_pre_approval", "under_assessment", "under_implementation"])
def test_can_be_rejected_at_any_point(stage):
    j = registered()
    if stage != "registration":
        j.ok("case.add_product", "mary", product_id="P-1")
        j.ok("case.submit", "mary")
    if stage in ("under_assessment", "under_implementation"):
        j.ok("case.record_approval", "approval", decision="approve", step="pre_approval", approver="john")
    if stage == "under_implementation":
        j.ok("case.record_assessment", "frank", feasibility_conclusion="ok")
        j.ok("case.submit", "frank")
        j.ok("case.record_approval", "approval", decision="approve", step="final_approval", approver="peter")
    assert j.status == stage
    j.no("case.close", "customer", "forbidden", reason="rejected")
    j.ok("case.close", "john", reason="rejected", comment="Not feasible")
    advice_cleared = ["case.advice"] if stage == "registration" else []  # no product yet: the note leaves the case
    assert j.status == "closed_rejected" and j.types() == ["case.status_changed", "case.closed", *advice_cleared]
    j.no("case.record_approval", "approval", "closed", decision="approve", step="pre_approval", approver="john")


def test_approver_rejection_closes_rejected():
    j = registered()
    j.ok("case.add_product", "mary", product_id="P-1")
    j.ok("case.submit", "mary")
    j.ok("case.record_approval", "approval", decision="reject", step="pre_approval", approver="john", comment="No")
    assert j.status == "closed_rejected"
    assert j.case.approval_history[-1].status_after == "closed_rejected"


def test_inactive_only_from_implemented():
    j = pre_approved()
    j.no("case.close", "mary", "transition_not_allowed", reason="no_longer_valid")
    j.no("case.set_status", "frank", "transition_not_allowed", status="implemented")
    j.no("case.close", "mary", "invalid", reason="completed")


def test_recalled_requests_go_back_to_where_they_were_submitted_from():
    j = registered()
    j.ok("case.add_product", "mary", product_id="P-1")
    j.ok("case.submit", "mary")
    j.ok("case.record_approval", "approval", decision="recall", step="pre_approval", approver="mary")
    assert j.status == "registration" and j.case.approval_history[-1].decision == "recall"
    assert j.status_changes()[-1] == ("pending_pre_approval", "registration", "automatic")
    j.ok("case.submit", "mary")
    j.ok("case.record_approval", "approval", decision="approve", step="pre_approval", approver="john")
    j.ok("case.record_assessment", "frank", feasibility_conclusion="ok")
    j.ok("case.submit", "frank")
    j.ok("case.record_approval", "approval", decision="recall", step="final_approval", approver="frank")
    assert j.status == "under_assessment"
    j.no("case.record_approval", "approval", "transition_not_allowed", decision="recall", step="final_approval",
         approver="frank")  # nothing pending any more
