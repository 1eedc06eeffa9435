"""What the intake service needs from its store; the Mongo adapter implements it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from intake.core import Case
from shared.runtime.marks import BulkMarkable
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import RefusalStore


class RefusalOutbox(RefusalStore, BulkMarkable, Protocol):
    """Refusals by command id, whose published entries are marked in bulk."""


@dataclass
class StoredCase:
    """A case as loaded for one command: state without its history, version, seen-before flag, unpublished events.

    History is append-only and can grow without limit, so it is never read back to apply a command:
    the store appends the entries the command adds (on MongoDB, to a collection of its own, so the
    case document stays small).
    """

    case: Case
    version: int
    seen: bool = False
    outbox: list[OutboxEntry] = field(default_factory=list)


class CaseStore(Protocol):
    """Cases, refusals and the account and people directories; every write is one single-document write."""

    # Where published events are marked, in bulk (see shared.runtime.marks).
    case_outbox: BulkMarkable
    account_outbox: BulkMarkable
    person_outbox: BulkMarkable
    refusals: RefusalOutbox

    async def get(self, case_id: str, command_id: str) -> StoredCase | None:
        """The case (history left out), and whether `command_id` was applied to it; None if no such case."""

    async def read(self, case_id: str) -> Case | None:
        """The whole case, history included (for reading, not for applying commands)."""

    async def create(self, case: Case, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Insert a new case with its events; False if the id is taken."""

    async def update(self, case: Case, expected_version: int, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Replace state, append history, record the command and events iff the version matches; else False.

        Only the last command ids of a case are kept for `get(...).seen` (a window of `APPLIED_WINDOW`).
        """

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        """An entry of the account directory."""

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Create or replace an entry, with its events, unless `command_id` was applied to it; else False."""

    async def upsert_person(self, person: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Create or replace a people-directory entry, with its events, unless `command_id` was applied to it."""
