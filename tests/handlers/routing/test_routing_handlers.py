"""Routing's subscribers on FastStream's in-memory broker, with an in-memory store."""

from __future__ import annotations

from shared.principals import ingress_topic  # commands arrive on the sender's own topic

import copy
import json
import uuid

import pytest
import yaml
from faststream.kafka import KafkaBroker, TestKafkaBroker

from routing.core.rules import RULES_FILE, load_rule_file
from routing.inject import put_file_rules_in_force, register
from routing.settings import RoutingSettings
from shared.directory import load_directory
from shared.runtime.marks import PublishedMarks
from tests.handlers.routing.memory_store import MemoryRoutingStore
from tests.support.capture import capture
from tests.support.kafka_io import command

ADMIN = {"id": "ada", "roles": ["admin"]}
MOVED = {"from": "new", "to": "in_progress", "trigger": "manual", "category": "open", "label": "In Progress"}


@pytest.fixture
def settings() -> RoutingSettings:
    return RoutingSettings(service_name="routing", topic_prefix="hr.")


@pytest.fixture
async def store() -> MemoryRoutingStore:
    s = MemoryRoutingStore()
    await put_file_rules_in_force(s, load_directory(), None)
    return s


@pytest.fixture
def marks() -> PublishedMarks:
    return PublishedMarks()


@pytest.fixture
async def harness(settings, store, marks):
    broker = KafkaBroker()
    register(broker, settings, store, marks=marks)
    seen = capture(broker, {"commands": settings.topics.sent_by("routing").case_commands, "rejections": settings.topics.case_rejections})
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, seen


def event(type_: str, case_id: str, version: int, case_type: str = "claim", status: str = "new", **data) -> dict:
    common = {"case_id": case_id, "case_type": case_type, "gbu": "marine", "account_id": "ACC-1001",
              "status": status, "version": version, "actor": {"id": "carl", "roles": ["customer_service"]}}
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/services/intake", "type": type_,
            "subject": case_id, "time": "2026-11-25T10:00:00Z", "data": {**common, **data}}


def opened(case_id: str, case_type: str = "claim", status: str = "new", **case) -> dict:
    snapshot = {"id": case_id, "case_type": case_type, "gbu": "marine", "account_id": "ACC-1001", "status": status,
                "subject": "s", "account": {"name": "Nordlys", "owner": "seller.ingrid", "country": "NO"},
                "assignee": None, "queue": None, "fields": {}, "team": [], "created_at": "2026-11-25T10:00:00Z", **case}
    return event("case.opened", case_id, 1, case_type, status, case=snapshot)


async def send(broker, topic: str, message: dict) -> None:
    await broker.publish(json.dumps(message).encode(), topic, key=message["subject"].encode())


async def test_commercial_claim_assigned_to_account_owner(harness, settings, store, marks):
    broker, seen = harness
    ev = opened("CL-1", cause="commercial")
    await send(broker, settings.topics.case_events, ev)
    (cmd,) = seen["commands"]
    assert cmd["type"] == "case.assign" and cmd["subject"] == "CL-1" and cmd["causationid"] == ev["id"]
    assert cmd["data"]["assignee"] == "seller.ingrid" and cmd["data"]["actor"]["id"] == "system:routing"
    assert cmd["data"]["comment"].startswith("routing rules v1, rule claim-commercial: ")
    assert (await store.decisions("CL-1"))[0]["commands"] == [cmd["id"]]
    await marks.flush()  # marks are written in bulk a moment after publishing
    assert store.cases["CL-1"]["outbox"] == []


async def test_account_directory_update_wins_over_snapshot(harness, settings):
    broker, seen = harness
    upsert = {"specversion": "1.0", "id": "u1", "source": "/services/intake", "type": "account.upserted",
              "subject": "ACC-1001", "data": {"account_id": "ACC-1001", "name": "Nordlys", "owner": "seller.jonas"}}
    await send(broker, settings.topics.case_events, upsert)
    await send(broker, settings.topics.case_events, opened("CL-2", cause="commercial"))
    assert seen["commands"][0]["data"]["assignee"] == "seller.jonas"


