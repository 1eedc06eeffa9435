"""Which updates share one `update_many` statement, and how statements are cut."""

from __future__ import annotations

from shared.runtime import mongo_pipeline
from shared.runtime.mongo_pipeline import chunks, shape_of, statement


def test_shapes():
    assert shape_of({"$set": {"b": 1, "a": 2}}) == (("a", "b"), ())
    assert shape_of({"$set": {"a": 1}, "$push": {"l": {"$each": [1], "$slice": -3}}}) == (("a",), (("l", -3),))
    assert shape_of({"$set": {"a": 1}}) != shape_of({"$set": {"a": 1, "b": 1}})
    for untranslatable in ({"$inc": {"n": 1}}, {"$set": {"a.b": 1}}, {"$push": {"l": 1}},
                           {"$push": {"l": {"$each": [1], "$slice": 2}}}, {"$push": {"l": {"$each": [], "$sort": 1}}},
                           {"$set": {"l": 1}, "$push": {"l": {"$each": [1]}}}):
        assert shape_of(untranslatable) is None, untranslatable


def test_chunks_by_count_and_by_size(monkeypatch):
    items = [(str(i), 1, {"$set": {"x": "y" * 100}}) for i in range(25)]
    assert [len(c) for c in chunks(items)] == [25]
    monkeypatch.setattr(mongo_pipeline, "MAX_DOCS", 10)
    assert [len(c) for c in chunks(items)] == [10, 10, 5]
    monkeypatch.setattr(mongo_pipeline, "MAX_BYTES", 1000)
    assert all(len(c) <= 8 for c in chunks(items)) and sum(len(c) for c in chunks(items)) == 25


def test_values_travel_as_literals():
    query, pipeline, let = statement("version", (("s",), ()), [("k", 3, {"$set": {"s": "$notapath"}})])
    assert let["values"] == {"$literal": [{"s": {"s": "$notapath"}, "p": {}}]}
    assert let["expected"] == {"$literal": [3]} and query["_id"] == {"$in": ["k"]}
    assert pipeline[-1] == {"$unset": "__u"}
