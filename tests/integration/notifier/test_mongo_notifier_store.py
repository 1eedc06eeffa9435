"""The notifier's Mongo adapter against the real store: batched case files and deliveries, claims, old documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifier.adapters.outbound.mongo_store import MongoNotifierStore
from notifier.core.casefile import CaseFile
from notifier.core.delivery import AttemptResult, Delivery, Mail
from shared.runtime import mongo
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(settings):
    client, db = mongo.connect(settings.mongodb_url, settings.mongodb_database + "_notifier_store")
    s = MongoNotifierStore(db)
    await s.ensure_indexes()
    yield s
    await client.drop_database(db.name)
    await client.close()


def delivery(did: str, case_id: str, at: datetime, state: str = "pending") -> Delivery:
    mail = Mail(to=f"{did}@example.com", subject="s", text="t", html="h", message_id=f"<{did}@x>")
    return Delivery(id=did, event_id="e", event_type="case.assigned", case_id=case_id, recipient=did, role="assignee",
                    template="case_assigned", state=state, mail=mail, created_at=at, next_attempt_at=at)


def entry(n: int) -> OutboxEntry:
    return OutboxEntry(id=f"e{n}", topic="t", key="k", payload="{}")


async def test_a_batch_writes_deliveries_once_and_case_files_by_compare_and_set(store):
    now = datetime.now(UTC)
    a, b = CaseFile(case_id="A", assignee="frank"), CaseFile(case_id="B")
    lost = await store.save([Change("A", None, a, ["ev-1"], [entry(1)], [[delivery("d1", "A", now)]]),
                             Change("B", None, b, ["ev-2"], [], [[delivery("d2", "B", now), delivery("d3", "B", now)]])])
    assert lost == set()
    loaded = await store.load(["A", "B", "C"])
    assert set(loaded) == {"A", "B"} and loaded["A"].state == a and loaded["A"].applied == {"ev-1"}
    assert [e.id for e in loaded["A"].outbox] == ["e1"] and loaded["A"].version == 1
    # A delivery planned before (d1) is left as it was; then a second write from the same revision loses.
    again = Change("A", loaded["A"], a.model_copy(update={"assignee": "zoe"}), ["ev-3"], [],
                   [[delivery("d1", "A", now, state="skipped"), delivery("d4", "A", now)]])
    ok = Change("B", loaded["B"], b.model_copy(update={"status": "closed"}), ["ev-4"], [], [])
    assert await store.save([ok, again]) == set()
    assert await store.save([Change("A", loaded["A"], a, ["ev-5"], [], [])]) == {"A"}
    fresh = await store.load(["A", "B"])
    assert fresh["A"].version == 2 and fresh["A"].state.assignee == "zoe" and fresh["B"].state.status == "closed"
    assert fresh["A"].applied == {"ev-1", "ev-3"}
    states = {d["id"]: d["state"] for case in ("A", "B") for d in await store.for_case(case)}
    assert states == {"d1": "pending", "d2": "pending", "d3": "pending", "d4": "pending"}
    await store.outbox.mark_published_many({"A": ["e1"]})
    assert (await store.load(["A"]))["A"].outbox == []


async def test_a_case_file_written_before_the_unit_of_work_still_loads(store):
    await store.files.insert_one({"_id": "OLD", "file": {"case_id": "OLD", "requester": "mary"}, "rev": 3,
                                  "applied": ["ev-0"]})
    old = (await store.load(["OLD"]))["OLD"]
    assert (old.version, old.applied, old.outbox, old.state.requester) == (3, {"ev-0"}, [], "mary")
    assert await store.save([Change("OLD", old, old.state, ["ev-1"], [entry(1)], [])]) == set()
    assert (await store.load(["OLD"]))["OLD"].applied == {"ev-0", "ev-1"}


async def test_claims_are_one_bulk_and_a_claimed_delivery_is_not_due_until_its_lease_ends(store):
    now = datetime.now(UTC)
    await store.save([Change("A", None, CaseFile(case_id="A"), ["ev"], [],
                             [[delivery(f"d{i}", "A", now - timedelta(seconds=i)) for i in range(3)]])])
    lease = now + timedelta(seconds=30)
    claimed = await store.claim_due(now, lease, limit=2)
    assert [d.id for d in claimed] == ["d2", "d1"]
    assert [d.id for d in await store.claim_due(now, lease, limit=5)] == ["d0"]
    assert await store.claim_due(now, lease, limit=5) == []
    assert abs((await store.next_due() - lease).total_seconds()) < 0.01
    assert await store.finish_many([AttemptResult("d2", {"state": "sent"}, [entry(9)], lease),
                                    AttemptResult("d1", {"state": "sent"}, [], lease)]) == set()
    assert {d["id"]: d["state"] for d in await store.for_case("A")} == {"d0": "pending", "d1": "sent", "d2": "sent"}
    # d0's lease ran out and another claim moved it on: a result written under the old lease is lost
    assert [d.id for d in await store.claim_due(lease, lease + timedelta(seconds=30), limit=5)] == ["d0"]
    assert await store.finish_many([AttemptResult("d0", {"state": "sent"}, [entry(8)], lease)]) == {"d0"}
    assert (await store.deliveries.find_one({"_id": "d0"}))["outbox"] == []
    assert all("_w" not in d for d in await store.for_case("A"))


async def test_a_save_hands_off_the_deliveries_it_inserted_and_not_those_planned_before(store):
    now, handed = datetime.now(UTC), []
    store.handoff = lambda deliveries: handed.append([d.id for d in deliveries])
    await store.save([Change("A", None, CaseFile(case_id="A"), ["ev-1"], [], [[delivery("d1", "A", now)]])])
    loaded = (await store.load(["A"]))["A"]
    # Only the new ones are handed: d1 was planned before, and d7 comes twice (the second finds its id taken).
    again = [delivery(f"d{i}", "A", now) for i in range(1, 10)] + [delivery("d7", "A", now)]
    await store.save([Change("A", loaded, loaded.state, ["ev-2"], [], [again[:4], again[4:]])])
    assert handed == [["d1"], [f"d{i}" for i in range(2, 10)]]
    # Two deliveries with different leases finish in one statement, each compare-and-set on its own lease.
    leases = {"d2": now + timedelta(seconds=5), "d3": now + timedelta(seconds=9)}
    for did, lease in leases.items():
        await store.deliveries.update_one({"_id": did}, {"$set": {"next_attempt_at": lease}})
    results = [AttemptResult(did, {"state": "sent"}, [], lease) for did, lease in leases.items()]
    assert await store.finish_many(results + [AttemptResult("d4", {"state": "sent"}, [], leases["d2"])]) == {"d4"}
    states = {d["id"]: d["state"] for d in await store.for_case("A")}
    assert (states["d2"], states["d3"], states["d4"]) == ("sent", "sent", "pending")
