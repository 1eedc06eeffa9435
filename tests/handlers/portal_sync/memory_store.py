"""An in-memory ProjectionStore (same contract as the Mongo adapter: compare-and-set on rev, bulk load and save)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from portal_sync.core import ProjectionState
from portal_sync.ports.store import Generation, StoredProjection
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded


class _Outbox:
    """One generation's outboxes, marked in bulk."""

    def __init__(self, docs: dict[str, StoredProjection]) -> None:
        self._docs = docs

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for case_id, ids in marks.items():
            doc = self._docs[case_id]
            doc.outbox = [e for e in doc.outbox if e.id not in ids]


class MemoryProjectionStore:
    """Dicts per generation, a pointer, and a counter; counts loads, saves and pointer reads."""

    def __init__(self) -> None:
        self.docs: dict[int, dict[str, StoredProjection]] = {}
        self.pointer: Generation | None = None
        self.counter = 1
        self.loads: list[list[str]] = []
        self.saves: list[list[str]] = []
        self.pointer_reads = 0
        self._outboxes: dict[int, _Outbox] = {}

    async def active(self) -> Generation | None:
        self.pointer_reads += 1
        return self.pointer

    async def activate_first(self, mapping_text: str, mapping_version: int) -> Generation:
        self.pointer = self.pointer or Generation(1, mapping_text, mapping_version)
        return self.pointer

    async def load(self, generation: int, case_ids: Sequence[str]) -> dict[str, Loaded[ProjectionState]]:
        self.loads.append(list(case_ids))
        docs = self.docs.get(generation, {})
        return {k: Loaded(k, copy.deepcopy(d.state), d.rev, frozenset(d.state.seen), list(d.outbox))
                for k, d in docs.items() if k in case_ids}

    async def save(self, generation: int, changes: Sequence[Change[ProjectionState]]) -> set[str]:
        self.saves.append([c.key for c in changes])
        docs, lost = self.docs.setdefault(generation, {}), set()
        for change in changes:
            current = docs.get(change.key)
            if change.loaded is None and current is None:
                docs[change.key] = StoredProjection(change.state, 1, list(change.entries))
            elif change.loaded is not None and current is not None and current.rev == change.loaded.version:
                docs[change.key] = StoredProjection(change.state, current.rev + 1, current.outbox + change.entries)
            else:
                lost.add(change.key)
        return lost

    def outbox(self, generation: int) -> _Outbox:
        if generation not in self._outboxes:
            self._outboxes[generation] = _Outbox(self.docs.setdefault(generation, {}))
        return self._outboxes[generation]

    async def get(self, generation: int, case_id: str) -> StoredProjection | None:
        return copy.deepcopy(self.docs.get(generation, {}).get(case_id))

    async def by_account(self, generation: int, account_id: str) -> list[ProjectionState]:
        return [d.state for d in self.docs.get(generation, {}).values() if d.state.record.account_id == account_id]

    async def new_generation(self) -> int:
        self.counter += 1
        return self.counter

    async def all(self, generation: int) -> dict[str, StoredProjection]:
        return copy.deepcopy(self.docs.get(generation, {}))

    async def insert_many(self, generation: int, items: list[tuple[ProjectionState, list[OutboxEntry]]]) -> None:
        docs = self.docs.setdefault(generation, {})
        for state, outbox in items:
            docs[state.record.case_id] = StoredProjection(state, 1, list(outbox))

    async def switch(self, generation: Generation) -> None:
        self.pointer = generation
