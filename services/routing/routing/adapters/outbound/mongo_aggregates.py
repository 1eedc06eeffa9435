"""Routing's unit-of-work aggregates on MongoDB: loaded with one `$in` query, written with one bulk of compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from routing.core.commands import RulesDoc
from routing.core.view import CaseView
from shared.runtime.mongo_batch import CasWrite, load_docs, write_cas
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs, push_bounded
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded

_NOT_VIEW = ("_id", "outbox", "decisions", "seq", "_w")


def view_of(doc: dict[str, Any]) -> CaseView:
    """The case view in a stored document (the view's fields sit at the top level, beside seq/outbox/decisions)."""
    return CaseView.model_validate({k: v for k, v in doc.items() if k not in _NOT_VIEW})


def _outbox(doc: dict[str, Any]) -> list[OutboxEntry]:
    return [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])]


class MongoViews:
    """Case views, one document per case (format unchanged): compare-and-set on `seq`, decisions kept beside."""

    replaces_outbox = True  # `save` sets the outbox: published entries leave with the next write

    def __init__(self, coll: AsyncCollection) -> None:
        self._coll, self.outbox = coll, MongoOutbox(coll)

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[CaseView]]:
        """Views with their write sequence and unsent commands; `seen` ids are the applied ones."""
        docs = await load_docs(self._coll, keys, {"decisions": 0})
        return {key: Loaded(key, view, doc.get("seq", 0), frozenset(view.seen), _outbox(doc))
                for key, doc in docs.items() for view in [view_of(doc)]}

    async def save(self, changes: Sequence[Change[CaseView]]) -> set[str]:
        """Insert new views, compare-and-set the others (view, commands and decisions in one write each)."""
        writes = []
        for change in changes:
            state = change.state.model_dump(mode="python")
            if change.loaded is None:
                writes.append(CasWrite(change.key, doc={**state, "seq": 1, "outbox": outbox_docs(change.outbox),
                                                        "decisions": list(change.notes)}))
                continue
            push: dict[str, Any] = {}
            if change.notes:  # the last decisions only: a case routed again and again must not outgrow its document
                push["decisions"] = push_bounded(*change.notes)
            writes.append(CasWrite(change.key, change.loaded.version, field="seq", update={
                "$set": {**state, "seq": change.loaded.version + 1, "outbox": outbox_docs(change.outbox)},
                **({"$push": push} if push else {})}))
        return await write_cas(self._coll, writes)


class MongoRuleSets:
    """The rule set in force (one document), compare-and-set on its version; `applied`: the upserts it took."""

    def __init__(self, coll: AsyncCollection) -> None:
        self._coll, self.outbox = coll, MongoOutbox(coll)  # a rule set publishes nothing; the protocol wants one

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[RulesDoc]]:
        docs = await load_docs(self._coll, keys)
        out = {}
        for key, doc in docs.items():
            state = RulesDoc.model_validate(doc)
            applied = set(doc.get("applied", [])) | ({state.command_id} if state.command_id else set())
            out[key] = Loaded(key, state, state.version, frozenset(applied), _outbox(doc))
        return out

    async def save(self, changes: Sequence[Change[RulesDoc]]) -> set[str]:
        writes = []
        for change in changes:
            state = change.state.model_dump(mode="json")
            if change.loaded is None:
                writes.append(CasWrite(change.key, doc={**state, "applied": change.message_ids}))
            else:
                writes.append(CasWrite(change.key, change.loaded.version, update={
                    "$set": state, "$push": {"applied": push_bounded(*change.message_ids)}}))
        return await write_cas(self._coll, writes)


class MongoHandovers:
    """Handled hand-overs by command id (format unchanged: outcome, outbox); written once, never changed."""

    def __init__(self, coll: AsyncCollection) -> None:
        self._coll, self.outbox = coll, MongoOutbox(coll)

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[str]]:
        docs = await load_docs(self._coll, keys)
        return {key: Loaded(key, doc.get("outcome", ""), 1, frozenset({key}), _outbox(doc)) for key, doc in docs.items()}

    async def save(self, changes: Sequence[Change[str]]) -> set[str]:
        return await write_cas(self._coll, [CasWrite(c.key, doc={"outcome": c.state, "outbox": outbox_docs(c.entries)})
                                            for c in changes])
