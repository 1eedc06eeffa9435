"""Routing on the real broker and store, next to the real intake, seen through topics and HTTP only."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from routing.settings import RoutingSettings
from shared.settings import Settings
from tests.support.env import service_env
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.kafka_io import command
from tests.support.oidc import bearer
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration
ROUTER = "system:routing"
CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}
APPROVE = {"decision": "approve", "approver": "john", "comment": "ok"}


@pytest.fixture(scope="module")
def routing(settings: Settings, intake: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The routing service as a real process."""
    proc = ServiceProcess("routing", service_env(settings), tmp_path_factory.mktemp("routing") / "routing.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def routing_topic(settings: Settings) -> str:
    return settings.topics.sent_by("crm").routing_commands


def http(proc: ServiceProcess, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{proc.url}{path}", headers=bearer("carl"))  # staff read models
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def routed(j: Journey) -> list[dict]:
    return [e for e in j.events("case.assigned") if e["data"]["actor"]["id"] == ROUTER]


async def wait_routed(j: Journey, n: int = 1) -> dict:
    def done(_: Any) -> bool:
        return len(routed(j)) >= n
    await j.wire.reader.wait_for(done, timeout=60)
    return routed(j)[n - 1]["data"]


def history_entry(settings: Settings, case_id: str, command_id: str) -> dict:
    client: MongoClient = MongoClient(settings.mongodb_url)
    try:  # intake keeps history in `case_history`, the newest entries possibly still pending in the case
        db = client[f"{settings.mongodb_database}_intake"]
        entries = [d["entry"] for d in db["case_history"].find({"case_id": case_id})]
        entries += [p["entry"] for p in db["cases"].find_one({"_id": case_id}).get("history_pending", [])]
    finally:
        client.close()
    return next(h for h in entries if h["command_id"] == command_id)


@pytest.mark.parametrize(("cause", "assignee", "queue", "rule"), [
    ("commercial", "seller.ingrid", None, "claim-commercial"),
    ("technical", "paula", "production", "claim-technical"),
    ("logistics", "leo", "logistics", "claim-logistics"),
    (None, None, "claims-triage", "claim-triage"),
])
async def test_claim_routed_by_cause(wire, routing, settings, cause, assignee, queue, rule):  # noqa: F811
    j = Journey(wire, "claim")
    extra = {"cause": cause} if cause else {}
    await j.ok("case.open", "carl", **opening("claim", **extra))
    assigned = await wait_routed(j)
    assert (assigned["assignee"], assigned["queue"]) == (assignee, queue)
    command_id = routed(j)[0]["causationid"]
    entry = history_entry(settings, j.case_id, command_id)  # intake's history names routing's command
    assert entry["actor_id"] == ROUTER and entry["command_type"] == "case.assign"
    (decision,) = http(routing, f"/cases/{j.case_id}/routing")["decisions"]  # ...and routing says why
    assert decision["commands"] == [command_id]
    assert decision["comment"].startswith(f"routing rules v1, rule {rule}: ")
    if cause is None:
        assert "no cause given" in decision["comment"]


async def test_helpdesk_case_goes_to_queue_and_is_available(wire, routing):  # noqa: F811
    j = Journey(wire, "helpdesk")
    await j.ok("case.open", "webform", **opening("helpdesk"))
    assert (await wait_routed(j))["queue"] == "helpdesk"
    await j.wire.reader.wait_for(  # routing's view follows intake's case.assigned
        lambda _: j.case_id in [c["case_id"] for c in http(routing, "/people/hank/available")["cases"]], 60)
    assert "helpdesk" in http(routing, "/people/hank/available")["queues"]
    backlog = http(routing, "/queues/helpdesk/backlog")
    assert j.case_id in [c["case_id"] for c in backlog["cases"]]
    assert j.case_id not in [c["case_id"] for c in http(routing, "/people/sofie/available")["cases"]]


async def test_csr_gets_assessor_then_implementer(wire, routing):  # noqa: F811
    j = Journey(wire, "csr")
    await j.ok("case.open", "mary", **opening("csr", CSR))
    await j.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1")
    await j.ok("case.submit", "mary", expect=("case.status_changed",))
    await j.ok("case.record_approval", "approval", step="pre_approval", **APPROVE, expect=("case.status_changed",))
    assert (await wait_routed(j))["assignee"] == "frank"  # assessors frank, nina: no open cases, ties by id
    await j.wire.reader.wait_for(
        lambda _: j.case_id in [c["case_id"] for c in http(routing, "/people/frank/cases")["cases"]], 60)
    await j.wire.reader.wait_for(lambda _: any(e["data"]["role"] == "assessor" for e in j.events("case.team_member_added")), 60)
    await j.ok("case.record_assessment", "frank", feasibility_conclusion="Feasible", feasible=True)
    await j.ok("case.submit", "frank", expect=("case.status_changed",))
    await j.ok("case.record_approval", "approval", step="final_approval", **APPROVE, expect=("case.status_changed",))
    await j.wire.reader.wait_for(lambda _: any(e["data"]["role"] == "implementer" for e in j.events("case.team_member_added")), 60)
    decisions = http(routing, f"/cases/{j.case_id}/routing")["decisions"]
    assert [(d["rule_id"], d["assignee"]) for d in decisions] == [("csr-assessor", "frank"), ("csr-implementer", "frank")]


async def test_handover_moves_all_open_cases(wire, routing, routing_topic):  # noqa: F811
    cases = [Journey(wire, "sales") for _ in range(2)]
    for j in cases:
        await j.ok("case.open", "mary", **opening("sales", assignee="mary"))
    await j.wire.reader.wait_for(lambda _: len(http(routing, "/people/mary/cases")["cases"]) >= 2, 60)
    handover = command("routing.handover", "mary", {"actor": {"id": "peter", "roles": ["sales_manager"]},
                                                    "from_person": "mary", "to_person": "sam", "comment": "holiday"})
    await wire.send_to(routing_topic, handover)
    for j in cases:
        moved = await wait_routed(j)
        assert moved["assignee"] == "sam" and moved["previous_assignee"] == "mary"
    await j.wire.reader.wait_for(lambda _: http(routing, "/people/mary/cases")["count"] == 0, 60)
    assert {c["case_id"] for c in http(routing, "/people/sam/cases")["cases"]} >= {j.case_id for j in cases}


async def test_refused_handover_is_recorded(wire, routing, routing_topic):  # noqa: F811
    bad = command("routing.handover", "mary", {"actor": {"id": "sam", "roles": ["sales_rep"]},
                                               "from_person": "mary", "to_person": "sam"})
    await wire.send_to(routing_topic, bad)
    records = await wire.reader.wait_for(
        lambda rs: any(b'"case.command_rejected"' in r.value and bad["id"].encode() in r.value for r in rs), 60)
    rejection = next(json.loads(r.value) for r in records if bad["id"].encode() in r.value)
    assert rejection["data"]["code"] == "forbidden"


async def test_rules_upsert_invalid_refused_then_newer_in_force(wire, routing, routing_topic):  # noqa: F811
    rules = http(routing, "/rules")
    admin = {"id": "ada", "roles": ["admin"]}
    broken = {**rules, "version": 2, "rules": [*rules["rules"], {"id": "x", "case_type": "claim", "at": "opened",
                                                                  "match": {"gbu": "nowhere"}, "to": {"queue": "void"}}]}
    bad = command("rules.upsert", "rules", {"actor": admin, "rules": broken})
    await wire.send_to(routing_topic, bad)
    records = await wire.reader.wait_for(lambda rs: any(bad["id"].encode() in r.value for r in rs), 60)
    rejection = next(json.loads(r.value) for r in records if bad["id"].encode() in r.value)
    assert rejection["data"]["code"] == "invalid" and "queue 'void' does not exist" in rejection["data"]["reason"]
    assert http(routing, "/rules")["version"] == 1
    await wire.send_to(routing_topic, command("rules.upsert", "rules", {"actor": admin, "rules": {**rules, "version": 2}}))
    await wire.reader.wait_for(lambda _: http(routing, "/rules")["version"] == 2, 60)
    j = Journey(wire, "claim")
    await j.ok("case.open", "carl", **opening("claim", cause="logistics"))
    assert (await wait_routed(j))["assignee"] == "leo"
    (decision,) = http(routing, f"/cases/{j.case_id}/routing")["decisions"]
    assert decision["comment"].startswith("routing rules v2, rule claim-logistics: ")


async def test_routing_crash_loses_no_decision_and_repeats_none(wire, routing):  # noqa: F811
    routing.kill()  # SIGKILL: no graceful shutdown
    j = Journey(wire, "claim")
    await j.ok("case.open", "carl", **opening("claim", cause="technical"))  # opened while routing is down
    routing.start()
    assert (await wait_routed(j))["assignee"] == "paula"
    await wire.reader.quiet(3)  # replays after the restart must not assign again
    assert len(routed(j)) == 1 and len(http(routing, f"/cases/{j.case_id}/routing")["decisions"]) == 1
