"""decide: ERP case types (seed 004): helpdesk, sales, purchase."""

from __future__ import annotations

import pytest

from tests.unit.test_decide_support import Journey, opened

STAFF = {"helpdesk": ("agent", "agent2"), "sales": ("mary", "rep2"), "purchase": ("buyer", {"id": "buyer.bo", "roles": ["purchaser"]})}
QUEUES = {"helpdesk": ("support-l1", "support-l2"), "sales": ("sales", "sales-marine"), "purchase": ("purchase", "purchasing-eu")}


@pytest.mark.parametrize("case_type", ["helpdesk", "sales", "purchase"])
def test_available_taken_transferred_closed(case_type):
    me, other = STAFF[case_type]
    first, second = QUEUES[case_type]
    j = opened(case_type, me, queue=first)
    assert j.status == "available" and j.case.assignee is None
    j.ok("case.assign", me)  # take it
    me_id = j.case.assignee
    assert j.status == "open" and me_id is not None
    assert j.types() == ["case.assigned", "case.status_changed"]
    other_id = other["id"] if isinstance(other, dict) else {"agent2": "agent.ann", "rep2": "rep.sam"}[other]
    j.ok("case.assign", me, assignee=other_id, comment="on holiday")  # give to a colleague
    assert (j.status, j.case.assignee) == ("open", other_id) and j.status_changes() == []
    assert j.case.history[-1].comment == "on holiday"  # why, kept in the case history
    assert j.events[-1][1].comment == "on holiday"
    j.ok("case.assign", other, queue=second)  # send to another service
    assert (j.status, j.case.assignee, j.case.queue) == ("available", None, second)
    j.no("case.assign", other, "invalid", queue=second)
    j.ok("case.set_status", other, status="open")  # the ERP 'Open' button
    assert j.case.assignee == (other["id"] if isinstance(other, dict) else other_id)
    assert "case.assigned" in j.types()
    j.ok("case.close", other)  # no reason needed: solved
    assert (j.status, j.case.closure_reason) == ("closed", "solved")
    j.no("case.assign", me, "closed")


@pytest.mark.parametrize("case_type", ["helpdesk", "sales", "purchase"])
def test_opened_with_assignee_is_open_at_once(case_type):
    me, _ = STAFF[case_type]
    j = opened(case_type, me, assignee="someone")
    assert j.status == "open" and j.case.assignee == "someone"
    assert j.status_changes() == [("available", "open", "automatic")]
    assert j.types() == ["case.opened", "case.status_changed"]
    assert j.events[0][1].case["status"] == "open"


def test_web_form_creates_available_helpdesk_case():
    j = opened("helpdesk", {"id": "system:webform", "roles": ["system:webform"]}, fields={"channel": "web_form"})
    assert j.status == "available"
    j.no("case.assign", "customer", "forbidden")
    j.no("case.set_status", "mary", "forbidden", status="open")
    j.no("case.close", "agent", "invalid", reason="completed")


def test_sales_case_revenue_and_chance():
    j = opened("sales", "mary", fields={"expected_revenue": 25000, "probability": 60})
    j.no("case.update", "mary", "invalid", fields={"probability": 101})
    j.no("case.update", "mary", "invalid", fields={"probability": 50.5})
    j.no("case.update", "mary", "invalid", fields={"expected_revenue": -1})
    j.no("case.update", "mary", "invalid", fields={"colour": "red"})
    j.ok("case.update", "mary", fields={"probability": 80, "expected_close_date": "2025-06-30"})
    assert j.case.fields == {"expected_revenue": 25000, "currency": "NOK", "probability": 80,
                             "expected_close_date": "2025-06-30"}
    changes = {c.field: (c.before, c.after) for c in j.events[0][1].changes}
    assert changes["fields.probability"] == (60, 80)
    Journey("S-2").no("case.open", "mary", "invalid", case_type="sales", gbu="g", account_id="ACC-1001", subject="s",
                      fields={"probability": -5})


def test_purchase_case_is_not_for_customers():
    Journey("P-2").no("case.open", "customer", "forbidden", case_type="purchase", gbu="g", account_id="ACC-1001", subject="s")
