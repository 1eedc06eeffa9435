"""The approval store adapter against the real store: compare-and-set, timers, absences, rules, outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from approval.adapters.outbound.mongo_store import MongoApprovalStore
from approval.core import Absence, CaseApprovals, Slot, Step
from approval.ports.store import Due, StoredRules
from shared.contract.approval import RULES_SUBJECT
from shared.runtime import mongo
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Refusal

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(stack):
    client, db = mongo.connect(stack.mongodb, f"approval_store_{uuid.uuid4().hex[:8]}")
    s = MongoApprovalStore(db)
    await s.ensure_indexes()
    yield s
    await client.drop_database(db.name)
    await client.close()


def state(case_id: str, remind_at: datetime | None = NOW, people=("john",)) -> CaseApprovals:
    step = Step(approval_id="A", step="approval", rule_id="r", rule_set_version=1, mode="first", opened_at=NOW,
                remind_at=remind_at, slots=[Slot(approver=p) for p in people])
    return CaseApprovals(case_id=case_id, case_type="claim", gbu="marine", current=step)


def entry(n: int) -> OutboxEntry:
    return OutboxEntry(id=f"e{n}", topic="t", key="k", payload="{}")


def change(case_id: str, loaded, message_id: str, entries=(), st: CaseApprovals | None = None) -> Change:
    return Change(case_id, loaded, st or state(case_id), [message_id], list(entries))


async def put(store, st: CaseApprovals, message_id: str = "m") -> None:
    loaded = (await store.load([st.case_id])).get(st.case_id)
    assert await store.save([change(st.case_id, loaded, message_id, st=st)]) == set()


async def test_compare_and_set_dedupe_ids_and_outbox(store):
    assert await store.save([change("C1", None, "m1", [entry(1)]), change("C0", None, "m0")]) == set()
    assert await store.save([change("C1", None, "m1b")]) == {"C1"}  # created meanwhile: the insert loses
    [first] = (await store.load(["C1"])).values()
    assert await store.save([change("C1", first, "m2", [entry(2)])]) == set()
    assert await store.save([change("C1", first, "m3", [entry(3)]), change("C0", (await store.load(["C0"]))["C0"], "m4")]) == {"C1"}
    got = (await store.load(["C1", "C0", "nope"]))
    assert got.keys() == {"C1", "C0"} and got["C0"].version == 2
    assert got["C1"].version == 2 and got["C1"].applied == {"m1", "m2"} and [e.id for e in got["C1"].outbox] == ["e1", "e2"]
    await store.outbox.mark_published_many({"C1": ["e1"]})
    assert [e.id for e in (await store.load(["C1"]))["C1"].outbox] == ["e2"]
    assert [owner for owner, _ in await store.outboxes[0].pending(NOW + timedelta(days=3650), 10)] == ["C1"]
    assert (await store.read("C1")).case_id == "C1" and await store.read("nope") is None


async def test_due_timers_and_waiting_on(store):
    await put(store, state("C2", NOW))
    await put(store, state("C3", NOW + timedelta(hours=1), people=("peter", "john")))
    closed = state("C4", NOW)
    closed.current.status = "approved"
    await put(store, closed)
    assert await store.due(NOW, 10) == [Due("C2", "A", NOW)]
    assert sorted(d.case_id for d in await store.due(NOW + timedelta(hours=2), 10)) == ["C2", "C3"]
    assert await store.next_due() == NOW
    assert await store.waiting_on("peter") == ["C3"]
    assert sorted(await store.waiting_on("john")) == ["C2", "C3"]
    early = state("C5", people=("john",))
    early.current.opened_at = NOW - timedelta(days=1)
    await put(store, early)
    assert [s.case_id for s in await store.waiting_for("john", 10)][0] == "C5"  # oldest step first
    assert [s.case_id for s in await store.waiting_for("peter", 10)] == ["C3"] and len(await store.waiting_for("john", 2)) == 2
    assert "waiting_on_1_state.current.opened_at_1" in await store.approvals.index_information()


async def test_absences_replace_apply_once(store):
    book = store.absence_book
    first = Absence("john", "nina", NOW, NOW + timedelta(days=1))
    assert await book.save([Change("john", None, first, ["cmd-1"], [])]) == set()
    loaded = await book.load(["john"])
    assert loaded["john"].applied == {"cmd-1"} and loaded["john"].state.delegate == "nina"
    assert [a.delegate for a in await store.absences_to_apply(NOW)] == ["nina"]
    assert await store.absences_to_apply(NOW - timedelta(hours=1)) == []
    await store.mark_absence_applied("john", NOW)
    assert await store.absences_to_apply(NOW) == []
    second = Absence("john", "peter", NOW, NOW + timedelta(days=2))
    assert await book.save([Change("john", loaded["john"], second, ["cmd-2"], [])]) == set()
    assert await book.save([Change("john", loaded["john"], second, ["cmd-3"], [])]) == {"john"}  # stale version
    assert (await store.absences())["john"].delegate == "peter"
    assert [a.delegate for a in await store.absences_to_apply(NOW)] == ["peter"]


async def test_absences_written_before_versions_are_found(store):
    await store.absence_book._coll.insert_one({"_id": "ann", "delegate": None, "start": NOW, "end": NOW + timedelta(days=1),
                                               "command_id": "old", "applied": True})
    await store.ensure_indexes()
    loaded = await store.absence_book.load(["ann"])
    later = Absence("ann", "nina", NOW, NOW + timedelta(days=3))
    assert await store.absence_book.save([Change("ann", loaded["ann"], later, ["new"], [])]) == set()
    assert (await store.absences())["ann"].delegate == "nina"


async def test_rules_compare_and_set(store):
    rules = store.rule_sets
    assert await store.rules() is None and await rules.load([RULES_SUBJECT]) == {}
    assert await rules.save([Change(RULES_SUBJECT, None, StoredRules({"version": 2}, 2), ["r1"], [entry(1)])]) == set()
    assert await rules.save([Change(RULES_SUBJECT, None, StoredRules({"version": 3}, 3), ["r2"], [])]) == {RULES_SUBJECT}
    loaded = (await rules.load([RULES_SUBJECT]))[RULES_SUBJECT]
    assert await rules.save([Change(RULES_SUBJECT, loaded, StoredRules({"version": 3}, 3), ["r2"], [])]) == set()
    got = (await rules.load([RULES_SUBJECT]))[RULES_SUBJECT]
    assert got.version == 3 and got.applied == {"r1", "r2"} and [e.id for e in got.outbox] == ["e1"]
    assert (await store.rules()).raw == {"version": 3}
    await rules.outbox.mark_published_many({RULES_SUBJECT: ["e1"]})
    assert (await rules.load([RULES_SUBJECT]))[RULES_SUBJECT].outbox == []


async def test_refusals_once(store):
    assert await store.refusals.seen(["c"]) == {}
    assert await store.refusals.record([Refusal("c", [entry(1)])]) == set()
    assert await store.refusals.record([Refusal("c", [entry(2)])]) == {"c"}
    await store.refusals.outbox.mark_published("c", ["e1"])
    assert await store.refusals.seen(["c"]) == {"c": []}


async def test_links_spent_once_and_looked_up_in_one_query(store):
    assert await store.spend_link("t1", "C1", "cmd-1", NOW) == "cmd-1"
    assert await store.spend_link("t1", "C1", "cmd-2", NOW) == "cmd-1"
    assert await store.links_used(["t1", "t2"]) == {"t1": "cmd-1"}
    await store.release_link("t1", "cmd-1")
    assert await store.link_used("t1") is None


async def test_only_the_last_applied_message_ids_are_kept(store):
    from shared.runtime.mongo_outbox import APPLIED_WINDOW

    await put(store, state("MANY"), "m0")
    for n in range(1, APPLIED_WINDOW + 3):
        await put(store, state("MANY"), f"m{n}")
    applied = (await store.load(["MANY"]))["MANY"].applied
    assert len(applied) == APPLIED_WINDOW and f"m{APPLIED_WINDOW + 2}" in applied and "m2" not in applied
