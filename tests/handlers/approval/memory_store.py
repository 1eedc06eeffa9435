"""An in-memory ApprovalStore for handler tests (same contract as the Mongo adapter, compare-and-set included)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from approval.core import Absence, CaseApprovals
from approval.ports.store import Due, StoredRules
from shared.runtime.unit_of_work import Change, Loaded
from tests.support.memory_store import MemoryRefusalBook


class _Docs:
    """Documents by key with version, applied ids and outbox; `lose_once` makes the next write of a key lose its race."""

    def __init__(self, to_doc: Callable[[Any], dict[str, Any]], of_doc: Callable[[str, dict[str, Any]], Any]) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self._to, self._of = to_doc, of_doc
        self.loads: list[list[str]] = []
        self.saves: list[list[str]] = []
        self.lose_once: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.outbox = self

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for key, ids in marks.items():
            if key in self.docs:
                self.docs[key]["outbox"] = [e for e in self.docs[key]["outbox"] if e.id not in ids]

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[Any]]:
        self.loads.append(list(keys))
        return {k: Loaded(k, self._of(k, d), d["version"], frozenset(d["applied"]), list(d["outbox"]))
                for k, d in self.docs.items() if k in keys}

    async def save(self, changes: Sequence[Change[Any]]) -> set[str]:
        self.saves.append([c.key for c in changes])
        lost = set()
        for c in changes:
            doc = self.docs.get(c.key)
            if c.key in self.lose_once:  # somebody else wrote first
                self.lose_once.pop(c.key)(doc)
                doc["version"] += 1
                lost.add(c.key)
            elif (doc["version"] if doc else None) == (c.loaded.version if c.loaded else None):
                self.docs[c.key] = {**self._to(c.state), "version": (doc["version"] if doc else 0) + 1,
                                    "applied": (doc["applied"] if doc else []) + c.message_ids,
                                    "outbox": (doc["outbox"] if doc else []) + c.entries}
            else:
                lost.add(c.key)
        return lost


def _case_doc(state: CaseApprovals) -> dict[str, Any]:
    step = state.open_step()
    return {"state": state.model_dump(mode="json"), "next_due": step.next_due() if step else None,
            "waiting_on": step.pending_people() if step else []}


def _absence_doc(a: Absence) -> dict[str, Any]:
    return {"absence": a, "applied": False}


class MemoryApprovalStore(_Docs):
    """Dicts instead of collections."""

    def __init__(self) -> None:
        super().__init__(_case_doc, lambda k, d: CaseApprovals.model_validate(d["state"]))
        self.refusals = MemoryRefusalBook()
        self.absence_book = _Docs(_absence_doc, lambda k, d: d["absence"])
        self.rule_sets = _Docs(lambda r: {"raw": copy.deepcopy(r.raw)}, lambda k, d: StoredRules(copy.deepcopy(d["raw"]), d["raw"]["version"]))
        self.spent: dict[str, str] = {}

    @property
    def absence_docs(self) -> dict[str, dict[str, Any]]:
        return self.absence_book.docs

    async def put(self, state: CaseApprovals, message_id: str) -> None:
        """Write a state as the service would (for tests that set one up)."""
        loaded = (await self.load([state.case_id])).get(state.case_id)
        assert not await self.save([Change(state.case_id, loaded, state, [message_id], [])])

    async def read(self, case_id: str) -> CaseApprovals | None:
        doc = self.docs.get(case_id)
        return None if doc is None else CaseApprovals.model_validate(doc["state"])

    async def due(self, now: datetime, limit: int) -> list[Due]:
        return [Due(k, d["state"]["current"]["approval_id"], d["next_due"])
                for k, d in self.docs.items() if d["next_due"] and d["next_due"] <= now][:limit]

    async def next_due(self) -> datetime | None:
        return min((d["next_due"] for d in self.docs.values() if d["next_due"]), default=None)

    async def waiting_on(self, person: str) -> list[str]:
        return [k for k, d in self.docs.items() if person in d["waiting_on"]]

    async def waiting_for(self, person: str, limit: int) -> list[CaseApprovals]:
        found = [CaseApprovals.model_validate(d["state"]) for d in self.docs.values() if person in d["waiting_on"]]
        return sorted(found, key=lambda s: s.current.opened_at if s.current else datetime.min)[:limit]

    async def absences(self) -> dict[str, Absence]:
        return {p: d["absence"] for p, d in self.absence_docs.items()}

    async def absences_to_apply(self, now: datetime) -> list[Absence]:
        return [d["absence"] for d in self.absence_docs.values() if not d["applied"] and d["absence"].active(now)]

    async def mark_absence_applied(self, person: str, start: datetime) -> None:
        if self.absence_docs[person]["absence"].start == start:
            self.absence_docs[person]["applied"] = True

    async def rules(self) -> StoredRules | None:
        doc = next(iter(self.rule_sets.docs.values()), None)
        return None if doc is None else StoredRules(copy.deepcopy(doc["raw"]), doc["raw"]["version"])

    async def spend_link(self, token_id: str, case_id: str, command_id: str, expires: datetime) -> str:
        return self.spent.setdefault(token_id, command_id)

    async def links_used(self, token_ids: list[str]) -> dict[str, str]:
        return {t: self.spent[t] for t in token_ids if t in self.spent}

    async def link_used(self, token_id: str) -> str | None:
        return self.spent.get(token_id)

    async def release_link(self, token_id: str, command_id: str) -> None:
        if self.spent.get(token_id) == command_id:
            del self.spent[token_id]
