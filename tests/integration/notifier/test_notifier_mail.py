"""The notifier on the real broker, store and SMTP server, seen from outside: topics in, mail out.

Intake is driven with commands; approval events are published as the approval service would,
with links to a small HTTP server of the test so the links in the mail can be followed.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
import uuid
from collections import Counter

import pytest

from approval.core.tokens import Linker
from tests.integration.notifier.conftest import CASE_LINK_BASE, REFUSED, wait_for_mail
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.kafka_io import Producer, TopicReader, of_type
from tests.support.oidc import bearer

pytestmark = pytest.mark.integration

ROUTING = {"id": "system:routing", "roles": ["system"]}
APPROVE = {"decision": "approve", "comment": "ok"}
CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}


def approval_event(type_: str, case_id: str, data: dict, id_: str | None = None) -> dict:
    return {"specversion": "1.0", "id": id_ or str(uuid.uuid4()), "source": "/services/approval", "type": type_,
            "subject": case_id, "time": "2026-11-25T10:00:00Z", "data": {"case_id": case_id, **data}}


def requested(case_id: str, step: str, approver: str, site: str) -> dict:
    # A token as approval signs it: the notifier mails only links to well-formed tokens naming the recipient.
    approval_id = f"ap-{uuid.uuid4().hex[:6]}"
    token = Linker("integration-test-secret-of-32-bytes!", site).token(case_id, approval_id, approver)
    return approval_event("approval.requested", case_id, {
        "case_type": "csr", "gbu": "marine", "account_id": "ACC-1001", "approval_id": approval_id, "step": step,
        "approver": approver, "token": token, "link": f"{site}/approvals/{token}", "due_at": "2026-11-27T12:00:00Z",
        "rule_set_version": 1, "rule_id": "csr-default", "mode": "all", "requested_by": "mary"})


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def of_case(messages, case_id: str) -> list:
    return [m for m in messages if case_id in parts(m)[0]]


async def test_csr_journey_mails_the_right_people_with_working_links(wire, notifier, smtp, approvals_site, settings):  # noqa: F811
    approval_topic = settings.topics.approval_events
    j = Journey(wire, "csr")
    await j.ok("case.open", "mary", **opening("csr", CSR))
    await j.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1")
    await j.ok("case.submit", "mary", expect=("case.status_changed",))
    pre = requested(j.case_id, "pre_approval", "john", approvals_site)
    await wire.send_to(approval_topic, pre, "approval")  # as approval: it alone writes these
    await j.ok("case.record_approval", "approval", step="pre_approval", approver="john", **APPROVE,
               expect=("case.status_changed",))
    await j.ok("case.assign", ROUTING, assignee="frank", expect=("case.assigned",))
    await j.ok("case.record_assessment", "frank", feasibility_conclusion="Feasible", feasible=True)
    await j.ok("case.submit", "frank", expect=("case.status_changed",))
    final = requested(j.case_id, "final_approval", "peter", approvals_site)
    await wire.send_to(approval_topic, final, "approval")
    await j.ok("case.record_approval", "approval", step="final_approval", approver="peter", **APPROVE,
               expect=("case.status_changed",))
    await j.ok("case.assign", ROUTING, queue="implementers", expect=("case.assigned",))  # nobody: no mail
    await j.ok("case.assign", ROUTING, assignee="frank", expect=("case.assigned",))
    await j.ok("case.add_team_member", "frank", person_id="nina", role="quality")
    await j.ok("case.set_status", "frank", status="implemented", expect=("case.status_changed",))
    await j.ok("case.close", "frank", reason="no_longer_valid", expect=("case.closed",))
    assert j.status == "inactive"

    expected = [("john", "Approval needed"), ("mary", "was approved"), ("frank", "assess the feasibility"),
                ("peter", "Approval needed"), ("mary", "was approved"), ("frank", "Please implement"),
                ("nina", "is now Implemented"), ("mary", "was closed"), ("nina", "is now Inactive")]
    mail = await wait_for_mail(smtp, lambda ms: len(of_case(ms, j.case_id)) >= len(expected))
    await asyncio.sleep(2)  # nothing more arrives
    mail = of_case(smtp.messages(), j.case_id)
    got = Counter((m["To"].split("@")[0], s) for m in mail for s in {s for _, s in expected} if s in m["Subject"])
    assert len(mail) == len(expected) and got == Counter(expected), [(m["To"], m["Subject"]) for m in mail]

    case_url = f"{CASE_LINK_BASE}/cases/{j.case_id}"
    for message in mail:
        text, html = parts(message)
        assert message.get_content_type() == "multipart/alternative"
        assert message["Message-ID"] and message["From"]
        who = message["To"].split("@")[0]
        if who in ("john", "peter"):
            link = (pre if who == "john" else final)["data"]["link"]
            assert link in links(text) and f'href="{link}"' in html
            with urllib.request.urlopen(link, timeout=5) as resp:  # the link in the mail works
                assert resp.status == 200
        else:
            assert case_url in links(text) and f'href="{case_url}"' in html


async def test_the_same_event_delivered_twice_sends_once(notifier, smtp, approvals_site, settings):
    case_id = f"CSR-{uuid.uuid4().hex[:10]}"
    event = requested(case_id, "pre_approval", "john", approvals_site)
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topics.notification_events) as reader:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            await producer.send(settings.topics.approval_events, event)
            await producer.send(settings.topics.approval_events, event)
        await wait_for_mail(smtp, lambda ms: len(of_case(ms, case_id)) >= 1)
        await reader.wait_for(lambda rs: of_type(rs, "notification.sent", case_id), timeout=60)
        await reader.quiet(2)
        assert len(of_case(smtp.messages(), case_id)) == 1
        assert len(of_type(reader.records, "notification.sent", case_id)) == 1
    request = urllib.request.Request(f"{notifier.url}/deliveries?case_id={case_id}", headers=bearer("clara"))
    with urllib.request.urlopen(request, timeout=5) as resp:
        (delivery,) = json.loads(resp.read())
    assert (delivery["recipient"], delivery["state"], delivery["attempts"]) == ("john", "sent", 1)
    assert delivery["event_id"] == event["id"] and "text" not in delivery["mail"]


async def test_smtp_outage_loses_nothing_and_sends_each_once(notifier, smtp, approvals_site, settings):
    case_ids = [f"CSR-{uuid.uuid4().hex[:10]}" for _ in range(4)]
    approvers = ["john", "peter", "sam", "nina"]
    smtp.stop()
    try:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            for case_id, who in zip(case_ids, approvers):
                await producer.send(settings.topics.approval_events, requested(case_id, "pre_approval", who, approvals_site))
        await asyncio.sleep(4)  # the notifier tries, finds no server, and keeps the deliveries pending
        assert "unreachable" in notifier.log()
    finally:
        smtp.start()  # same port, same folder
    mail = await wait_for_mail(smtp, lambda ms: all(of_case(ms, c) for c in case_ids))
    await asyncio.sleep(3)
    mail = [m for c in case_ids for m in of_case(smtp.messages(), c)]
    assert len(mail) == 4 and len({m["Message-ID"] for m in mail}) == 4
    assert sorted(m["To"] for m in mail) == sorted(f"{w}@example.com" for w in approvers)


async def test_refused_recipient_fails_and_is_dead_lettered_while_others_go_out(notifier, smtp, approvals_site, settings):
    topics = settings.topics
    refused_case, ok_case = f"CSR-{uuid.uuid4().hex[:10]}", f"CSR-{uuid.uuid4().hex[:10]}"
    async with TopicReader(settings.kafka_bootstrap_servers, topics.notification_events,
                           topics.dlq(topics.notification_events)) as reader:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            await producer.send(topics.approval_events, requested(refused_case, "pre_approval", "leo", approvals_site))
            await producer.send(topics.approval_events, requested(ok_case, "pre_approval", "sam", approvals_site))
        await wait_for_mail(smtp, lambda ms: bool(of_case(ms, ok_case)))
        await reader.wait_for(lambda rs: len(of_type(rs, "notification.failed", refused_case)) >= 2, timeout=60)
        failed = [r for r in reader.records if b"notification.failed" in r.value and refused_case.encode() in r.value]
        assert sorted(r.topic for r in failed) == sorted([topics.notification_events, topics.dlq(topics.notification_events)])
        data = of_type(failed, "notification.failed")[0]["data"]
        assert data["email"] == REFUSED and data["permanent"] is True and "550" in data["error"]
        await reader.wait_for(lambda rs: of_type(rs, "notification.sent", ok_case), timeout=60)
        assert not of_case(smtp.messages(), refused_case)


async def test_killed_notifier_skips_none_and_resends_none_after_restart(notifier, smtp, approvals_site, settings):
    case_ids = [f"CSR-{uuid.uuid4().hex[:10]}" for _ in range(8)]
    people = ["john", "peter", "sam", "nina", "mary", "frank", "carl", "clara"]
    async with Producer(settings.kafka_bootstrap_servers) as producer:
        for case_id, who in zip(case_ids, people):
            await producer.send(settings.topics.approval_events, requested(case_id, "pre_approval", who, approvals_site))
    await wait_for_mail(smtp, lambda ms: any(of_case(ms, c) for c in case_ids))
    notifier.kill()  # SIGKILL in the middle of it: some sent, some pending, offsets maybe not committed
    notifier.start()
    await wait_for_mail(smtp, lambda ms: all(of_case(ms, c) for c in case_ids))
    await asyncio.sleep(4)  # past the lease: a delivery claimed at the crash is settled by now
    mail = [m for c in case_ids for m in of_case(smtp.messages(), c)]
    per_delivery = Counter(m["Message-ID"] for m in mail)
    assert len(per_delivery) == len(case_ids), "one delivery per (event, recipient)"
    # Exactly once, unless SMTP accepted a mail in the instant before the kill and before its state was
    # written: then the resend carries the same Message-ID, recognisable as the same delivery.
    assert sum(per_delivery.values()) <= len(case_ids) + 1, per_delivery
