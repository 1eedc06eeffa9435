"""What the intake service needs from its store; the Mongo adapter implements it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from intake.core import Case
from shared.runtime.marks import BulkMarkable
from shared.runtime.refusals import RefusalStore
from shared.runtime.unit_of_work import AggregateStore, RefusalBook


class RefusalOutbox(RefusalStore, BulkMarkable, Protocol):
    """Refusals by command id, whose published entries are marked in bulk."""


class IntakeRefusalBook(RefusalBook, Protocol):
    """The unit of work's refusals, and (as `outbox`) the same records one at a time for the directory upserts."""

    outbox: RefusalOutbox


class CaseStore(AggregateStore[Case], Protocol):
    """Cases, refusals and the account and people directories; every write is one single-document write.

    Cases are loaded without their history: it is append-only and can grow without limit, so it is
    never read back to apply a command; a write appends the entries it adds (on MongoDB, to a
    collection of its own, so the case document stays small). Only the last command ids of a case
    are kept for deduplication (a window of `APPLIED_WINDOW`).
    """

    # Where published events are marked, in bulk (see shared.runtime.marks).
    case_outbox: BulkMarkable
    account_outbox: BulkMarkable
    person_outbox: BulkMarkable
    refusals: IntakeRefusalBook

    async def read(self, case_id: str) -> Case | None:
        """The whole case, history included (for reading, not for applying commands)."""

    async def accounts(self, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Entries of the account directory, by id (absent ones left out)."""

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[Any]) -> bool:
        """Create or replace an entry, with its events, unless `command_id` was applied to it; else False."""

    async def upsert_person(self, person: dict[str, Any], command_id: str, outbox: list[Any]) -> bool:
        """Create or replace a people-directory entry, with its events, unless `command_id` was applied to it."""
