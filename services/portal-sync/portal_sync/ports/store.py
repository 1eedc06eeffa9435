"""What portal-sync needs from its store: generations of projections, each case one document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from portal_sync.core import ProjectionState
from shared.runtime.marks import BulkMarkable
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded


@dataclass(frozen=True)
class Generation:
    """A projection generation: its number and the mapping (YAML text) it was built with."""

    number: int
    mapping_text: str
    mapping_version: int


@dataclass
class StoredProjection:
    """A case's projection as stored, with its revision (compare-and-set) and unpublished records."""

    state: ProjectionState
    rev: int
    outbox: list[OutboxEntry] = field(default_factory=list)


class ProjectionStore(Protocol):
    """Projections per generation and the pointer to the active one; every write is one document."""

    async def active(self) -> Generation | None:
        """The generation the service reads and writes, None before the first start."""

    async def activate_first(self, mapping_text: str, mapping_version: int) -> Generation:
        """Make generation 1 active with this mapping unless a generation is active already; returns the active one."""

    async def load(self, generation: int, case_ids: Sequence[str]) -> dict[str, Loaded[ProjectionState]]:
        """The stored cases among `case_ids` in one query: state, `rev` as version, the event ids seen, outbox."""

    async def save(self, generation: int, changes: Sequence[Change[ProjectionState]]) -> set[str]:
        """Insert or compare-and-set on `rev` every change in one bulk, appending records; the case ids that lost."""

    def outbox(self, generation: int) -> BulkMarkable:
        """The generation's outboxes, for marking published records in bulk (the same object for a generation)."""

    async def get(self, generation: int, case_id: str) -> StoredProjection | None:
        """One case's projection in a generation."""

    async def by_account(self, generation: int, account_id: str) -> list[ProjectionState]:
        """Every projected case of one account."""

    async def new_generation(self) -> int:
        """Reserve the next generation number (its collection starts empty)."""

    async def all(self, generation: int) -> dict[str, StoredProjection]:
        """Every case of a generation, by case id."""

    async def insert_many(self, generation: int, items: list[tuple[ProjectionState, list[OutboxEntry]]]) -> None:
        """Fill a generation being built."""

    async def switch(self, generation: Generation) -> None:
        """Make `generation` the active one (one write to the pointer document)."""
