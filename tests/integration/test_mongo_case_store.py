"""The Mongo adapter against the real store: compare-and-set, refusal dedupe, outbox bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.adapters.outbound.mongo_store import MongoCaseStore
from intake.core import Case
from shared.runtime import mongo
from shared.runtime.outbox import OutboxEntry

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


async def test_create_then_conflicting_updates_only_one_wins(store):
    assert await store.create(a_case("C1"), "cmd-1", [entry(1)])
    assert not await store.create(a_case("C1"), "cmd-1b", [])
    assert await store.update(a_case("C1", 2), 1, "cmd-2", [entry(2)])
    assert not await store.update(a_case("C1", 2), 1, "cmd-3", [entry(3)])
    stored = await store.get("C1", "cmd-2")
    assert stored.version == 2 and stored.seen and not (await store.get("C1", "cmd-3")).seen
    assert [e.id for e in stored.outbox] == ["e1", "e2"]


async def test_outbox_pending_and_mark_published(store):
    await store.create(a_case("C2"), "cmd-1", [entry(1), entry(2)])
    later = datetime.now(UTC) + timedelta(seconds=5)
    pending = dict(await store.case_outbox.pending(later, limit=10))
    assert [e.id for e in pending["C2"]] == ["e1", "e2"]
    assert await store.case_outbox.pending(datetime.now(UTC) - timedelta(hours=1), limit=10) == []
    await store.case_outbox.mark_published_many({"C2": ["e1"], "missing": ["e7"]})
    assert [e.id for e in (await store.get("C2", "x")).outbox] == ["e2"]


async def test_refusal_is_recorded_once(store):
    assert await store.refusals.outbox("cmd-x") is None
    assert await store.refusals.record("cmd-x", [entry(9)])
    assert not await store.refusals.record("cmd-x", [entry(10)])
    assert [e.id for e in await store.refusals.outbox("cmd-x")] == ["e9"]
    await store.refusals.mark_published_many({"cmd-x": ["e9"]})
    assert await store.refusals.outbox("cmd-x") == []


async def test_seed_never_overwrites_a_maintained_account(store):
    assert await store.upsert_account({"account_id": "A1", "name": "Maintained"}, "cmd-a1", [entry(1)])
    await store.seed_accounts([{"account_id": "A1", "name": "Seed"}, {"account_id": "A2", "name": "Seed 2"}])
    assert await store.get_account("A1") == {"account_id": "A1", "name": "Maintained"}
    assert (await store.get_account("A2"))["name"] == "Seed 2"


async def test_history_is_appended_not_rewritten_and_read_whole(store):
    first = a_case("C3")
    first.history.append(_entry("cmd-1"))
    await store.create(first, "cmd-1", [])
    loaded = await store.get("C3", "cmd-2")
    assert loaded.case.history == []  # applying a command never re-reads history
    loaded.case.version = 2
    loaded.case.history.append(_entry("cmd-2"))
    assert await store.update(loaded.case, 1, "cmd-2", [])
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
    assert await store.get_account("A3") == {"account_id": "A3", "name": "Second"}
    assert [e.id for e in dict(await store.account_outbox.pending(datetime.now(UTC) + timedelta(hours=1), 10))["A3"]] == [
        "e20", "e21"]
