"""A CSR through pre-approval and final approval decided by the rule's approvers, on the real broker and store."""

from __future__ import annotations

import json
import urllib.request

import httpx
import pytest

from approval.core import load_rule_file
from tests.integration.approval.conftest import Wire, new_id
from tests.support.oidc import bearer

pytestmark = pytest.mark.integration

MARY = {"id": "mary", "roles": ["sales_rep"]}
FRANK = {"id": "frank", "roles": ["tech_team"]}
JOHN = {"id": "john", "roles": ["supply_chain", "quality"]}
PETER = {"id": "peter", "roles": ["sales_manager"]}
CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}


def http(method: str, url: str) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def status_of(wire: Wire, case_id: str) -> str:
    return wire.all("case.status_changed", case_id)[-1]["data"]["to"]


async def test_csr_pre_and_final_approval_by_the_rules_approvers(wire: Wire, approval):
    case_id = new_id("CSR")
    await wire.case("case.open", case_id, MARY, case_type="csr", gbu="marine", account_id="ACC-1001",
                    subject="Labels in Norwegian", fields=CSR)
    await wire.case("case.add_product", case_id, MARY, product_id="P-1", name="Luminaire")
    await wire.case("case.submit", case_id, MARY)

    [asked] = await wire.wait("approval.requested", case_id)
    assert (asked["data"]["step"], asked["data"]["approver"], asked["data"]["rule_id"]) == ("pre_approval", "john", "csr-marine")
    assert asked["data"]["requested_by"] == "mary"
    link = asked["data"]["link"]
    assert link.startswith("http://approvals.test/approvals/")

    # a non-approver is refused with a record; the case stays pending
    stranger = await wire.approval("approval.decide", case_id, MARY, case_id=case_id, step="pre_approval",
                                   decision="approve", comment="me too")
    await wire.reader.wait_for(lambda _: bool(wire.rejection_of(stranger)), timeout=60)
    assert wire.rejection_of(stranger)[0]["code"] == "forbidden"

    await wire.approval("approval.decide", case_id, JOHN, case_id=case_id, step="pre_approval", decision="approve",
                        comment="Supply chain can do it")
    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == "under_assessment")

    await wire.case("case.record_assessment", case_id, FRANK, feasibility_conclusion="Feasible", feasible=True)
    await wire.case("case.submit", case_id, MARY)
    final = await wire.wait("approval.requested", case_id, count=2, where=lambda d: d["data"]["step"] == "final_approval")
    assert sorted(d["data"]["approver"] for d in final) == ["john", "peter"]
    assert {d["data"]["mode"] for d in final} == {"all"}

    await wire.approval("approval.decide", case_id, PETER, case_id=case_id, step="final_approval", decision="approve",
                        comment="Budget ok")
    await wire.wait("approval.decided", case_id, where=lambda d: d["data"]["step"] == "final_approval")
    assert status_of(wire, case_id) == "approval_pending"  # mode all: john has not answered yet

    # john decides through the link of his e-mail
    johns = next(d["data"] for d in final if d["data"]["approver"] == "john")
    path = johns["link"].removeprefix("http://approvals.test")
    with httpx.Client(base_url=approval.url, timeout=10, headers={"accept": "application/json"}) as browser:
        page = browser.get(path)  # the page sets the CSRF cookie; the form posts its token with it
        shown = page.json()
        assert page.status_code == 200 and (shown["case_id"], shown["step"], shown["approver"], shown["status"]) == (
            case_id, "final_approval", "john", "pending")
        sent = browser.post(f"{path}/decide", data={"decision": "approve", "comment": "Quality ok",
                                                    "csrf_token": shown["decide"]["fields"]["csrf_token"]})
        assert sent.status_code == 202 and sent.json()["status"] == "sent"
    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == "under_implementation")

    history = [(e["data"]["step"], e["data"]["decision"], e["data"]["approver"]) for e in wire.all("case.approval_recorded", case_id)]
    assert history == [("pre_approval", "approve", "john"), ("final_approval", "approve", "john")]
    comments = [e["data"]["comment"] for e in wire.all("case.approval_recorded", case_id)]
    assert "rule set v1, rule csr-marine" in comments[0] and comments[1].startswith("Quality ok")
    decided = [(d["data"]["approver"], d["data"]["step_outcome"]) for d in wire.all("approval.decided", case_id)]
    assert decided == [("john", "approved"), ("peter", "pending"), ("john", "approved")]

    # a late decision on the decided step is refused, never applied twice
    late = await wire.approval("approval.decide", case_id, JOHN, case_id=case_id, step="final_approval",
                               decision="reject")
    await wire.reader.wait_for(lambda _: bool(wire.rejection_of(late)), timeout=60)
    assert wire.rejection_of(late)[0]["code"] == "already_decided"
    forged = httpx.get(f"{approval.url}/approvals/forged.token", headers={"accept": "application/json"}, timeout=10)
    assert forged.status_code == 400 and forged.json()["code"] == "malformed"  # not even shaped like a token


