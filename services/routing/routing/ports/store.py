"""What the routing service needs from its store; MongoDB and an in-memory double implement it."""

from __future__ import annotations

from typing import Any, Protocol

from routing.core.view import CaseView
from shared.runtime.outbox import OutboxEntry


class RoutingStore(Protocol):
    """Case views with their outbox and decisions, accounts, the rule set, and routing commands handled."""

    async def get_case(self, case_id: str) -> tuple[CaseView, int, list[OutboxEntry]] | None:
        """The view, its write sequence (for compare-and-set) and its unpublished entries."""

    async def save_case(self, view: CaseView, expected_seq: int | None, outbox: list[OutboxEntry],
                        decision: dict[str, Any] | None) -> bool:
        """One write: view, new entries, decision; False if someone wrote since `expected_seq` (None = new)."""

    async def mark_case_published(self, case_id: str, entry_ids: list[str]) -> None:
        """Drop published entries of a case."""

    async def open_load(self, people: list[str]) -> dict[str, int]:
        """Open cases assigned to each person."""

    async def open_cases(self, assignee: str, case_types: list[str] | None = None) -> list[CaseView]:
        """Open cases of one person (optionally of some case types), oldest first."""

    async def available(self, queues: list[str]) -> list[CaseView]:
        """Open cases in these queues that nobody has taken, oldest first."""

    async def in_queue(self, queue: str) -> list[CaseView]:
        """Open cases in one queue, oldest first."""

    async def decisions(self, case_id: str) -> list[dict[str, Any]] | None:
        """Routing decisions of a case (None: unknown case)."""

    async def account_owner(self, account_id: str) -> str | None:
        """Owner of an account of the directory copy."""

    async def upsert_account(self, account_id: str, entry: dict[str, Any]) -> None:
        """Replace an account of the directory copy."""

    async def rules(self) -> dict[str, Any] | None:
        """The rule set in force as {version, raw, command_id (of the upsert that set it)}, or None."""

    async def save_rules(self, raw: dict[str, Any], expected_version: int | None, command_id: str | None = None) -> bool:
        """Put a rule set in force iff the one in force still has `expected_version` (None = none yet)."""

    async def command_outbox(self, command_id: str) -> list[OutboxEntry] | None:
        """None if this routing command was never handled, else its unpublished entries."""

    async def record_command(self, command_id: str, outcome: str, outbox: list[OutboxEntry]) -> bool:
        """Keep a handled routing command with its entries; False if it was handled before."""

    async def mark_command_published(self, command_id: str, entry_ids: list[str]) -> None:
        """Drop published entries of a routing command."""
