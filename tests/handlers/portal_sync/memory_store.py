"""An in-memory ProjectionStore (same contract as the Mongo adapter: compare-and-set on rev)."""

from __future__ import annotations

import copy

from portal_sync.core import ProjectionState
from portal_sync.ports.store import Generation, StoredProjection
from shared.runtime.outbox import OutboxEntry


class MemoryProjectionStore:
    """Dicts per generation, a pointer, and a counter."""

    def __init__(self) -> None:
        self.docs: dict[int, dict[str, StoredProjection]] = {}
        self.pointer: Generation | None = None
        self.counter = 1

    async def active(self) -> Generation | None:
        return self.pointer

    async def activate_first(self, mapping_text: str, mapping_version: int) -> Generation:
        self.pointer = self.pointer or Generation(1, mapping_text, mapping_version)
        return self.pointer

    async def get(self, generation: int, case_id: str) -> StoredProjection | None:
        found = self.docs.get(generation, {}).get(case_id)
        return copy.deepcopy(found)

    async def save(self, generation: int, state: ProjectionState, expected_rev: int | None,
                   outbox: list[OutboxEntry]) -> bool:
        docs = self.docs.setdefault(generation, {})
        current = docs.get(state.record.case_id)
        if expected_rev is None:
            if current is not None:
                return False
            docs[state.record.case_id] = StoredProjection(state, 1, list(outbox))
            return True
        if current is None or current.rev != expected_rev:
            return False
        docs[state.record.case_id] = StoredProjection(state, expected_rev + 1, current.outbox + list(outbox))
        return True

    async def mark_published(self, generation: int, case_id: str, entry_ids: list[str]) -> None:
        doc = self.docs[generation][case_id]
        doc.outbox = [e for e in doc.outbox if e.id not in entry_ids]

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
