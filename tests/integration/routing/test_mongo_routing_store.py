"""Routing's Mongo adapter against the real store: batched load/save with compare-and-set, the caches' reads."""

from __future__ import annotations

import pytest

from routing.adapters.outbound.mongo_store import MongoRoutingStore
from routing.core.commands import RulesDoc
from routing.core.view import CaseView
from routing.ports.store import RULES_ID
from shared.runtime import mongo
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(settings):
    client, db = mongo.connect(settings.mongodb_url, settings.mongodb_database + "_routing_store")
    s = MongoRoutingStore(db)
    await s.ensure_indexes()
    yield s
    await client.drop_database(db.name)
    await client.close()


def view(case_id: str, version: int = 1, **kw) -> CaseView:
    return CaseView(case_id=case_id, case_type="claim", gbu="marine", account_id="A", status="new",
                    version=version, seen=[f"{case_id}-e{version}"], **kw)


def entry(n: int) -> OutboxEntry:
    return OutboxEntry(id=f"e{n}", topic="t", key="k", payload="{}")


async def test_views_are_inserted_and_compare_and_set_in_one_bulk_and_the_stale_write_loses(store):
    lost = await store.views.save([Change("A", None, view("A"), ["A-e1"], [entry(1)], [{"rule_id": "r"}]),
                                   Change("B", None, view("B", assignee="leo"), ["B-e1"], [])])
    assert lost == set()
    loaded = await store.views.load(["A", "B", "C"])
    assert set(loaded) == {"A", "B"} and loaded["A"].version == 1 and loaded["A"].applied == {"A-e1"}
    assert [e.id for e in loaded["A"].outbox] == ["e1"] and await store.decisions("A") == [{"rule_id": "r"}]
    a2 = Change("A", loaded["A"], view("A", 2, assignee="leo"), ["A-e2"], [entry(2)], [{"rule_id": "s"}])
    assert await store.views.save([a2, Change("C", None, view("C"), ["C-e1"], [])]) == set()
    stale = Change("A", loaded["A"], view("A", 3), ["A-e3"], [])  # loaded before a2 was written
    assert await store.views.save([stale, Change("B", None, view("B"), ["B-e1"], [])]) == {"A", "B"}
    again = (await store.views.load(["A"]))["A"]
    assert again.version == 2 and again.state.assignee == "leo" and [e.id for e in again.outbox] == ["e1", "e2"]
    assert [d["rule_id"] for d in await store.decisions("A")] == ["r", "s"]
    assert await store.open_load() == {"leo": 2}
    assert [v.case_id for v in (await store.open_cases_of(["leo", "sam"]))["leo"]] == ["A", "B"]


async def test_a_view_written_before_the_unit_of_work_is_read_back(store):
    old = {"_id": "OLD", **view("OLD").model_dump(mode="python"), "seq": 4, "outbox": [], "decisions": []}
    await store._cases.insert_one(old)
    loaded = (await store.views.load(["OLD"]))["OLD"]
    assert loaded.version == 4 and loaded.state.case_id == "OLD" and loaded.applied == {"OLD-e1"}


async def test_the_rule_set_compare_and_sets_on_its_version_and_remembers_its_upserts(store):
    assert await store.save_rules({"version": 1}, None)
    loaded = (await store.rule_sets.load([RULES_ID]))[RULES_ID]
    assert loaded.version == 1 and loaded.applied == frozenset()
    v2 = RulesDoc(version=2, raw={"version": 2}, command_id="u2")
    assert await store.rule_sets.save([Change(RULES_ID, loaded, v2, ["u2"], [])]) == set()
    v3 = RulesDoc(version=3, raw={"version": 3}, command_id="u3")
    assert await store.rule_sets.save([Change(RULES_ID, loaded, v3, ["u3"], [])]) == {RULES_ID}
    assert (await store.rules())["version"] == 2 and (await store.rule_sets.load([RULES_ID]))[RULES_ID].applied == {"u2"}


async def test_a_handover_is_written_once_and_accounts_replace_in_bulk(store):
    assert await store.handovers.save([Change("h1", None, "accepted: 1 case(s)", ["h1"], [entry(1)])]) == set()
    assert await store.handovers.save([Change("h1", None, "accepted: 0 case(s)", ["h1"], [])]) == {"h1"}
    assert (await store.handovers.load(["h1"]))["h1"].applied == {"h1"}
    await store.upsert_accounts({"A1": {"owner": "ingrid"}, "A2": {"owner": None}})
    await store.upsert_accounts({"A1": {"owner": "jonas"}})
    assert await store.account_owners() == {"A1": "jonas", "A2": None}
