"""`write_cas` and `pull_many` against the real store: one statement per shape, each document on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from shared.runtime import mongo, mongo_batch, mongo_pipeline
from shared.runtime.mongo_batch import TOKEN, CasWrite, write_cas
from shared.runtime.mongo_outbox import pull_many, push_bounded

pytestmark = pytest.mark.integration


@pytest.fixture
async def coll(settings):
    client, db = mongo.connect(settings.mongodb_url, f"{settings.mongodb_database}_cas_{uuid.uuid4().hex[:6]}")
    yield db["docs"]
    await client.drop_database(db.name)
    await client.close()


async def test_each_document_gets_its_own_values_and_a_moved_version_loses(coll, monkeypatch):
    monkeypatch.setattr(mongo_pipeline, "MAX_DOCS", 7)  # several statements for one shape
    keys = [f"K{i}" for i in range(20)]
    at = datetime(2026, 1, 2, tzinfo=UTC)
    await coll.insert_many([{"_id": k, "version": 1, "state": {"old": True, "keep": "gone"}, "applied": ["a", "b"]}
                            for k in keys])
    await coll.update_one({"_id": "K3"}, {"$set": {"version": 5}})  # moved on meanwhile
    writes = [CasWrite(k, 1, update={"$set": {"version": 2, "state": {"text": f"${k} $$ROOT", "at": at}},
                                     "$push": {"applied": push_bounded(f"m-{k}", keep=2)}}) for k in keys]
    writes.append(CasWrite("NEW", doc={"version": 1, "state": {}}))
    lost = await write_cas(coll, writes)
    assert lost == {"K3"}
    docs = {d["_id"]: d async for d in coll.find()}
    for k in keys:
        if k == "K3":
            assert docs[k]["version"] == 5 and docs[k]["applied"] == ["a", "b"]
            continue
        # the state is replaced whole (not merged), "$..." text stays text, the pushed array is cut to its last 2
        assert docs[k]["state"] == {"text": f"${k} $$ROOT", "at": at}
        assert docs[k]["version"] == 2 and docs[k]["applied"] == ["b", f"m-{k}"] and "__u" not in docs[k]
    assert docs["NEW"]["version"] == 1 and docs["NEW"][TOKEN] == docs["K0"][TOKEN]


async def test_shapes_apart_and_updates_without_a_pipeline_form(coll):
    await coll.insert_many([{"_id": k, "rev": 1, "n": 0, "list": []} for k in "abcd"])
    lost = await write_cas(coll, [
        CasWrite("a", 1, field="rev", update={"$set": {"rev": 2, "x": 1}}),
        CasWrite("b", 1, field="rev", update={"$set": {"rev": 2}, "$push": {"list": {"$each": [1, 2]}}}),
        CasWrite("c", 1, field="rev", update={"$set": {"rev": 2}, "$inc": {"n": 3}}),  # no pipeline form
        CasWrite("d", 9, field="rev", update={"$set": {"rev": 10}, "$inc": {"n": 3}}),
        CasWrite("a", doc={"rev": 1}),  # the id is taken
    ])
    assert lost == {"d", "a"}
    docs = {d["_id"]: d async for d in coll.find()}
    assert docs["a"]["x"] == 1 and docs["b"]["list"] == [1, 2] and docs["c"]["n"] == 3 and docs["d"]["rev"] == 1


async def test_pull_many_removes_only_each_documents_listed_elements(coll, monkeypatch):
    monkeypatch.setattr("shared.runtime.mongo_outbox.PULL_OWNERS", 2)
    await coll.insert_many([{"_id": k, "outbox": [{"id": f"{k}1"}, {"id": f"{k}2"}, {"id": f"{k}3"}]} for k in "abcde"])
    await pull_many(coll, "outbox", "id", {k: [f"{k}1", f"{k}3"] for k in "abcd"} | {"e": []})
    docs = {d["_id"]: [e["id"] for e in d["outbox"]] async for d in coll.find()}
    assert docs == {"a": ["a2"], "b": ["b2"], "c": ["c2"], "d": ["d2"], "e": ["e1", "e2", "e3"]}


values = st.recursive(st.none() | st.booleans() | st.integers(-2**31, 2**31) | st.text(max_size=12),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                          st.text(min_size=1, max_size=6).filter(lambda k: not k.startswith("$") and "." not in k and "\x00" not in k),
                          inner, max_size=3), max_leaves=8)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(values, min_size=1, max_size=6))
async def test_any_value_is_stored_as_given(coll, states):
    # Values are data: whatever a service sets (operators' names, "$" paths, nesting) is stored exactly
    # (keys with NUL are left out: BSON cannot hold them, whatever the statement).
    keys = [uuid.uuid4().hex for _ in states]
    await coll.insert_many([{"_id": k, "version": 1} for k in keys])
    assert await write_cas(coll, [CasWrite(k, 1, update={"$set": {"version": 2, "state": s}})
                                  for k, s in zip(keys, states)]) == set()
    docs = {d["_id"]: d async for d in coll.find({"_id": {"$in": keys}})}
    assert [docs[k]["state"] for k in keys] == states


async def test_load_docs_asks_in_parts_and_returns_each_document_once(coll, monkeypatch):
    monkeypatch.setattr(mongo_batch, "LOAD_IDS", 7)
    await coll.insert_many([{"_id": f"L{i}", "n": i} for i in range(40)])
    keys = [f"L{i}" for i in range(40)] + ["L3", "MISSING"]
    docs = await mongo_batch.load_docs(coll, keys)
    assert sorted(docs) == sorted(f"L{i}" for i in range(40)) and docs["L39"]["n"] == 39
    assert await mongo_batch.load_docs(coll, []) == {}