async def test_redelivered_event_sends_nothing_twice(harness, settings, store):
    broker, seen = harness
    ev = opened("CL-3")
    await send(broker, settings.topics.case_events, ev)
    await send(broker, settings.topics.case_events, ev)
    assert len(seen["commands"]) == 1 and seen["commands"][0]["data"]["queue"] == "claims-triage"
    assert "no cause given" in seen["commands"][0]["data"]["comment"]
    assert len(await store.decisions("CL-3")) == 1


async def test_case_assigned_at_open_is_left_alone(harness, settings, store):
    broker, seen = harness
    await send(broker, settings.topics.case_events, opened("HD-1", "helpdesk", "open", assignee="hank"))
    assert seen["commands"] == [] and (await store.open_cases("hank"))[0].case_id == "HD-1"


async def test_csr_status_changes_assign_assessor_and_implementer(harness, settings, store):
    broker, seen = harness
    topic = settings.topics.case_events
    await send(broker, topic, opened("CSR-1", "csr", "registration"))
    assert seen["commands"] == []
    moved = {"from": "pending_pre_approval", "to": "under_assessment", "trigger": "automatic",
             "trigger_name": "approval_approved", "category": "open", "label": "Under Assessment"}
    await send(broker, topic, event("case.status_changed", "CSR-1", 2, "csr", "under_assessment", **moved))
    assign, team = seen["commands"]
    assert assign["data"]["assignee"] == "frank" and "rule csr-assessor" in assign["data"]["comment"]
    assert team["type"] == "case.add_team_member" and team["data"]["role"] == "assessor"
    await send(broker, topic, event("case.assigned", "CSR-1", 3, "csr", "under_assessment", assignee="frank"))
    moved = {**moved, "from": "approval_pending", "to": "under_implementation", "label": "Under Implementation"}
    await send(broker, topic, event("case.status_changed", "CSR-1", 4, "csr", "under_implementation", **moved))
    # frank is already responsible: no new assign, only the implementer joins the case team
    assert [c["type"] for c in seen["commands"][2:]] == ["case.add_team_member"]
    assert seen["commands"][2]["data"]["role"] == "implementer"


async def test_handover_moves_every_open_case(harness, settings, store):
    broker, seen = harness
    topic = settings.topics.case_events
    for i in range(3):
        await send(broker, topic, opened(f"S-{i}", "sales", "open", assignee="mary"))
    await send(broker, topic, event("case.closed", "S-2", 2, "sales", "closed", reason="solved"))
    cmd = command("routing.handover", "mary", {"actor": {"id": "mary", "roles": ["sales_rep"]},
                                               "from_person": "mary", "to_person": "sam", "comment": "holiday"})
    await send(broker, ingress_topic(settings.routing_commands_topic, "crm"), cmd)
    await send(broker, ingress_topic(settings.routing_commands_topic, "crm"), cmd)  # redelivered
    moves = [c for c in seen["commands"] if c["type"] == "case.assign"]
    assert sorted(c["subject"] for c in moves) == ["S-0", "S-1"]
    assert all(c["data"]["assignee"] == "sam" and "holiday" in c["data"]["comment"] for c in moves)


@pytest.mark.parametrize(("data", "code"), [
    ({"actor": {"id": "sam", "roles": ["sales_rep"]}, "from_person": "mary", "to_person": "sam"}, "forbidden"),
    ({"actor": ADMIN, "from_person": "ghost", "to_person": "sam"}, "not_found"),
    ({"actor": ADMIN, "from_person": "mary", "to_person": "mary"}, "invalid"),
    ({"actor": ADMIN, "from_person": "mary"}, "invalid"),
])
async def test_refused_handover_records_one_rejection(harness, settings, data, code):
    broker, seen = harness
    cmd = command("routing.handover", "mary", data)
    await send(broker, ingress_topic(settings.routing_commands_topic, "crm"), cmd)
    await send(broker, ingress_topic(settings.routing_commands_topic, "crm"), cmd)
    (rejection,) = seen["rejections"]
    assert rejection["data"]["code"] == code and rejection["data"]["command_id"] == cmd["id"]
    assert seen["commands"] == []


def new_rules(version: int, **changes) -> dict:
    raw = copy.deepcopy(yaml.safe_load(RULES_FILE.read_text()))
    raw.update(version=version, **changes)
    return raw


