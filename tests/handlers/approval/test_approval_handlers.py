"""Approval handlers on FastStream's in-memory broker with an in-memory store."""

from __future__ import annotations

from shared.principals import ingress_topic  # commands arrive on the sender's own topic

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from approval.core import load_rule_file
from approval.inject import register
from approval.settings import ApprovalSettings
from tests.handlers.approval.memory_store import MemoryApprovalStore
from tests.support.capture import as_bytes, capture
from tests.support.kafka_io import command

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MARY = {"id": "mary", "roles": ["sales_rep"]}


def event(type_: str, case_id: str, data: dict, id_: str | None = None) -> dict:
    return {"specversion": "1.0", "id": id_ or str(uuid.uuid4()), "source": "/services/intake", "type": type_,
            "subject": case_id, "time": "2026-11-25T09:00:00Z", "data": data}


def pending(case_id: str, case_type: str = "csr", to: str = "pending_pre_approval", step: str = "pre_approval",
            gbu: str = "marine") -> dict:
    return event("case.status_changed", case_id, {
        "case_id": case_id, "case_type": case_type, "gbu": gbu, "account_id": "ACC-1001", "status": to,
        "version": 3, "actor": MARY, "from": "registration", "to": to, "trigger": "automatic",
        "trigger_name": "submitted", "category": "pending", "label": to, "approval_step": step})


def opened(case_id: str, snapshot: dict) -> dict:
    """`case.opened` data as intake publishes it: the case's identity and its whole snapshot."""
    return {"case_id": case_id, "case_type": snapshot["case_type"], "gbu": snapshot["gbu"],
            "account_id": snapshot["account_id"], "status": "new", "version": 1, "actor": MARY,
            "case": {**snapshot, "id": case_id}}


def decide(case_id: str, who: str, step: str = "pre_approval", decision: str = "approve", **extra) -> dict:
    return command("approval.decide", case_id, {"case_id": case_id, "step": step, "decision": decision,
                                                "comment": "ok", "actor": {"id": who, "roles": []}, **extra})


class Harness:
    """The broker, the service and everything published, by topic."""

    def __init__(self, broker, service, settings, seen) -> None:
        self.broker, self.service, self.settings, self.seen = broker, service, settings, seen
        self.now = NOW
        service.service.clock = lambda: self.now

    async def send(self, topic: str, message: dict | bytes) -> None:
        raw = message if isinstance(message, bytes) else json.dumps(message).encode()
        key = b"k" if isinstance(message, bytes) else message["subject"].encode()
        await self.broker.publish(raw, topic, key=key)

    async def case_event(self, message: dict) -> None:
        await self.send(self.settings.topics.case_events, message)

    async def cmd(self, message: dict | bytes) -> None:
        await self.send(ingress_topic(self.settings.topics.approval_commands, "crm"), message)

    def events(self, type_: str) -> list[dict]:
        return [e for e in self.seen["events"] if e["type"] == type_]


@pytest.fixture
async def h():
    settings = ApprovalSettings(service_name="approval", topic_prefix="h.", public_base_url="https://cases.test")
    broker = KafkaBroker()
    store = MemoryApprovalStore()
    service = register(broker, settings, store)
    topics = settings.topics
    seen = capture(broker, {"events": topics.approval_events, "commands": topics.sent_by("approval").case_commands,
                            "rejections": topics.case_rejections,
                            "dlq": (topics.dlq(ingress_topic(topics.approval_commands, "crm")), as_bytes)})
    async with TestKafkaBroker(broker) as test_broker:
        harness = Harness(test_broker, service, settings, seen)
        harness.store = store
        yield harness


async def test_pending_status_requests_each_approver_and_decision_tells_intake(h):
    await h.case_event(pending("C-1"))
    [req] = h.events("approval.requested")
    assert req["data"]["approver"] == "john" and req["data"]["step"] == "pre_approval"
    assert req["data"]["link"].startswith("https://cases.test/approvals/") and req["subject"] == "C-1"
    await h.cmd(decide("C-1", "john"))
    [decided] = h.events("approval.decided")
    assert decided["data"]["step_outcome"] == "approved" and decided["data"]["rule_id"] == "csr-marine"
    [record] = h.seen["commands"]
    assert record["type"] == "case.record_approval" and record["subject"] == "C-1"
    data = record["data"]
    assert data["actor"] == {"id": "system:approval", "roles": ["system:approval"]}
    assert (data["decision"], data["step"], data["approver"]) == ("approve", "pre_approval", "john")
    assert "rule set v1, rule csr-marine" in data["comment"]


