"""The Mongo adapter against the real store: compare-and-set, refusal dedupe, outbox bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bson
import pytest

from intake.adapters.outbound.mongo_history import LINGER_SECONDS, MOVE_ENTRIES
from intake.adapters.outbound.mongo_store import MongoCaseStore
from intake.core import Case
from shared.runtime import mongo
from shared.contract.events import FieldChange
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded, Refusal

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(settings):
    client, db = mongo.connect(settings.mongodb_url, settings.mongodb_database + "_store")
    s = MongoCaseStore(db)
    await s.ensure_indexes()
    yield s
    await client.drop_database(db.name)
    await client.close()


def a_case(case_id: str, version: int = 1) -> Case:
    now = datetime.now(UTC)
    return Case(id=case_id, case_type="helpdesk", gbu="lighting", account_id="ACC-1001", subject="s",
                status="available", version=version, created_at=now, updated_at=now,
                created_by={"id": "web-form", "roles": ["web_form"]})


def entry(n: int) -> OutboxEntry:
    return OutboxEntry(id=f"e{n}", topic="t", key="k", payload="{}")


async def create(store, case: Case, command_id: str, entries: list[OutboxEntry]) -> bool:
    """One new case through the unit of work's bulk save."""
    return case.id not in await store.save([Change(case.id, None, case, [command_id], entries, outbox=entries)])


async def update(store, case: Case, expected: int, command_id: str, entries: list[OutboxEntry]) -> bool:
    """A compare-and-set from version `expected` through the bulk save."""
    stored = (await store.load([case.id]))[case.id]
    loaded = Loaded(case.id, case, expected, extra=stored.extra)
    outbox = stored.outbox + entries  # as the unit of work keeps what is not known published
    return case.id not in await store.save([Change(case.id, loaded, case, [command_id], entries, outbox=outbox)])


async def get(store, case_id: str) -> Loaded:
    return (await store.load([case_id]))[case_id]


async def test_create_then_conflicting_updates_only_one_wins(store):
    assert await create(store, a_case("C1"), "cmd-1", [entry(1)])
    assert not await create(store, a_case("C1"), "cmd-1b", [])
    assert await update(store, a_case("C1", 2), 1, "cmd-2", [entry(2)])
    assert not await update(store, a_case("C1", 2), 1, "cmd-3", [entry(3)])
    stored = await get(store, "C1")
    assert stored.version == 2 and "cmd-2" in stored.applied and "cmd-3" not in stored.applied
    assert [e.id for e in stored.outbox] == ["e1", "e2"]


async def test_one_bulk_save_reports_only_the_writes_that_lost(store):
    assert await create(store, a_case("B1"), "cmd-1", [])
    assert await create(store, a_case("B2"), "cmd-1", [])
    stale = Loaded("B2", a_case("B2"), 7)  # a version the store never had
    lost = await store.save([Change("B1", (await store.load(["B1"]))["B1"], a_case("B1", 2), ["cmd-2"], []),
                             Change("B2", stale, a_case("B2", 8), ["cmd-2"], []),
                             Change("B3", None, a_case("B3"), ["cmd-2"], []),
                             Change("B1x", None, a_case("B1x"), ["cmd-2"], [])])
    assert lost == {"B2"}
    assert (await create(store, a_case("B3"), "cmd-9", [])) is False
    assert {k: v.version for k, v in (await store.load(["B1", "B2", "B3", "nope"])).items()} == {"B1": 2, "B2": 1, "B3": 1}


async def test_outbox_pending_and_mark_published(store):
    await create(store, a_case("C2"), "cmd-1", [entry(1), entry(2)])
    later = datetime.now(UTC) + timedelta(seconds=5)
    pending = dict(await store.case_outbox.pending(later, limit=10))
    assert [e.id for e in pending["C2"]] == ["e1", "e2"]
    assert await store.case_outbox.pending(datetime.now(UTC) - timedelta(hours=1), limit=10) == []
    await store.case_outbox.mark_published_many({"C2": ["e1"], "missing": ["e7"]})
    assert [e.id for e in (await get(store, "C2")).outbox] == ["e2"]