async def test_rules_upsert_puts_newer_valid_set_in_force(harness, settings, store):
    broker, seen = harness
    raw = new_rules(2)
    raw["rules"][1]["to"] = {"person": "paula"}
    await send(broker, ingress_topic(settings.routing_commands_topic, "crm"), command("rules.upsert", "rules", {"actor": ADMIN, "rules": raw}))
    assert seen["rejections"] == [] and (await store.rules())["version"] == 2
    await send(broker, settings.topics.case_events, opened("CL-9", cause="technical"))
    assert seen["commands"][0]["data"]["comment"].startswith("routing rules v2, rule claim-technical")


@pytest.mark.parametrize(("raw", "actor", "code", "words"), [
    (new_rules(2, rules=[{"id": "x", "case_type": "rocket", "at": "opened", "to": {"queue": "helpdesk"}}]),
     ADMIN, "invalid", "unknown case type 'rocket'"),
    (new_rules(1), ADMIN, "invalid", "not newer"),
    (new_rules(2), {"id": "mary", "roles": ["sales_rep"]}, "forbidden", "may change the routing rules"),
])
async def test_bad_rules_upsert_refused_old_set_stays(harness, settings, store, raw, actor, code, words):
    broker, seen = harness
    await send(broker, ingress_topic(settings.routing_commands_topic, "crm"), command("rules.upsert", "rules", {"actor": actor, "rules": raw}))
    (rejection,) = seen["rejections"]
    assert rejection["data"]["code"] == code and words in rejection["data"]["reason"]
    assert (await store.rules())["version"] == load_rule_file(load_directory()).version


async def test_unreadable_routing_command_is_refused(harness, settings):
    broker, seen = harness
    bad = {"id": "b1", "subject": "mary", "type": "routing.handover", "data": {}}  # no source/specversion
    await broker.publish(json.dumps(bad).encode(), ingress_topic(settings.routing_commands_topic, "crm"), key=b"mary")
    (rejection,) = seen["rejections"]
    assert rejection["data"]["code"] == "invalid" and rejection["data"]["command_id"] == "b1"


async def test_triaged_claim_routed_once_its_cause_is_set(harness, settings, store):
    broker, seen = harness
    topic = settings.topics.case_events
    await send(broker, topic, opened("CL-7"))
    await send(broker, topic, event("case.assigned", "CL-7", 2, queue="claims-triage"))
    change = {"field": "cause", "before": None, "after": "technical"}
    await send(broker, topic, event("case.updated", "CL-7", 3, command_type="case.update", changes=[change]))
    triage, reroute = seen["commands"]
    assert reroute["data"]["assignee"] == "paula" and reroute["data"]["queue"] == "production"
    assert "cause set while waiting in queue claims-triage; claim at opening with cause technical" in reroute["data"]["comment"]


async def test_cause_change_of_a_taken_claim_changes_nothing(harness, settings):
    broker, seen = harness
    topic = settings.topics.case_events
    await send(broker, topic, opened("CL-8", cause="logistics"))
    await send(broker, topic, event("case.assigned", "CL-8", 2, assignee="leo", queue="logistics"))
    change = {"field": "cause", "before": "logistics", "after": "technical"}
    await send(broker, topic, event("case.updated", "CL-8", 3, command_type="case.update", changes=[change]))
    assert len(seen["commands"]) == 1


async def test_decisions_read_owners_load_and_rules_from_memory_not_the_store(harness, settings, store):
    broker, seen = harness
    lookups: list[str] = []
    for name in ("open_load", "account_owners", "rules"):
        real = getattr(store, name)

        async def counted(*args, _real=real, _name=name):
            lookups.append(_name)
            return await _real(*args)

        setattr(store, name, counted)
    for i in range(3):
        await send(broker, settings.topics.case_events, opened(f"CL-9{i}", cause="technical"))
    await send(broker, settings.topics.case_events, event("case.status_changed", "CL-90", 2, status="in_progress",
                                                          **MOVED))
    assert sorted(lookups) == ["account_owners", "open_load", "rules"]  # the caches' first read, then none
    assert len(seen["commands"]) == 3