async def test_same_event_and_same_command_redelivered_change_nothing(h):
    opened = pending("C-2")
    await h.case_event(opened)
    await h.case_event(opened)
    assert len(h.events("approval.requested")) == 1
    vote = decide("C-2", "john")
    await h.cmd(vote)
    await h.cmd(vote)
    assert len(h.events("approval.decided")) == 1 and len(h.seen["commands"]) == 1 and not h.seen["rejections"]


async def test_refusals_one_record_each(h):
    await h.case_event(pending("C-3"))
    stranger = decide("C-3", "mary")
    await h.cmd(stranger)
    await h.cmd(stranger)  # redelivered: still one rejection
    await h.cmd(decide("C-3", "john"))
    await h.cmd(decide("C-3", "john"))  # a second decision on a decided step
    await h.cmd(decide("C-404", "john"))
    await h.cmd(command("approval.decide", "C-3", {"case_id": "C-3", "step": "pre_approval", "decision": "maybe",
                                                    "actor": {"id": "john", "roles": []}}))
    await h.cmd(command("approval.teleport", "C-3", {"actor": {"id": "john", "roles": []}}))
    codes = [(r["data"]["code"], r["data"]["command_type"]) for r in h.seen["rejections"]]
    assert codes == [("forbidden", "approval.decide"), ("already_decided", "approval.decide"),
                     ("not_found", "approval.decide"), ("invalid", "approval.decide"), ("invalid", "approval.teleport")]
    assert "mary is not an approver" in h.seen["rejections"][0]["data"]["reason"]
    assert len(h.seen["commands"]) == 1


async def test_garbage_goes_to_the_dead_letter_topic(h):
    await h.cmd(b"not json")
    assert h.seen["dlq"] == [b"not json"]


async def test_token_must_match_the_person(h):
    await h.case_event(pending("C-4"))
    token = h.events("approval.requested")[0]["data"]["token"]
    await h.cmd(decide("C-4", "mary", token=token))
    assert h.seen["rejections"][-1]["data"]["code"] == "forbidden"
    await h.cmd(decide("C-4", "john", token=token))
    assert h.seen["commands"][-1]["data"]["approver"] == "john"


async def test_timers_fire_once_from_the_store(h):
    await h.case_event(pending("C-5"))
    assert await h.service.scheduler.tick() == 0
    h.now = NOW + timedelta(days=7)
    assert await h.service.scheduler.tick() == 1
    assert [e["data"]["approver"] for e in h.events("approval.reminder")] == ["john"]
    assert [e["data"]["escalated_to"] for e in h.events("approval.escalated")] == ["peter"]
    assert await h.service.scheduler.tick() == 0
    await h.cmd(decide("C-5", "peter"))  # the escalation target may decide
    assert h.seen["commands"][-1]["data"]["approver"] == "peter"


async def test_out_of_office_command_moves_pending_steps(h):
    await h.case_event(pending("C-6"))
    absence = command("approval.set_out_of_office", "john", {
        "person": "john", "delegate": "nina", "start": (NOW - timedelta(hours=1)).isoformat(),
        "end": (NOW + timedelta(days=2)).isoformat(), "actor": {"id": "john", "roles": []}})
    await h.cmd(absence)
    await h.cmd(absence)
    assert [(e["data"]["approver"], e["data"]["acting_approver"]) for e in h.events("approval.delegated")] == [("john", "nina")]
    await h.cmd(decide("C-6", "nina"))
    assert h.events("approval.decided")[-1]["data"]["acting_approver"] == "nina"
    await h.case_event(pending("C-7"))  # a step opened during the absence goes to the stand-in at once
    assert h.events("approval.requested")[-1]["data"]["approver"] == "nina"


async def test_status_left_another_way_cancels_the_step(h):
    await h.case_event(pending("C-8"))
    closed = pending("C-8", to="closed_rejected", step=None)
    closed["data"]["category"] = "closed"
    await h.case_event(closed)
    assert h.events("approval.cancelled")[0]["data"]["case_status"] == "closed_rejected"
    await h.cmd(decide("C-8", "john"))
    assert h.seen["rejections"][-1]["data"]["code"] == "not_found"


