"""A CSR from registration to inactive with intake, approval and routing as real processes (issue 4).

Only the people act here: approvers decide on `approval.commands`, the assessor and implementer work the
case; who approves, who assesses and who implements comes from the GBU rules, through the services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from shared.settings import Settings
from tests.integration.approval.conftest import Wire, new_id
from tests.support.env import service_env
from tests.support.kafka_io import Producer, TopicReader
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

MARY = {"id": "mary", "roles": ["sales_rep"]}
JOHN = {"id": "john", "roles": ["supply_chain", "quality"]}  # the lighting GBU's pre-approver (csr-default)
PETER = {"id": "peter", "roles": ["sales_manager"]}
TECH = ["tech_team"]  # assessors and implementers in the shared people directory


@pytest.fixture(scope="module")
def policies(intake: object, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Approval and routing with their packaged rules, next to intake."""
    logs = tmp_path_factory.mktemp("policies")
    env = service_env(settings, LINK_SECRET="end-to-end", APPROVAL_SCHEDULER_SECONDS="1")
    procs = [ServiceProcess(m, env, logs / f"{m}.log").start() for m in ("approval", "routing")]
    yield
    for proc in procs:
        proc.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wire(policies: None, settings: Settings) -> AsyncIterator[Wire]:
    """One producer, one reader of every topic the journey touches."""
    t = settings.topics
    async with Producer(settings.kafka_bootstrap_servers) as producer:
        async with TopicReader(settings.kafka_bootstrap_servers, t.case_events, t.case_rejections,
                               t.approval_events) as reader:
            yield Wire(producer, reader, settings)


async def entered(wire: Wire, case_id: str, status: str) -> None:
    """Wait until the case moved into `status`."""
    await wire.wait("case.status_changed", case_id, where=lambda d: d["data"]["to"] == status)


async def assigned(wire: Wire, case_id: str, count: int) -> dict:
    """Wait for the count-th assignment of the case; return its data."""
    return (await wire.wait("case.assigned", case_id, count=count))[count - 1]["data"]


async def test_csr_registration_to_inactive_approved_and_assigned_by_the_rules(wire: Wire):
    case_id = new_id("CSR")
    await wire.case("case.open", case_id, MARY, case_type="csr", gbu="lighting", account_id="ACC-1002",
                    subject="Salt-water resistant labels", fields={"requirement_category": "labelling"})
    await wire.case("case.add_product", case_id, MARY, product_id="P-7", name="Deck light")
    await wire.case("case.submit", case_id, MARY)

    [pre] = await wire.wait("approval.requested", case_id)
    assert (pre["data"]["step"], pre["data"]["approver"]) == ("pre_approval", "john")
    await wire.approval("approval.decide", case_id, JOHN, case_id=case_id, step="pre_approval", decision="approve")
    await entered(wire, case_id, "under_assessment")

    assessment = await assigned(wire, case_id, 1)
    assessor = assessment["assignee"]  # lighting's own rule names her
    assert assessor == "nina" and "rule csr-lighting-assessor" in assessment["comment"]
    await wire.case("case.record_assessment", case_id, {"id": assessor, "roles": TECH},
                    feasibility_conclusion="Feasible with a marine-grade adhesive", feasible=True)
    await wire.case("case.submit", case_id, {"id": assessor, "roles": TECH})

    [final] = await wire.wait("approval.requested", case_id, where=lambda d: d["data"]["step"] == "final_approval")
    assert (final["data"]["approver"], final["data"]["rule_id"]) == ("peter", "csr-default")
    await wire.approval("approval.decide", case_id, PETER, case_id=case_id, step="final_approval", decision="approve")
    await entered(wire, case_id, "under_implementation")

    implementation = await assigned(wire, case_id, 2)
    implementer = implementation["assignee"]  # the only implementer in the directory
    assert implementer == "frank" and "rule csr-implementer" in implementation["comment"]
    await wire.case("case.set_status", case_id, {"id": implementer, "roles": TECH}, status="implemented")
    await entered(wire, case_id, "implemented")
    await wire.case("case.record_satisfaction", case_id, MARY, score=5, feedback="Customer is happy")
    await wire.case("case.close", case_id, MARY, reason="no_longer_valid")
    await entered(wire, case_id, "inactive")

    journey = [(d["data"]["from"], d["data"]["to"]) for d in wire.all("case.status_changed", case_id)]
    assert journey == [("registration", "pending_pre_approval"), ("pending_pre_approval", "under_assessment"),
                       ("under_assessment", "approval_pending"), ("approval_pending", "under_implementation"),
                       ("under_implementation", "implemented"), ("implemented", "inactive")]
    decisions = [(d["data"]["step"], d["data"]["approver"]) for d in wire.all("case.approval_recorded", case_id)]
    assert decisions == [("pre_approval", "john"), ("final_approval", "peter")]
    team = {(d["data"]["person_id"], d["data"]["role"]) for d in wire.all("case.team_member_added", case_id)}
    assert {(assessor, "assessor"), (implementer, "implementer")} <= team
    assert wire.all("case.command_rejected") == []