async def test_rules_upsert_valid_and_invalid(wire: Wire):
    admin = {"id": "ada", "roles": ["admin"]}
    bad = load_rule_file()
    bad["version"] = 2
    bad["rules"].append({"id": "x", "case_type": "spaceship", "steps": {"approval": {"approvers": [{"person": "peter"}]}}})
    refused_id = await wire.approval("rules.upsert", "approval-rules", admin, rule_set=bad)
    [refused] = await wire.wait("approval.rules_refused", "approval-rules")
    assert "unknown case type 'spaceship'" in refused["data"]["reasons"][0] and refused["data"]["version_in_force"] == 1
    assert wire.rejection_of(refused_id)[0]["code"] == "invalid"

    good = load_rule_file()
    good["version"] = 2
    good["rules"][0]["steps"]["approval"]["approvers"] = [{"person": "clara"}]  # customer-request-default
    await wire.approval("rules.upsert", "approval-rules", admin, rule_set=good)
    [updated] = await wire.wait("approval.rules_updated", "approval-rules")
    assert updated["data"]["version"] == 2

    case_id = new_id("CR")
    carl = {"id": "carl", "roles": ["customer_service"]}
    await wire.case("case.open", case_id, carl, case_type="customer_request", gbu="marine", account_id="ACC-1001",
                    subject="Datasheet", fields={"request_type": "technical_information"})
    await wire.case("case.submit", case_id, carl)
    [asked] = await wire.wait("approval.requested", case_id)
    assert (asked["data"]["approver"], asked["data"]["rule_set_version"]) == ("clara", 2)


def _get(base: str, path: str, who: str) -> tuple[int, dict]:
    with httpx.Client(base_url=base, timeout=30, headers=bearer(who)) as client:
        reply = client.get(path)
        return reply.status_code, reply.json()


