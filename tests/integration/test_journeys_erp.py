"""Full journeys through Kafka only: ERP case types (seed 004): Helpdesk, Sales, Purchase.

`available` = in a queue's pile; taking or opening it makes someone responsible; transfers go to a person
(stays `open`) or to a queue (back to `available`); closing without a reason means `solved`.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.oidc import bearer

pytestmark = pytest.mark.integration


def assigned(events: list[dict]) -> dict:
    """The data of the `case.assigned` event among one command's events."""
    return next(e["data"] for e in events if e["type"] == "case.assigned")


async def test_helpdesk_web_form_taken_transferred_and_solved(wire):  # noqa: F811
    j = Journey(wire, "helpdesk")
    await j.ok("case.open", "webform", **opening("helpdesk", {"channel": "web_form"}, queue="support-l1"))
    assert (j.status, j.case["assignee"], j.case["queue"]) == ("available", None, "support-l1")
    noted = await j.ok("case.add_customer_message", "webform", message="Still broken")
    assert [e["type"] for e in noted] == ["case.message_received"]
    await j.no("case.assign", "customer", "forbidden")

    taken = await j.ok("case.assign", "agent", expect=("case.assigned", "case.status_changed"))
    assert assigned(taken)["assignee"] == "agent.tom" and taken[-1]["data"]["trigger_name"] == "assigned"
    given = await j.ok("case.assign", "agent", assignee="agent.ann", comment="on holiday", expect=("case.assigned",))
    assert [e["type"] for e in given] == ["case.assigned"]
    assert (assigned(given)["assignee"], assigned(given)["previous_assignee"]) == ("agent.ann", "agent.tom")
    queued = await j.ok("case.assign", "agent2", queue="support-l2", expect=("case.assigned", "case.status_changed"))
    assert (assigned(queued)["assignee"], assigned(queued)["queue"]) == (None, "support-l2")
    await j.no("case.assign", "agent2", "invalid", queue="support-l2")
    wrong = await j.no("case.assign", "agent2", "invalid", queue="purchase")  # another case type's queue
    assert "queue 'purchase'" in wrong["reason"] and "helpdesk, support-l1, support-l2" in wrong["reason"]

    reopened = await j.ok("case.set_status", "agent2", status="open", expect=("case.assigned", "case.status_changed"))
    assert assigned(reopened)["assignee"] == "agent.ann"
    await j.no("case.close", "agent2", "invalid", reason="completed")
    closed = await j.ok("case.close", "agent2", expect=("case.closed",))
    assert closed[-1]["data"]["reason"] == "solved"
    await j.no("case.assign", "agent", "closed")

    assert j.status_changes() == [
        ("available", "open", "automatic"),
        ("open", "available", "automatic"),
        ("available", "open", "manual"),
        ("open", "closed", "manual"),
    ]
    await j.finish()


def read(base: str, path: str) -> dict:
    """A staff read of intake's HTTP API (as mary)."""
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=bearer("mary")), timeout=30) as resp:
        return json.loads(resp.read())


async def test_sales_revenue_and_chance_of_success(wire, intake):  # noqa: F811
    j = Journey(wire, "sales")
    fields = {"expected_revenue": 25000, "probability": 60}
    opened = await j.ok("case.open", "mary", **opening("sales", fields, assignee="mary", queue="sales-marine"),
                        expect=("case.opened", "case.status_changed"))
    assert [e["type"] for e in opened] == ["case.opened", "case.status_changed"]
    assert j.case["fields"] == {**fields, "currency": "NOK"}  # the GBU's currency (marine), as data
    assert j.case["status"] == "open"

    await j.no("case.update", "mary", "invalid", fields={"probability": 101})
    await j.no("case.update", "mary", "invalid", fields={"probability": 50.5})
    await j.no("case.update", "mary", "invalid", fields={"expected_revenue": -1})
    await j.no("case.update", "mary", "invalid", fields={"currency": "Kr"})
    updated = await j.ok("case.update", "mary", fields={"probability": 80, "expected_revenue": 30000.5, "currency": "EUR",
                                                        "expected_close_date": "2027-01-31"}, expect=("case.updated",))
    changes = {c["field"]: (c["before"], c["after"]) for c in updated[0]["data"]["changes"]}
    assert changes["fields.probability"] == (60, 80) and changes["fields.currency"] == ("NOK", "EUR")
    assert changes["fields.expected_revenue"] == (25000, 30000.5)
    await j.no("case.update", "customer", "forbidden", fields={"probability": 100})
    other_gbu = await j.no("case.assign", "mary", "invalid", queue="sales-lighting")
    assert "only takes GBU lighting" in other_gbu["reason"]
    listed = read(intake.url, "/cases?type=sales&assignee=mary&limit=200")["items"]  # the pipeline's list
    assert next(i for i in listed if i["id"] == j.case_id)["fields"] == {
        "expected_revenue": 30000.5, "currency": "EUR", "probability": 80, "expected_close_date": "2027-01-31"}

    given = await j.ok("case.assign", "mary", assignee="rep.sam", expect=("case.assigned",))
    assert assigned(given)["assignee"] == "rep.sam"
    closed = await j.ok("case.close", "rep2", reason="cancelled", expect=("case.closed",))
    assert closed[-1]["data"]["reason"] == "cancelled"
    assert j.status_changes() == [("available", "open", "automatic"), ("open", "closed", "manual")]
    await j.finish()


async def test_purchase_opened_by_someone_transferred_and_closed(wire):  # noqa: F811
    refused = Journey(wire, "purchase")
    await refused.no("case.open", "customer", "forbidden", **opening("purchase"))
    await refused.finish(quiet=0)

    j = Journey(wire, "purchase")
    await j.ok("case.open", "employee", **opening("purchase", {"expected_cost": 1200, "supplier_id": "SUP-9"},
                                                  queue="purchasing"))
    assert (j.status, j.case["assignee"]) == ("available", None)
    await j.no("case.set_status", "employee", "forbidden", status="open")

    opened = await j.ok("case.set_status", "buyer2", status="open", expect=("case.assigned", "case.status_changed"))
    assert assigned(opened)["assignee"] == "buyer.bo"  # whoever opens it becomes responsible
    given = await j.ok("case.assign", "buyer2", assignee="buyer.eva", expect=("case.assigned",))
    assert [e["type"] for e in given] == ["case.assigned"] and j.status == "open"
    queued = await j.ok("case.assign", "buyer", queue="purchasing-eu", expect=("case.status_changed",))
    assert (assigned(queued)["assignee"], assigned(queued)["queue"]) == (None, "purchasing-eu")
    refusal = await j.no("case.close", "buyer", "invalid", reason="duplicated")
    assert "duplicate_of" in refusal["reason"]
    closed = await j.ok("case.close", "buyer", expect=("case.closed",))
    assert closed[-1]["data"]["reason"] == "solved" and j.status == "closed"

    assert j.status_changes() == [
        ("available", "open", "manual"),
        ("open", "available", "automatic"),
        ("available", "closed", "manual"),
    ]
    await j.finish()
