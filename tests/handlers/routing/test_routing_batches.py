"""Routing's batches through the shared unit of work: one load and one save per batch, lost races retried fresh."""

from __future__ import annotations

import pytest

from routing.adapters.inbound.commands import RoutingCommands
from routing.adapters.outbound.cached import Caches
from routing.core.view import apply_event, parse_case_event
from routing.inject import put_file_rules_in_force
from routing.ports.store import RULES_ID
from routing.service import RoutingService
from routing.settings import RoutingSettings
from shared.contract.envelope import CloudEvent
from shared.directory import load_directory
from shared.lifecycles import load_lifecycles
from shared.runtime.marks import PublishedMarks
from shared.runtime.unit_of_work import Message
from tests.handlers.routing.memory_store import MemoryRoutingStore
from tests.handlers.routing.test_routing_handlers import ADMIN, event, new_rules, opened
from tests.support.kafka_io import command
from tests.unit.runtime.test_unit_of_work import Sent

LCS, DIRECTORY = load_lifecycles(), load_directory()


@pytest.fixture
async def parts():
    store, sent = MemoryRoutingStore(), Sent()
    await put_file_rules_in_force(store, DIRECTORY, None)
    topics = RoutingSettings(service_name="routing").topics.sent_by("routing")
    caches, marks = Caches(store, DIRECTORY, LCS), PublishedMarks()
    service = RoutingService(store, sent, topics, caches, DIRECTORY, LCS, marks)
    commands = RoutingCommands(store, sent, topics, caches, DIRECTORY, LCS, marks)
    return store, sent, service, commands


def msg(data: dict, principal: str | None = None) -> Message:
    return Message(CloudEvent.model_validate(data), principal)


async def test_a_batch_of_several_events_per_case_and_several_cases_is_one_load_and_one_save(parts):
    store, sent, service, _ = parts
    batch = [opened("CL-1", cause="technical"), opened("CL-2"),
             event("case.assigned", "CL-1", 2, assignee="paula", queue="production"), opened("HD-1", "helpdesk", "open")]
    assert await service.handle_many([msg(e) for e in batch]) == ["routed", "routed", "applied", "routed"]
    assert store.views.loads == [["CL-1", "CL-2", "HD-1"]] and store.views.saves == 1
    assert store.cases["CL-1"]["state"].assignee == "paula" and store.cases["CL-1"]["state"].version == 2
    assert len(sent.ids) == 3  # one case.assign per routed case, published together
    assert (await store.open_load()) == service._caches.load(["paula"])  # counters follow the batch's writes


async def test_a_lost_compare_and_set_is_decided_again_from_fresh_state(parts):
    store, sent, service, _ = parts
    first, then = opened("CL-5", cause="technical"), event("case.assigned", "CL-5", 2, assignee="paula")
    theirs, _ = apply_event(None, parse_case_event("case.opened", first["data"]), first["id"], first["time"], LCS)
    # another replica applies the opening (and routes it) between our load and our write
    store.views.lose_once["CL-5"] = lambda: store.views.put("CL-5", theirs, [first["id"]])
    outcomes = await service.handle_many([msg(first), msg(then), msg(opened("CL-6"))])
    assert outcomes == ["duplicate", "applied", "routed"]
    assert store.views.loads == [["CL-5", "CL-6"], ["CL-5"]] and store.views.saves == 2
    assert store.cases["CL-5"]["state"].assignee == "paula"
    assert len(sent.ids) == 1  # CL-6's; CL-5 was routed by the writer that won


async def test_two_rule_set_upserts_in_a_batch_fold_on_the_one_rule_set(parts):
    store, sent, _, commands = parts
    upserts = [command("rules.upsert", "rules", {"actor": ADMIN, "rules": new_rules(v)}) for v in (2, 3)]
    stale = command("rules.upsert", "rules", {"actor": ADMIN, "rules": new_rules(3)})
    outcomes = await commands.handle_many([msg(c, "crm") for c in [*upserts, stale]])
    assert outcomes == ["accepted", "accepted", "rejected"]
    assert store.rule_sets.loads == [[RULES_ID]] and (await store.rules())["version"] == 3
    assert (await commands._caches.rules.get()).version == 3  # re-read after the change, not per decision
    assert len(sent.ids) == 1 and list(store.refusals.docs) == [stale["id"]]
