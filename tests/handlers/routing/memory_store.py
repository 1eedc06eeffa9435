"""An in-memory RoutingStore for handler tests (same contract as the MongoDB adapter)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from routing.core.commands import RulesDoc
from routing.core.view import CaseView
from routing.ports.store import RULES_ID
from shared.runtime.unit_of_work import Change, Loaded
from tests.support.memory_store import MemoryRefusalBook

S = TypeVar("S")


class MemoryAggregates(Generic[S]):
    """Aggregates in a dict: compare-and-set on a write counter; counts loads and saves; `lose_once` loses races."""

    def __init__(self, copy: Callable[[S], S] = lambda s: s) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.loads: list[list[str]] = []
        self.saves = 0
        self.lose_once: dict[str, Callable[[], None]] = {}  # key -> what the other writer does first
        self._copy = copy
        self.outbox = self

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for key, ids in marks.items():
            self.docs[key]["outbox"] = [e for e in self.docs[key]["outbox"] if e.id not in ids]

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[S]]:
        self.loads.append(list(keys))
        return {k: Loaded(k, self._copy(d["state"]), d["seq"], frozenset(d["applied"]), list(d["outbox"]))
                for k in keys for d in [self.docs.get(k)] if d is not None}

    def put(self, key: str, state: S, message_ids: Sequence[str] = (), entries: Sequence = (),
            notes: Sequence = ()) -> None:
        """Write without compare-and-set (another writer, or the test's set-up)."""
        doc = self.docs.setdefault(key, {"seq": 0, "applied": [], "outbox": [], "notes": []})
        doc.update(state=state, seq=doc["seq"] + 1)
        doc["applied"] += list(message_ids)
        doc["outbox"] += list(entries)
        doc["notes"] += list(notes)

    async def save(self, changes: Sequence[Change[S]]) -> set[str]:
        self.saves += 1
        lost = set()
        for c in changes:
            if c.key in self.lose_once:
                self.lose_once.pop(c.key)()
            doc = self.docs.get(c.key)
            if (doc["seq"] if doc else None) != (c.loaded.version if c.loaded else None):
                lost.add(c.key)
            else:
                self.put(c.key, c.state, c.message_ids, c.entries, c.notes)
        return lost


class MemoryRoutingStore:
    """Dicts instead of collections; compare-and-set semantics kept."""

    def __init__(self) -> None:
        self.views = MemoryAggregates[CaseView](lambda v: v.model_copy(deep=True))
        self.rule_sets = MemoryAggregates[RulesDoc]()
        self.handovers = MemoryAggregates[str]()
        self.refusals = MemoryRefusalBook()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.case_outbox = self.views.outbox

    @property
    def cases(self) -> dict[str, dict[str, Any]]:
        """The view documents by case id (state, seq, applied, outbox, notes = decisions)."""
        return self.views.docs

    def _views(self) -> list[CaseView]:
        return sorted((d["state"] for d in self.views.docs.values()), key=lambda v: (str(v.opened_at), v.case_id))

    async def open_load(self):
        out: dict[str, int] = {}
        for v in self._views():
            if v.is_open and v.assignee:
                out[v.assignee] = out.get(v.assignee, 0) + 1
        return out

    async def open_cases(self, assignee, case_types=None):
        return [v for v in self._views() if v.is_open and v.assignee == assignee
                and (not case_types or v.case_type in case_types)]

    async def open_cases_of(self, people):
        return {p: await self.open_cases(p) for p in people}

    async def available(self, queues):
        return [v for v in self._views() if v.is_open and v.queue in queues and v.assignee is None]

    async def in_queue(self, queue):
        return [v for v in self._views() if v.is_open and v.queue == queue]

    async def due_views(self, now, limit):
        due = sorted((v.next_due, v.case_id) for v in self._views() if v.next_due is not None and v.next_due <= now)
        return [(case_id, at) for at, case_id in due[:limit]]

    async def next_due(self):
        return min((v.next_due for v in self._views() if v.next_due is not None), default=None)

    async def decisions(self, case_id):
        doc = self.views.docs.get(case_id)
        return None if doc is None else doc["notes"]

    async def account_owners(self):
        return {k: a.get("owner") for k, a in self.accounts.items()}

    async def upsert_accounts(self, entries):
        self.accounts.update(entries)

    async def rules(self):
        doc = self.rule_sets.docs.get(RULES_ID)
        return None if doc is None else doc["state"].model_dump()

    async def save_rules(self, raw, expected_version, command_id=None):
        current = await self.rules()
        if (current["version"] if current else None) != expected_version:
            return False
        self.rule_sets.put(RULES_ID, RulesDoc(version=raw["version"], raw=raw, command_id=command_id))
        return True