async def test_mode_all_with_a_delegate_the_waiting_list_the_page_the_complete_history_and_the_rejection_closure(
        wire: Wire, approval, intake):
    case_id, nina = new_id("CSR"), {"id": "nina", "roles": ["tech_team"]}
    await wire.case("case.open", case_id, MARY, case_type="csr", gbu="marine", account_id="ACC-1001",
                    subject="Salt-mist <coating>", description="Offshore luminaires need C5-M coating.", fields=CSR)
    await wire.case("case.add_product", case_id, MARY, product_id="P-7", name="Deck light")
    await wire.case("case.submit", case_id, MARY)
    await wire.wait("approval.requested", case_id)
    await wire.approval("approval.decide", case_id, JOHN, case_id=case_id, step="pre_approval", decision="approve")
    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == "under_assessment")
    await wire.case("case.record_assessment", case_id, FRANK, feasibility_conclusion="Feasible with supplier B")
    await wire.case("case.submit", case_id, FRANK)
    await wire.wait("approval.requested", case_id, count=2, where=lambda d: d["data"]["step"] == "final_approval")

    # john hands his part to nina: the waiting list shows it to her (with her own link), and still to john and peter
    await wire.approval("approval.delegate", case_id, JOHN, step="final_approval", to="nina", comment="on site")
    [asked] = await wire.wait("approval.requested", case_id, where=lambda d: d["data"]["approver"] == "nina")
    assert asked["data"]["on_behalf_of"] == "john"
    status, waiting = _get(approval.url, "/approvals/waiting", "nina")
    mine = [i for i in waiting["items"] if i["case_id"] == case_id]
    assert status == 200 and len(mine) == 1 and mine[0]["subject"] == "Salt-mist <coating>"
    assert mine[0]["step"] == "final_approval" and mine[0]["link"].startswith("http://approvals.test/approvals/")
    assert any(i["case_id"] == case_id for i in _get(approval.url, "/approvals/waiting", "peter")[1]["items"])
    assert _get(approval.url, "/approvals/waiting", "cust.ola")[0] == 403

    # her page shows the case content approval kept from the case events, and the history so far
    path = mine[0]["link"].removeprefix("http://approvals.test")
    page = httpx.get(approval.url + path, headers={"accept": "application/json"}, timeout=30).json()
    assert (page["subject"], page["description"]) == ("Salt-mist <coating>", "Offshore luminaires need C5-M coating.")
    assert page["product_count"] == 1 and page["products"] == [{"product_id": "P-7", "name": "Deck light"}]
    assert page["feasibility_conclusion"] == "Feasible with supplier B" and page["registered_by"] == "mary"
    assert [(e["step"], e["approver"]) for e in page["approval_history"]] == [("pre_approval", "john")]
    html = httpx.get(approval.url + path, timeout=30).text
    assert "Salt-mist &lt;coating&gt;" in html and f"/cases/{case_id}" in html

    await wire.approval("approval.decide", case_id, nina, case_id=case_id, step="final_approval", decision="approve",
                        comment="Coating checked")
    await wire.approval("approval.decide", case_id, PETER, case_id=case_id, step="final_approval", decision="approve")
    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == "under_implementation")
    history = _get(intake.url, f"/cases/{case_id}", "mary")[1]["approval_history"]
    assert [(e["step"], e["approver"], e["on_behalf_of"], e["decision"], e["kind"]) for e in history] == [
        ("pre_approval", "john", None, "approve", "manual"), ("final_approval", "nina", "john", "approve", "manual"),
        ("final_approval", "peter", None, "approve", "manual")]
    assert history[1]["comment"] == "Coating checked" and "mode all" in history[2]["comment"]

    # an approver's rejection closes a CSR as the lifecycle's other closures do
    rejected_id = new_id("CSR")
    await wire.case("case.open", rejected_id, MARY, case_type="csr", gbu="marine", account_id="ACC-1001",
                    subject="Unobtainium labels", fields=CSR)
    await wire.case("case.add_product", rejected_id, MARY, product_id="P-8")
    await wire.case("case.submit", rejected_id, MARY)
    await wire.wait("approval.requested", rejected_id)
    await wire.approval("approval.decide", rejected_id, JOHN, case_id=rejected_id, step="pre_approval",
                        decision="reject", comment="Not sourceable")
    [closed] = await wire.wait("case.closed", rejected_id)
    assert closed["data"]["reason"] == "rejected" and closed["data"]["status"] == "closed_rejected"
    case = _get(intake.url, f"/cases/{rejected_id}", "mary")[1]["case"]
    assert (case["closure_reason"], case["closed_by"], case["status"]) == ("rejected", "john", "closed_rejected")
    assert case["closed_at"] and case["closure_comment"].startswith("Not sourceable")

    # a sales rep's own customer request is approved at once, and says so in its approval history
    auto_id = new_id("CR")
    await wire.case("case.open", auto_id, MARY, case_type="customer_request", gbu="marine", account_id="ACC-1001",
                    subject="Datasheet", fields={"request_type": "technical_information"})
    await wire.case("case.submit", auto_id, MARY)
    await wire.wait("case.status_changed", auto_id, where=lambda d: d["data"]["to"] == "approved")
    [auto] = _get(intake.url, f"/cases/{auto_id}", "mary")[1]["approval_history"]
    assert (auto["decision"], auto["kind"], auto["approver"]) == ("auto_approve", "automatic", "mary")
