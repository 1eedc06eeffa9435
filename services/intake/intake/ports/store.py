"""What the intake service needs from its store; the Mongo adapter implements it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from intake.core import Case
from shared.runtime.outbox import OutboxEntry


@dataclass
class StoredCase:
    """A case as stored: the aggregate, its version, the commands applied and the unpublished events."""

    case: Case
    version: int
    applied: set[str] = field(default_factory=set)
    outbox: list[OutboxEntry] = field(default_factory=list)


class CaseStore(Protocol):
    """Cases, refusals and the account directory; every write is one single-document write."""

    async def get(self, case_id: str) -> StoredCase | None:
        """The case, or None."""

    async def create(self, case: Case, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Insert a new case with its events; False if the id is taken."""

    async def update(self, case: Case, expected_version: int, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Replace state, record the command and append events iff the version matches; False on conflict."""

    async def mark_published(self, case_id: str, entry_ids: list[str]) -> None:
        """Drop published events from the case's outbox."""

    async def refusal_outbox(self, command_id: str) -> list[OutboxEntry] | None:
        """None if the command was never refused, else its still-unpublished rejection entries."""

    async def record_refusal(self, command_id: str, outbox: list[OutboxEntry]) -> bool:
        """Keep a refusal with its rejection record; False if this command was already refused."""

    async def mark_refusal_published(self, command_id: str, entry_ids: list[str]) -> None:
        """Drop the published rejection record from the refusal's outbox."""

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        """An entry of the account directory."""

    async def upsert_account(self, account: dict[str, Any], outbox: list[OutboxEntry]) -> None:
        """Create or replace an entry of the account directory, with its events."""

    async def mark_account_published(self, account_id: str, entry_ids: list[str]) -> None:
        """Drop published account events."""
