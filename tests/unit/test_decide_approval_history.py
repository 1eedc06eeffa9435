"""decide: the complete approval history (issue 11's seed gaps): every decision, delegates, auto-approval, rejection closure."""

from __future__ import annotations

from tests.unit.test_decide_support import opened

CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}
CR = {"request_type": "technical_information"}


def _pending_final():
    j = opened("csr", "mary", fields=CSR)
    j.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1")
    j.ok("case.submit", "mary")
    j.ok("case.record_approval", "approval", decision="approve", step="pre_approval", approver="john")
    j.ok("case.record_assessment", "frank", feasibility_conclusion="Feasible with the new label stock")
    j.ok("case.submit", "frank")
    assert j.status == "approval_pending"
    return j


def test_mode_all_keeps_every_approvers_decision_and_who_a_delegate_acted_for():
    j = _pending_final()
    j.ok("case.record_approval", "approval", decision="approve", step="final_approval", approver="peter",
         comment="Fine (rule set v1, rule csr-marine, mode all)",
         decisions=[{"approver": "nina", "on_behalf_of": "john", "decision": "approve", "comment": "ok for John",
                     "at": "2025-03-03T10:00:00+00:00"},
                    {"approver": "peter", "decision": "approve", "comment": "Fine", "at": "2025-03-03T11:00:00+00:00"}])
    assert j.status == "under_implementation"
    final = [e for e in j.case.approval_history if e.step == "final_approval"]
    assert [(e.approver, e.on_behalf_of, e.decision, e.kind) for e in final] == [
        ("nina", "john", "approve", "manual"), ("peter", None, "approve", "manual")]
    assert final[0].comment == "ok for John" and final[1].comment.endswith("mode all)")  # the deciding one carries the rule
    assert final[0].at.hour == 10 and all(e.status_after == "under_implementation" for e in final)
    assert j.types() == ["case.approval_recorded", "case.status_changed"]  # one outcome, one move


def test_a_delegates_decision_keeps_the_original_approver():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    j.ok("case.record_approval", "approval", decision="approve", step="approval", approver="clara", on_behalf_of="peter")
    entry = j.case.approval_history[-1]
    assert (entry.approver, entry.on_behalf_of, entry.status_after) == ("clara", "peter", "approved")


def test_an_approvers_rejection_closes_the_csr_with_its_closure_fields():
    j = _pending_final()
    j.ok("case.record_approval", "approval", decision="reject", step="final_approval", approver="peter",
         comment="No capacity (rule set v1, rule csr-marine, mode all)")
    assert j.status == "closed_rejected"
    c = j.case
    assert (c.closure_reason, c.closed_by, c.closure_comment) == ("rejected", "peter", "No capacity (rule set v1, rule csr-marine, mode all)")
    assert c.closed_at is not None
    assert j.types() == ["case.approval_recorded", "case.status_changed", "case.closed"]
    closed = j.events[-1][1]
    assert closed.reason == "rejected" and closed.status == "closed_rejected"


def test_a_customer_request_rejection_does_not_close_it():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    j.ok("case.record_approval", "approval", decision="reject", step="approval", approver="peter")
    assert j.status == "rejected" and j.case.closed_at is None and "case.closed" not in j.types()


def test_sales_rep_auto_approval_leaves_an_automatic_entry():
    j = opened("customer_request", "mary", fields=CR)
    j.ok("case.submit", "mary")
    assert j.status == "approved"
    [entry] = j.case.approval_history
    assert (entry.step, entry.decision, entry.kind, entry.approver) == ("approval", "auto_approve", "automatic", "mary")
    assert (entry.status_before, entry.status_after) == ("open", "approved")


def test_an_ordinary_submit_leaves_no_approval_entry():
    j = opened("customer_request", "carl", fields=CR)
    j.ok("case.submit", "carl")
    assert j.status == "pending_approval" and j.case.approval_history == []
