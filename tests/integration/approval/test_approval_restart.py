"""kill -9 the approval service while a step is pending: no timer and no decision is lost or doubled."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.approval.conftest import ESCALATE_S, REMIND_S, Wire, new_id
from tests.support.kafka_io import command
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

CARL = {"id": "carl", "roles": ["customer_service"]}
CLARA = {"id": "clara", "roles": ["cs_manager"]}
PETER = {"id": "peter", "roles": ["sales_manager"]}


async def test_restart_keeps_timers_and_applies_a_later_decision_once(wire: Wire, approval: ServiceProcess):
    case_id = new_id("CR")
    await wire.case("case.open", case_id, CARL, case_type="customer_request", gbu="timers", account_id="ACC-1001",
                    subject="Samples", fields={"request_type": "technical_information"})
    await wire.case("case.submit", case_id, CARL)
    [asked] = await wire.wait("approval.requested", case_id)
    assert (asked["data"]["approver"], asked["data"]["rule_id"]) == ("peter", "customer-request-timers")

    approval.kill()  # crash while the step is pending, before any timer is due
    assert not wire.all("approval.reminder", case_id)
    await asyncio.sleep(1)
    approval.start()

    [reminder] = await wire.wait("approval.reminder", case_id, timeout=REMIND_S + 60)
    assert reminder["data"]["approver"] == "peter"
    [escalated] = await wire.wait("approval.escalated", case_id, timeout=ESCALATE_S + 60)
    assert escalated["data"]["escalated_to"] == "clara"

    # a decision after the restart, sent twice (redelivery of the same command id), is applied once
    decision = {"case_id": case_id, "step": "approval", "decision": "approve", "comment": "escalated, fine"}
    cmd = command("approval.decide", case_id, {"actor": CLARA, **decision})
    await wire.producer.send(wire.topics.sent_by("crm").approval_commands, cmd)
    await wire.producer.send(wire.topics.sent_by("crm").approval_commands, cmd)
    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == "approved")
    late = await wire.approval("approval.decide", case_id, PETER, **decision)
    await wire.reader.wait_for(lambda _: bool(wire.rejection_of(late)), timeout=60)
    await wire.reader.quiet(2.0)

    assert wire.rejection_of(late)[0]["code"] == "already_decided"
    assert not wire.rejection_of(cmd["id"])
    assert len(wire.all("approval.decided", case_id)) == 1
    assert len(wire.all("case.record_approval", case_id)) == 1
    recorded = wire.all("case.approval_recorded", case_id)
    assert [(e["data"]["approver"], e["data"]["decision"]) for e in recorded] == [("clara", "approve")]
    assert len(wire.all("approval.reminder", case_id)) == 1 and len(wire.all("approval.escalated", case_id)) == 1
    assert len(wire.all("approval.requested", case_id)) == 1


async def test_a_decision_sent_while_the_service_is_down_is_applied_once_after_restart(wire: Wire,
                                                                                      approval: ServiceProcess):
    case_id = new_id("CR")
    await wire.case("case.open", case_id, CARL, case_type="customer_request", gbu="timers", account_id="ACC-1001",
                    subject="Catalogue", fields={"request_type": "documentation"})
    await wire.case("case.submit", case_id, CARL)
    await wire.wait("approval.requested", case_id)

    approval.kill()
    await wire.approval("approval.decide", case_id, PETER, case_id=case_id, step="approval", decision="approve",
                        comment="decided while the service was down")
    await asyncio.sleep(2)
    assert not wire.all("approval.decided", case_id)  # nobody was there to take it
    approval.start()

    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == "approved")
    await wire.reader.quiet(2.0)
    assert len(wire.all("approval.decided", case_id)) == 1
    recorded = wire.all("case.approval_recorded", case_id)
    assert [(e["data"]["approver"], e["data"]["decision"]) for e in recorded] == [("peter", "approve")]
