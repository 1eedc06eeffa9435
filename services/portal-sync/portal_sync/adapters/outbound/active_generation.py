"""The shared unit of work's AggregateStore over whichever generation is active, its pointer cached."""

from __future__ import annotations

from collections.abc import Sequence

from portal_sync.core import ProjectionState
from portal_sync.ports.store import Generation, ProjectionStore
from shared.runtime.marks import BulkMarkable
from shared.runtime.unit_of_work import Change, Loaded


class ActiveGeneration:
    """Loads and saves cases in the active generation, reading the pointer after each bulk write only.

    A rebuild switches the pointer with one write, at any moment. After every save the pointer is read
    again (one read per batch); if it moved, every case of that save counts as lost, so the unit of work
    decides them again in the new generation with its mapping, and the records computed for the old one
    stay unpublished in the old collection (the relay sweeps only the active one). A load that finds
    records not yet known as published (left by a crash or by another replica) reads the pointer first,
    so a replica that has not written since a switch never sends the old generation's leftovers.
    """

    def __init__(self, store: ProjectionStore, published: set[str] | None = None) -> None:
        self._store = store
        self.replaces_outbox = getattr(store, "replaces_outbox", False)  # see shared.runtime.unit_of_work
        self._published = published if published is not None else set()  # PublishedMarks.published, kept current
        self.current: Generation | None = None

    async def refresh(self) -> Generation:
        """Read the pointer; the generation now active."""
        found = await self._store.active()
        if found is None:
            raise RuntimeError("no active projection generation (the service prepares one at startup)")
        self.current = found
        return found

    @property
    def outbox(self) -> BulkMarkable:
        """The current generation's outboxes, where the unit of work marks what it published."""
        assert self.current is not None, "loaded before marked"
        return self._store.outbox(self.current.number)

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[ProjectionState]]:
        """The cases among `keys` in the current generation."""
        generation = self.current or await self.refresh()
        loaded = await self._store.load(generation.number, keys)
        if any(e.id not in self._published for found in loaded.values() for e in found.outbox):
            if (await self.refresh()).number != generation.number:
                loaded = await self._store.load(self.current.number, keys)  # type: ignore[union-attr]
        return loaded

    async def save(self, changes: Sequence[Change[ProjectionState]]) -> set[str]:
        """Write in the current generation; every key counts as lost if a switch happened meanwhile."""
        generation = self.current or await self.refresh()
        lost = await self._store.save(generation.number, changes)
        if (await self.refresh()).number != generation.number:
            return {change.key for change in changes}
        return lost
