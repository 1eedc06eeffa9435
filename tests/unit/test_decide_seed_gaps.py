"""decide: the seed gaps of issue 11 closed in intake's core (draft quote, CSR advice, queues, pipeline, samples)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from intake.core import load_lifecycles
from tests.unit.test_decide_support import Journey, opened

ROOT = Path(__file__).resolve().parents[2]


def test_a_quotation_request_starts_with_a_draft_quote_and_the_event_shows_it():
    j = opened("quotation", "customer", fields={"requested_quantity": 120})
    quote = j.case.quote
    assert (quote.status, quote.revision, quote.requested_by, quote.requested_at) == ("draft", 1, "cust.ola", j.now)
    assert j.types() == ["case.opened", "case.quote_requested"]
    assert (j.events[1][1].quote_status, j.events[1][1].revision) == ("draft", 1)
    assert j.events[0][1].case["quote"]["status"] == "draft"  # the opened snapshot carries it too
    amended = j.ok("case.request_quote", "customer", note="120 pcs, matt finish")  # adds to the draft
    assert (j.case.quote.revision, j.case.quote.note) == (1, "120 pcs, matt finish")
    assert amended.events[0][1].revision == 1
    j.ok("case.send_quote", "seller", quote_reference="Q-1", amount=10.0, currency="EUR")
    r = j.no("case.send_quote", "seller", "guard_failed")  # sent: no draft left to send
    assert "no draft quote" in r.reason
    j.ok("case.request_quote", "customer")
    assert (j.case.quote.status, j.case.quote.revision) == ("draft", 2)


def test_other_case_types_open_without_a_quote():
    assert opened("claim", "customer").case.quote is None


def test_csr_product_advice_is_kept_raised_and_cleared_never_refusing():
    j = opened("csr", "mary", fields={"requirement_category": "labelling"})
    assert j.types() == ["case.opened", "case.advice"]
    note = j.case.advice[0]
    assert (note.code, note.at) == ("product_required_before_submit", j.now)
    assert "related product" in note.message and j.events[1][1].cleared is False
    assert j.events[0][1].case["advice"][0]["code"] == "product_required_before_submit"
    raised_at = j.now
    j.ok("case.update", "mary", description="More detail")  # any change while no product: said again
    assert j.types() == ["case.updated", "case.advice"]
    assert [(a.code, a.at) for a in j.case.advice] == [("product_required_before_submit", raised_at)]
    j.ok("case.add_product", "mary", product_id="P-1")
    assert j.types() == ["case.product_added", "case.advice"] and j.events[1][1].cleared is True
    assert j.case.advice == []
    j.ok("case.add_team_member", "mary", person_id="frank", role="assessor")
    assert j.types() == ["case.team_member_added"]  # nothing to say any more
    j.ok("case.remove_product", "mary", product_id="P-1")
    assert [a.code for a in j.case.advice] == ["product_required_before_submit"] and j.case.advice[0].at == j.now
    j.ok("case.add_product", "mary", product_id="P-2")
    j.ok("case.submit", "mary")
    assert j.status == "pending_pre_approval" and j.case.advice == [] and "case.advice" not in j.types()


def test_other_case_types_carry_no_advice():
    j = opened("customer_request", "carl", fields={"request_type": "other"})
    assert j.case.advice == [] and "case.advice" not in j.types()


def test_a_helpdesk_case_cannot_go_to_the_purchase_queue():
    j = opened("helpdesk", "agent", queue="helpdesk")
    j.ok("case.assign", "agent")
    r = j.no("case.assign", "agent", "invalid", queue="purchase")
    assert "queue 'purchase'" in r.reason and "helpdesk, support-l1, support-l2" in r.reason
    assert (j.case.queue, j.status) == ("helpdesk", "open")  # nothing changed
    r = Journey("H-2").no("case.open", "agent", "invalid", case_type="helpdesk", gbu="marine", account_id="ACC-1001",
                          subject="s", queue="purchase")
    assert "queue 'purchase'" in r.reason
    j.ok("case.assign", "agent", queue="support-l2")


def test_a_queue_of_another_gbu_is_refused_and_a_type_without_queues_names_none():
    j = opened("sales", "mary", queue="sales-marine")
    r = j.no("case.assign", "mary", "invalid", queue="sales-lighting")
    assert "only takes GBU lighting" in r.reason and "sales, sales-marine" in r.reason
    request = opened("customer_request", "carl", fields={"request_type": "other"})
    r = request.no("case.assign", "carl", "invalid", queue="sales")
    assert "assign it to a person" in r.reason
    request.ok("case.assign", "carl", assignee="mary")


def test_routing_queues_are_queues_of_the_case_types_they_hold():
    lcs = load_lifecycles()
    rules = yaml.safe_load((ROOT / "services/routing/routing/rules/routing_rules.yaml").read_text())
    for name, queue in rules["queues"].items():
        for case_type in queue["case_types"]:
            assert lcs[case_type].queue(name) is not None, f"{case_type}.yaml does not declare routing's queue {name}"
    for rule in rules["rules"]:
        if queue := rule["to"].get("queue"):
            assert lcs[rule["case_type"]].queue(queue) is not None, rule["id"]


@pytest.mark.parametrize(("gbu", "currency"), [("marine", "NOK"), ("lighting", "NOK"), ("healthcare", "EUR")])
def test_sales_pipeline_fields_currency_defaults_per_gbu(gbu, currency):
    j = Journey(f"S-{gbu}")
    j.ok("case.open", "mary", case_type="sales", gbu=gbu, account_id="ACC-1001", subject="Retrofit", assignee="mary",
         fields={"expected_revenue": 120000, "probability": 40})
    assert j.case.fields == {"expected_revenue": 120000, "currency": currency, "probability": 40}
    j.no("case.update", "mary", "invalid", fields={"currency": "XYZ"})
    j.no("case.update", "mary", "invalid", fields={"probability": 100.5})
    j.ok("case.update", "mary", fields={"currency": "SEK", "probability": 0})
    assert (j.case.fields["currency"], j.case.fields["probability"]) == ("SEK", 0)


def test_given_currency_is_kept_and_other_types_get_no_pipeline_fields():
    j = opened("sales", "mary", fields={"expected_revenue": 5, "currency": "USD"})
    assert j.case.fields["currency"] == "USD"
    assert "currency" not in opened("helpdesk", "agent").case.fields


def test_sample_requests_stay_off_customer_requests_and_go_on_the_cases_the_seeds_allow():
    request = opened("customer_request", "carl", fields={"request_type": "other"})
    r = request.no("case.request_sample", "carl", "invalid", product_id="P-1", quantity=2)
    assert "kept apart from Customer Requests (seed 000)" in r.reason
    for case_type, actor in (("claim", "seller"), ("quotation", "seller")):
        j = opened(case_type, "customer")
        j.ok("case.request_sample", actor, product_id="P-1", quantity=2)
        assert [s.product_id for s in j.case.sample_requests] == ["P-1"]
