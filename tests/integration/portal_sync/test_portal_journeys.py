"""One journey per portal case type, driven through intake; the portal statuses published are asserted in order.

The claim journey's customer answer goes through portal-sync's HTTP endpoint (as the portal would post it).
The quotation journey checks the record's content (subject, dates, quote status, Glamox's answer), that a
change of content alone republishes it, and that a rebuild from `case.events` reproduces the record exactly.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime

import pytest

from tests.integration.portal_sync.conftest import PortalTopic, rebuild
from tests.support.oidc import bearer
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)

pytestmark = pytest.mark.integration
IP, AF, CLOSED = "In Progress", "Awaiting Feedback", "Closed"
CHANGE = {"order_reference": "SO-4411", "requested_change": "Deliver a week later"}


def http(method: str, url: str, body: dict | None = None, who: str = "cust.ola") -> tuple[int, dict]:
    """A request with a bearer token for `who` (by default the customer of ACC-1001)."""
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"content-type": "application/json", **bearer(who)})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


async def finish(j: Journey, portal_topic: PortalTopic, expected: list[str], reason: str = "completed") -> dict:
    """Wait for the closing record; the whole sequence must be `expected`, each version newer than the last."""
    closed = await portal_topic.wait(j.case_id, CLOSED, closure_reason=reason)
    await portal_topic.reader.quiet(0.5)
    assert portal_topic.statuses(j.case_id) == expected, [(d["id"], d["data"]) for d in portal_topic.records(j.case_id)]
    versions = [d["data"]["version"] for d in portal_topic.records(j.case_id)]
    assert versions == sorted(set(versions)), f"records out of order or repeated: {versions}"
    await j.finish(0)
    return closed


async def test_claim_with_the_customers_answer_posted_through_the_portal(wire, portal, portal_topic):  # noqa: F811
    j = Journey(wire, "claim")
    await j.ok("case.open", "customer", **opening("claim", {"order_reference": "SO-1"}, account_id="ACC-1001"))
    await j.ok("case.set_status", "seller", status="in_progress")
    await j.ok("case.set_status", "seller", status="waiting_for_technical_feedback")
    await j.ok("case.set_status", "seller", status="waiting_for_feedback")
    await portal_topic.wait(j.case_id, AF)
    status, body = http("POST", f"{portal.url}/cases/{j.case_id}/messages",
                        {"message": "Photos attached", "customer_id": "cust.ola"})
    assert status == 202, body
    await wire.reader.wait_for(lambda _: j.status == "response_received", timeout=60)
    j.accepted.append(body["command_id"])
    answered = j.caused_by(body["command_id"])
    assert answered[0]["data"]["actor"] == {"id": "cust.ola", "roles": ["customer"]}
    back = await portal_topic.wait(j.case_id, IP, version=5)  # In Progress again, the message in the record
    assert [(m["author"], m["text"]) for m in back["messages"]] == [("cust.ola", "Photos attached")]
    await j.ok("case.update", "seller", cause="logistics")
    await j.ok("case.submit", "seller")
    await j.ok("case.record_approval", "approval", decision="approve", step="approval", approver="boss")
    await j.ok("case.set_status", "seller", status="replacement_order_issued")
    await j.ok("case.set_status", "seller", status="replacement_order_delivered")
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    closed = await finish(j, portal_topic, [IP, AF, IP, CLOSED])
    assert closed["portal_type"] == "Claim Case" and closed["version"] == 11
    status, seen = http("GET", f"{portal.url}/cases/{j.case_id}")
    assert status == 200 and (seen["portal_status"], seen["closure_reason"], seen["version"]) == (CLOSED, "completed", 11)
    status, listed = http("GET", f"{portal.url}/accounts/ACC-1001/cases")
    assert status == 200 and j.case_id in {c["case_id"] for c in listed["cases"]}
    status, refused = http("POST", f"{portal.url}/cases/{j.case_id}/messages", {"message": "?"})
    assert status == 409 and "closed" in refused["error"]


async def test_change_request(wire, portal, portal_topic):  # noqa: F811
    j = Journey(wire, "change_request")
    await j.ok("case.open", "customer", **opening("change_request", CHANGE))
    await j.ok("case.set_status", "seller", status="in_progress")
    await j.ok("case.set_status", "seller", status="waiting_for_feedback")
    await j.ok("case.add_customer_message", "customer", message="Fine", expect=("case.status_changed",))
    await j.ok("case.set_status", "seller", status="awaiting_internal")
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    closed = await finish(j, portal_topic, [IP, AF, IP, CLOSED])
    assert closed["portal_type"] == "Change Request"


async def test_change_order_is_a_change_request_in_the_portal(wire, portal, portal_topic):  # noqa: F811
    j = Journey(wire, "change_order")
    await j.ok("case.open", "portal", **opening("change_order", CHANGE))
    await j.ok("case.set_status", "seller", status="awaiting_internal")
    await j.ok("case.set_status", "seller", status="waiting_for_feedback")
    await j.ok("case.add_customer_message", "portal", message="Any news?", expect=("case.status_changed",))
    await j.ok("case.close", "seller", reason="rejected", comment="Too late", expect=("case.closed",))
    closed = await finish(j, portal_topic, [IP, AF, IP, CLOSED], reason="rejected")
    assert (closed["portal_type"], closed["case_type"]) == ("Change Request", "change_order")


async def test_quotation_record_carries_the_case_content_and_a_rebuild_reproduces_it(
        wire, portal, portal_topic, settings, tmp_path):  # noqa: F811
    j = Journey(wire, "quotation")
    await j.ok("case.open", "customer", **opening("quotation", {"requested_quantity": 120}))
    first = await portal_topic.wait(j.case_id, IP, quote_status="draft")  # seed 003: Draft, automatically
    assert (first["subject"], first["created_at"], first["messages"]) == ("A quotation", j.case["created_at"], [])
    await j.ok("case.request_quote", "customer", note="120 pcs")
    await j.ok("case.set_status", "seller", status="in_progress")
    await j.ok("case.send_quote", "seller", amount=1500.0, currency="EUR", expect=("case.status_changed",))
    await portal_topic.wait(j.case_id, AF, quote_status="sent")
    # Glamox's answer on the case's thread and a new subject: the status stays, the record is republished.
    await j.ok("case.add_customer_message", "seller", message="Quote attached, valid 30 days")
    await j.ok("case.update", "seller", subject="150 ceiling lights", expect=("case.updated",))
    await j.ok("case.request_quote", "customer", note="make it 150", expect=("case.status_changed",))
    shown = await portal_topic.wait(j.case_id, IP, quote_status="draft", subject="150 ceiling lights")
    assert [(m["from_customer"], m["author"], m["text"]) for m in shown["messages"]] == [
        (False, None, "Quote attached, valid 30 days")] and shown["messages_total"] == 1
    assert shown["updated_at"] == shown["changed_at"]
    assert datetime.fromisoformat(shown["updated_at"]) > datetime.fromisoformat(first["updated_at"])

    status, before = http("GET", f"{portal.url}/cases/{j.case_id}")  # the full record, as stored
    assert status == 200 and before["version"] == 7 and {k: v for k, v in before.items() if k != "version"} == {
        k: v for k, v in shown.items() if k != "version"}
    published = len(portal_topic.records(j.case_id))
    done = rebuild(settings, tmp_path)  # the packaged mapping again: every record made anew from case.events
    assert done.returncode == 0, done.stderr[-3000:]
    status, after = http("GET", f"{portal.url}/cases/{j.case_id}")
    assert status == 200 and after == {**before, "generation": after["generation"]} and after["generation"] > 1
    await portal_topic.reader.quiet(1.0)
    assert len(portal_topic.records(j.case_id)) == published  # the same view: nothing republished

    await j.ok("case.send_quote", "seller", amount=1800.0, currency="EUR", expect=("case.status_changed",))
    await j.ok("case.close", "seller", reason="duplicated", duplicate_of="QUOTATION-0", expect=("case.closed",))
    closed = await finish(j, portal_topic, [IP, AF, AF, AF, IP, AF, CLOSED], reason="duplicated")
    assert (closed["portal_type"], closed["duplicate_of"], closed["quote_status"]) == ("Quotation", "QUOTATION-0", "sent")
    assert (closed["subject"], closed["messages_total"], closed["generation"]) == (
        "150 ceiling lights", 1, after["generation"])


async def test_order(wire, portal, portal_topic):  # noqa: F811
    j = Journey(wire, "order")
    await j.ok("case.open", "customer", **opening("order", {"requested_delivery_date": "2026-12-15"}))
    await j.ok("case.place_order", "erp", order_reference="SO-77", expect=("case.status_changed",))
    await j.ok("case.confirm_order", "customer", expect=("case.status_changed",))
    await j.ok("case.set_status", "warehouse", status="completed")
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    # Placed: still In Progress, but the order status is news to the customer.
    closed = await finish(j, portal_topic, [IP, IP, "Accepted", "Completed", CLOSED])
    assert [d["data"]["order_status"] for d in portal_topic.records(j.case_id)] == [
        None, "placed", "confirmed", "confirmed", "confirmed"]
    assert closed["portal_type"] == "Order Case"
