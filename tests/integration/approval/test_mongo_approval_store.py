"""The approval store adapter against the real store: compare-and-set, timers, absences, rules, outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from approval.adapters.outbound.mongo_store import MongoApprovalStore
from approval.core import Absence, CaseApprovals, Slot, Step
from shared.runtime import mongo
from shared.runtime.outbox import OutboxEntry

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


async def test_compare_and_set_dedupe_ids_and_outbox(store):
    assert await store.save(state("C1"), None, "m1", [entry(1)])
    assert not await store.save(state("C1"), None, "m1b", [])
    assert await store.save(state("C1"), 1, "m2", [entry(2)])
    assert not await store.save(state("C1"), 1, "m3", [entry(3)])  # stale version loses
    got = await store.get("C1")
    assert got.version == 2 and got.applied == {"m1", "m2"} and [e.id for e in got.outbox] == ["e1", "e2"]
    await store.mark_published("C1", ["e1"])
    assert [e.id for e in (await store.get("C1")).outbox] == ["e2"]
    assert [owner for owner, _ in await store.outboxes[0].pending(NOW + timedelta(days=3650), 10)] == ["C1"]


async def test_due_timers_and_waiting_on(store):
    await store.save(state("C2", NOW), None, "m", [])
    await store.save(state("C3", NOW + timedelta(hours=1), people=("peter", "john")), None, "m", [])
    closed = state("C4", NOW)
    closed.current.status = "approved"
    await store.save(closed, None, "m", [])
    assert await store.due(NOW, 10) == ["C2"]
    assert sorted(await store.due(NOW + timedelta(hours=2), 10)) == ["C2", "C3"]
    assert await store.waiting_on("peter") == ["C3"]
    assert sorted(await store.waiting_on("john")) == ["C2", "C3"]


async def test_absences_replace_apply_once(store):
    first = Absence("john", "nina", NOW, NOW + timedelta(days=1))
    assert await store.put_absence(first, "cmd-1")
    assert not await store.put_absence(first, "cmd-1")  # same command again
    assert [a.delegate for a in await store.absences_to_apply(NOW)] == ["nina"]
    assert await store.absences_to_apply(NOW - timedelta(hours=1)) == []
    await store.mark_absence_applied("john", NOW)
    assert await store.absences_to_apply(NOW) == []
    assert await store.put_absence(Absence("john", "peter", NOW, NOW + timedelta(days=2)), "cmd-2")
    assert (await store.absences())["john"].delegate == "peter"
    assert [a.delegate for a in await store.absences_to_apply(NOW)] == ["peter"]


async def test_rules_compare_and_set(store):
    assert await store.rules() is None
    assert await store.save_rules({"version": 2}, None, "r1", [entry(1)])
    assert not await store.save_rules({"version": 3}, None, "r2", [])
    assert await store.save_rules({"version": 3}, 2, "r2", [])
    got = await store.rules()
    assert got.version == 3 and got.applied == {"r1", "r2"} and [e.id for e in got.outbox] == ["e1"]
    await store.mark_rules_published(["e1"])
    assert (await store.rules()).outbox == []


async def test_refusals_once(store):
    assert await store.refusals.outbox("c") is None
    assert await store.refusals.record("c", [entry(1)])
    assert not await store.refusals.record("c", [entry(2)])
    await store.refusals.mark_published("c", ["e1"])
    assert await store.refusals.outbox("c") == []


async def test_only_the_last_applied_message_ids_are_kept(store):
    from shared.runtime.mongo_outbox import APPLIED_WINDOW

    assert await store.save(state("MANY"), None, "m0", [])
    for n in range(1, APPLIED_WINDOW + 3):
        assert await store.save(state("MANY"), n, f"m{n}", [])
    applied = (await store.get("MANY")).applied
    assert len(applied) == APPLIED_WINDOW and f"m{APPLIED_WINDOW + 2}" in applied and "m2" not in applied