async def test_refusal_is_recorded_once(store):
    assert await store.refusals.seen(["cmd-x"]) == {}
    assert await store.refusals.record([Refusal("cmd-x", [entry(9)]), Refusal("cmd-y", [])]) == set()
    assert await store.refusals.record([Refusal("cmd-x", [entry(10)]), Refusal("cmd-z", [])]) == {"cmd-x"}
    assert {k: [e.id for e in v] for k, v in (await store.refusals.seen(["cmd-x", "cmd-z", "no"])).items()} == {
        "cmd-x": ["e9"], "cmd-z": []}
    await store.refusals.outbox.mark_published_many({"cmd-x": ["e9"]})
    assert await store.refusals.outbox.outbox("cmd-x") == []


async def test_seed_never_overwrites_a_maintained_account(store):
    assert await store.upsert_account({"account_id": "A1", "name": "Maintained"}, "cmd-a1", [entry(1)])
    await store.seed_accounts([{"account_id": "A1", "name": "Seed"}, {"account_id": "A2", "name": "Seed 2"}])
    assert (await store.accounts(["A1"]))["A1"] == {"account_id": "A1", "name": "Maintained"}
    assert (await store.accounts(["A2", "A1"]))["A2"]["name"] == "Seed 2"


async def test_history_is_appended_not_rewritten_and_read_whole(store):
    first = a_case("C3")
    first.history.append(_entry("cmd-1"))
    await create(store, first, "cmd-1", [])
    loaded = await get(store, "C3")
    assert loaded.state.history == []  # applying a command never re-reads history
    loaded.state.version = 2
    loaded.state.history.append(_entry("cmd-2"))
    assert await update(store, loaded.state, 1, "cmd-2", [])
    assert [h.command_id for h in (await store.read("C3")).history] == ["cmd-1", "cmd-2"]


def _entry(command_id: str):
    from intake.core.case_parts import HistoryEntry

    return HistoryEntry.model_validate({"at": datetime.now(UTC), "actor_id": "hank", "command_id": command_id,
                                        "command_type": "case.update", "changes": []})


async def test_an_account_upsert_is_applied_once_even_on_a_seeded_entry(store):
    await store.seed_accounts([{"account_id": "A3", "name": "Seed"}])
    assert await store.upsert_account({"account_id": "A3", "name": "First"}, "cmd-1", [entry(20)])
    assert await store.upsert_account({"account_id": "A3", "name": "Second"}, "cmd-2", [entry(21)])
    assert not await store.upsert_account({"account_id": "A3", "name": "First"}, "cmd-1", [entry(22)])
    assert (await store.accounts(["A3"]))["A3"] == {"account_id": "A3", "name": "Second"}
    assert [e.id for e in dict(await store.account_outbox.pending(datetime.now(UTC) + timedelta(hours=1), 10))["A3"]] == [
        "e20", "e21"]


def _big_entry(command_id: str, chars: int):
    entry = _entry(command_id)
    entry.changes = [FieldChange(field="description", before=None, after="d" * chars)]
    return entry


async def _update(store, case_id: str, version: int, command_id: str, chars: int = 0) -> None:
    loaded = await get(store, case_id)
    loaded.state.version = version
    loaded.state.history.append(_big_entry(command_id, chars))
    assert await update(store, loaded.state, version - 1, command_id, [])


async def _case_document_bytes(store, case_id: str) -> int:
    return len(bson.encode(await store.cases.find_one({"_id": case_id})))


async def test_a_case_updated_many_times_with_large_commands_stays_small_and_keeps_its_whole_history(store):
    first = a_case("BIG")
    first.history.append(_big_entry("cmd-1", 300_000))
    assert await create(store, first, "cmd-1", [])
    for n in range(2, 61):  # 60 entries of 300 KB: 18 MB of history, over MongoDB's 16 MiB document limit
        await _update(store, "BIG", n, f"cmd-{n}", 300_000)
    assert await _case_document_bytes(store, "BIG") < 100_000
    history = (await store.read("BIG")).history
    assert [h.command_id for h in history] == [f"cmd-{n}" for n in range(1, 61)]
    assert all(len(h.changes[0].after) == 300_000 for h in history)