async def test_rules_upsert_valid_and_invalid(h):
    new = load_rule_file()
    new["version"] = 2
    new["rules"][2]["steps"]["pre_approval"]["approvers"] = [{"person": "nina"}]  # csr-default
    await h.cmd(command("rules.upsert", "approval-rules", {"rule_set": new, "actor": {"id": "ada", "roles": ["admin"]}}))
    [updated] = h.events("approval.rules_updated")
    assert (updated["data"]["version"], updated["data"]["previous_version"]) == (2, 1)
    stale = {**new, "version": 2}
    await h.cmd(command("rules.upsert", "approval-rules", {"rule_set": stale, "actor": {"id": "ada", "roles": ["admin"]}}))
    broken = {**new, "version": 3, "deputies": {"john": "peter", "peter": "john"}}
    await h.cmd(command("rules.upsert", "approval-rules", {"rule_set": broken, "actor": {"id": "ada", "roles": ["admin"]}}))
    refused = h.events("approval.rules_refused")
    assert [r["data"]["version_in_force"] for r in refused] == [2, 2]
    assert "must be greater than 2" in refused[0]["data"]["reasons"][0]
    assert refused[1]["data"]["reasons"] == ["deputies has a cycle: john → peter → john"]
    assert [r["data"]["code"] for r in h.seen["rejections"]] == ["invalid", "invalid"]
    await h.case_event(pending("C-9", gbu="packaging"))  # version 2 in force: csr-default now asks nina
    req = h.events("approval.requested")[-1]["data"]
    assert (req["approver"], req["rule_set_version"]) == ("nina", 2)


async def test_case_opened_keeps_rule_facts_only_for_types_with_approvals(h):
    snapshot = {"case_type": "csr", "gbu": "marine", "account_id": "ACC-1001", "fields": {"product_line": "LED"},
                "account": {"country": "NO"}}
    await h.case_event(event("case.opened", "C-10", opened("C-10", snapshot)))
    await h.case_event(event("case.opened", "C-11", opened("C-11", {**snapshot, "case_type": "helpdesk"})))
    assert h.store.docs["C-10"]["state"]["facts"] == {"country": "NO", "product_line": "LED"}
    assert "C-11" not in h.store.docs


async def test_delegate_reassign_and_recall_commands(h):
    await h.case_event(pending("C-12", to="approval_pending", step="final_approval"))
    peter, john = {"id": "peter", "roles": []}, {"id": "john", "roles": []}
    await h.cmd(command("approval.delegate", "C-12", {"step": "final_approval", "to": "sam", "actor": peter}))
    assert h.events("approval.requested")[-1]["data"]["approver"] == "sam"
    await h.cmd(command("approval.reassign", "C-12", {"step": "final_approval", "from": "john", "to": "nina",
                                                      "actor": {"id": "ada", "roles": ["admin"]}}))
    assert [(e["data"]["from"], e["data"]["to"]) for e in h.events("approval.reassigned")] == [("john", "nina")]
    await h.cmd(decide("C-12", "john", step="final_approval"))
    assert h.seen["rejections"][-1]["data"]["code"] == "forbidden"
    await h.cmd(command("approval.recall", "C-12", {"actor": john}))
    assert h.seen["rejections"][-1]["data"]["code"] == "forbidden"
    await h.cmd(command("approval.recall", "C-12", {"comment": "wrong site", "actor": MARY}))
    assert h.events("approval.recalled")[0]["data"]["by"] == "mary"
    [record] = h.seen["commands"]
    assert (record["data"]["decision"], record["data"]["comment"]) == ("recall", "Recalled by mary: wrong site")
    await h.cmd(decide("C-12", "sam", step="final_approval"))
    assert h.seen["rejections"][-1]["data"]["code"] == "not_found"


async def test_rules_upsert_needs_a_rule_editor_role(h):
    new = load_rule_file()
    new["version"] = 2
    new["rules"][2]["steps"]["pre_approval"]["approvers"] = [{"person": "mary"}]  # a rep approving her own CSRs
    await h.cmd(command("rules.upsert", "approval-rules", {"rule_set": new, "actor": MARY}))
    [rejection] = h.seen["rejections"]
    assert rejection["data"]["code"] == "forbidden" and "admin" in rejection["data"]["reason"]
    assert not h.events("approval.rules_updated")
    await h.case_event(pending("C-13", gbu="packaging"))  # version 1 stays in force
    assert h.events("approval.requested")[-1]["data"]["rule_set_version"] == 1


async def test_a_link_of_a_decided_or_void_request_is_refused(h):
    await h.case_event(pending("C-14"))
    token = h.events("approval.requested")[-1]["data"]["token"]
    await h.cmd(decide("C-14", "john", token=token))
    await h.cmd(decide("C-14", "john", token=token))
    assert h.seen["rejections"][-1]["data"]["code"] == "already_decided"
    await h.case_event(pending("C-15"))
    token = h.events("approval.requested")[-1]["data"]["token"]
    closed = pending("C-15", to="closed_rejected", step=None)
    await h.case_event(closed)
    await h.cmd(decide("C-15", "john", token=token))
    assert h.seen["rejections"][-1]["data"]["code"] == "not_found"
    assert [c["subject"] for c in h.seen["commands"]] == ["C-14"]
