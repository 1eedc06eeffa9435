"""portal-sync's Mongo adapter against the real store: bulk load and compare-and-set save, bulk marks, the pointer."""

from __future__ import annotations

import pytest

from portal_sync.adapters.outbound.active_generation import ActiveGeneration
from portal_sync.adapters.outbound.mongo_store import MongoProjectionStore
from portal_sync.core import DEFAULT_MAPPING, ProjectionState, load_mapping, project, read_facts
from portal_sync.ports.store import Generation
from shared.runtime import mongo
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change
from tests.unit.portal_sync.events import moved, opened

pytestmark = pytest.mark.integration
MAPPING, TEXT = load_mapping()


@pytest.fixture
async def store(settings):
    client, db = mongo.connect(settings.mongodb_url, settings.mongodb_database + "_portal_store")
    s = MongoProjectionStore(db)
    await s.activate_first(DEFAULT_MAPPING.read_text(), MAPPING.version)
    yield s
    await client.drop_database(db.name)
    await client.close()


def state(case_id: str, version: int = 1) -> ProjectionState:
    events = [opened(case_id, "claim"), moved(case_id, "claim", "new", "waiting_for_feedback", 2)][:version]
    found = None
    for event in events:
        found = project(found, read_facts(event), MAPPING, 1).state
    return found  # type: ignore[return-value]


def entry(n: int, key: str) -> OutboxEntry:
    return OutboxEntry(id=f"e{n}", topic="t", key=key, payload="{}")


async def test_a_bulk_save_inserts_and_compares_and_sets_and_reports_the_losers(store):
    assert await store.save(1, [Change("A", None, state("A"), [], [entry(1, "A")]),
                                Change("B", None, state("B"), [], [])]) == set()
    assert await store.save(1, [Change("A", None, state("A"), [], [])]) == {"A"}  # inserted meanwhile
    loaded = await store.load(1, ["A", "B", "missing"])
    assert set(loaded) == {"A", "B"} and loaded["A"].version == 1 and [e.id for e in loaded["A"].outbox] == ["e1"]
    assert loaded["A"].applied == frozenset(loaded["A"].state.seen)
    a, b = loaded["A"], loaded["B"]
    changes = [Change("A", a, state("A", 2), [], [entry(2, "A")]), Change("B", b, state("B", 2), [], [])]
    assert await store.save(1, changes) == set()
    assert await store.save(1, [Change("A", a, state("A", 2), [], [entry(3, "A")])]) == {"A"}  # rev moved on
    stored = await store.get(1, "A")  # the document keeps its format: state, rev, outbox
    assert stored is not None and stored.rev == 2 and stored.state.record.version == 2
    assert [e.id for e in stored.outbox] == ["e1", "e2"]


async def test_published_records_are_marked_in_one_bulk(store):
    await store.save(1, [Change(k, None, state(k), [], [entry(i, k)]) for i, k in enumerate(["A", "B"])])
    assert store.outbox(1) is store.outbox(1)
    await store.outbox(1).mark_published_many({"A": ["e0"], "B": ["e1"]})
    assert all(not s.outbox for s in (await store.all(1)).values())


async def test_a_switch_after_the_write_makes_every_case_of_it_lost_and_the_next_load_is_in_the_new_generation(store):
    active = ActiveGeneration(store)
    assert await active.load(["A"]) == {} and active.current is not None and active.current.number == 1
    number = await store.new_generation()
    await store.switch(Generation(number, TEXT, MAPPING.version))  # a rebuild, between our load and our write
    assert await active.save([Change("A", None, state("A"), [], [entry(1, "A")])]) == {"A"}
    assert active.current.number == number and await active.load(["A"]) == {}
    assert await store.get(1, "A") is not None  # written to the old generation, where nobody publishes it