async def test_only_the_last_applied_command_ids_are_kept(store):
    from shared.runtime.mongo_outbox import APPLIED_WINDOW

    assert await create(store, a_case("MANY"), "cmd-0", [])
    for n in range(1, APPLIED_WINDOW + 6):
        assert await update(store, a_case("MANY", n + 1), n, f"cmd-{n}", [])
    doc = await store.cases.find_one({"_id": "MANY"}, {"applied": 1})
    assert len(doc["applied"]) == APPLIED_WINDOW and doc["applied"][-1] == f"cmd-{APPLIED_WINDOW + 5}"
    applied = (await get(store, "MANY")).applied
    assert f"cmd-{APPLIED_WINDOW + 5}" in applied and "cmd-6" in applied
    assert "cmd-5" not in applied  # older than the dedupe window


async def test_a_crash_between_the_state_write_and_the_history_move_loses_nothing(store, monkeypatch):
    first = a_case("CRASH")
    first.history.append(_entry("cmd-1"))
    assert await create(store, first, "cmd-1", [])

    async def crash(pending):  # the process dies after the compare-and-set, before the move
        return None

    monkeypatch.setattr(store.history, "move_quietly_many", crash)
    await _update(store, "CRASH", 2, "cmd-2")
    await _update(store, "CRASH", 3, "cmd-3")
    monkeypatch.undo()
    assert len((await store.cases.find_one({"_id": "CRASH"}))["history_pending"]) == 3  # cmd-1's is not due yet
    assert [h.command_id for h in (await store.read("CRASH")).history] == ["cmd-1", "cmd-2", "cmd-3"]

    assert await store.case_outbox.finish_leftovers(datetime.now(UTC)) == 0  # they linger a while first
    later = datetime.now(UTC) + timedelta(seconds=LINGER_SECONDS + 5)
    assert await store.case_outbox.finish_leftovers(later) == 3  # the relay's sweep moves them
    assert (await store.cases.find_one({"_id": "CRASH"}))["history_pending"] == []
    assert await store.case_outbox.finish_leftovers(later) == 0
    await _update(store, "CRASH", 4, "cmd-4")
    assert [h.command_id for h in (await store.read("CRASH")).history] == ["cmd-1", "cmd-2", "cmd-3", "cmd-4"]
    assert await store.case_outbox.finish_leftovers(later) == 1
    assert [h.command_id for h in (await store.read("CRASH")).history] == ["cmd-1", "cmd-2", "cmd-3", "cmd-4"]


async def test_moving_the_same_entries_twice_inserts_them_once_and_the_next_command_moves_leftovers(store):
    from intake.adapters.outbound.mongo_history import pending_docs

    assert await create(store, a_case("TWICE"), "cmd-1", [])
    pending = pending_docs("TWICE", 2, [_entry("cmd-2").model_dump(mode="json")])
    await store.cases.update_one({"_id": "TWICE"}, {"$push": {"history_pending": {"$each": pending}}})
    await store.history.move("TWICE", pending)
    await store.cases.update_one({"_id": "TWICE"}, {"$push": {"history_pending": {"$each": pending}}})
    assert [h.command_id for h in (await store.read("TWICE")).history] == ["cmd-2"]  # shown once meanwhile
    loaded = await get(store, "TWICE")  # the next move takes what a crash left, with the command's own entries
    nxt = a_case("TWICE", 3)
    nxt.history.append(_entry("cmd-3"))
    assert len(loaded.extra) == 1 and (await store.save([Change("TWICE", loaded, nxt, ["cmd-3"], [])])) == set()
    await store.case_outbox.finish_leftovers(datetime.now(UTC) + timedelta(seconds=LINGER_SECONDS + 5))
    assert (await store.cases.find_one({"_id": "TWICE"}))["history_pending"] == []
    assert [h.command_id for h in (await store.read("TWICE")).history] == ["cmd-2", "cmd-3"]


async def test_history_moves_in_chunks_once_enough_is_pending(store):
    first = a_case("CHUNK")
    first.history.append(_entry("cmd-1"))
    assert await create(store, first, "cmd-1", [])
    for n in range(2, MOVE_ENTRIES + 1):
        await _update(store, "CHUNK", n, f"cmd-{n}")
    assert (await store.cases.find_one({"_id": "CHUNK"}))["history_pending"] == []  # moved with the 32nd entry
    assert await store.history._history.count_documents({"case_id": "CHUNK"}) == 1  # as one document
    await _update(store, "CHUNK", MOVE_ENTRIES + 1, "cmd-last")
    history = [h.command_id for h in (await store.read("CHUNK")).history]
    assert history == [f"cmd-{n}" for n in range(1, MOVE_ENTRIES + 1)] + ["cmd-last"]
