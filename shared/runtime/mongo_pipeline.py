"""Many compare-and-set updates as one `update_many` statement: one store commit for a whole batch.

A bulk of `UpdateOne`s is one round trip but one commit per statement, and with journaled writes each
commit waits for its own flush to disk; under load the store's process is put to sleep at every one of
them. Here the updates of a batch that share a shape (the same `$set` fields and `$push` arrays) go out
as one statement: the filter keeps the documents whose version field still holds what was read
(`$expr` against the `let` values), and an update pipeline gives each matched document its own values,
picked by its `_id`. Every document is still changed atomically on its own (MongoDB 5.0+: update
pipelines with `let`); nothing relies on more than single-document atomicity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bson

# One statement carries every document's new values, so keep it well below the 16 MiB command limit,
# and short enough that the server's per-document look-up of its values ($indexOfArray) stays cheap.
MAX_DOCS = 50
MAX_BYTES = 4 * 1024 * 1024
_INDEX = {"$indexOfArray": ["$$ids", "$_id"]}


def shape_of(update: dict[str, Any]) -> tuple | None:
    """What an update does, as a hashable key (updates of one shape share a statement); None if untranslatable.

    Translatable: `$set` of top-level fields, `$push` of `{"$each": [...]}` (with an optional negative `$slice`).
    """
    if set(update) - {"$set", "$push"}:
        return None
    sets, pushes = update.get("$set", {}), update.get("$push", {})
    if any("." in k or k.startswith("$") for k in (*sets, *pushes)) or set(sets) & set(pushes):
        return None
    push_shape = []
    for key, spec in sorted(pushes.items()):
        if not isinstance(spec, dict) or set(spec) - {"$each", "$slice"}:
            return None
        cut = spec.get("$slice")
        if cut is not None and not (isinstance(cut, int) and cut < 0):
            return None
        push_shape.append((key, cut))
    return tuple(sorted(sets)), tuple(push_shape)


def chunks(items: Sequence[tuple[str, Any, dict[str, Any]]]) -> list[list[tuple[str, Any, dict[str, Any]]]]:
    """Items (key, expected, update) cut into statements of at most MAX_DOCS documents and about MAX_BYTES."""
    out: list[list[tuple[str, Any, dict[str, Any]]]] = []
    size = 0
    for item in items:
        item_size = len(bson.encode({"u": item[2]}))
        if not out or len(out[-1]) >= MAX_DOCS or size + item_size > MAX_BYTES:
            out.append([])
            size = 0
        out[-1].append(item)
        size += item_size
    return out


def statement(field: str, shape: tuple, items: Sequence[tuple[str, Any, dict[str, Any]]]
              ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(filter, pipeline, let) updating each item's document if its `field` still equals the expected value.

    The documents it changes are those whose `field` held the expected value: count them by `modified_count`
    (every write sets a fresh token, so a win always modifies its document).
    """
    _, push_shape = shape
    ids = [key for key, _, _ in items]
    values = [{"s": update.get("$set", {}), "p": {k: spec["$each"] for k, spec in update.get("$push", {}).items()}}
              for _, _, update in items]
    pushed: dict[str, Any] = {}
    for key, cut in push_shape:
        joined = {"$concatArrays": [{"$ifNull": [f"${key}", []]}, f"$__u.v.p.{key}"]}
        pushed[key] = {"$slice": [joined, cut]} if cut is not None else joined
    # The filter is `_id` alone, so a store can find the documents by their ids; the version is compared inside
    # the pipeline, and a document that moved on is left as it was (not modified: `modified_count` counts wins).
    query = {"_id": {"$in": ids}}
    still = {"$eq": [f"${field}", {"$arrayElemAt": ["$$expected", "$__u.i"]}]}
    pipeline = [
        {"$set": {"__u": {"i": _INDEX}}},
        {"$set": {"__u.v": {"$arrayElemAt": ["$$values", "$__u.i"]}}},
        # $mergeObjects replaces each top-level field whole, as `$set` does (an object literal would merge into it)
        {"$replaceWith": {"$cond": [still, {"$mergeObjects": ["$$ROOT", "$__u.v.s", pushed]}, "$$ROOT"]}},
        {"$unset": "__u"},
    ]
    # $literal: values are data, never expressions ("$..." strings in a case are text, not field paths)
    let = {"ids": {"$literal": ids}, "expected": {"$literal": [e for _, e, _ in items]},
           "values": {"$literal": values}}
    return query, pipeline, let
