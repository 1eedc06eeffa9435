"""What intake's read API needs from its store: one case with its full history, and the filtered list."""

from __future__ import annotations

from typing import Any, Protocol

from intake.core.listing import CaseFilter, Cursor


class CaseReader(Protocol):
    """Read-only access to the cases as stored (JSON-mode dicts); never used to apply a command."""

    async def case(self, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The case's state (history left out) and its full history, oldest first; None when unknown."""

    async def cases(self, where: CaseFilter, after: Cursor | None, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` case states passing `where`, newest change first (updated_at, id), after `after`."""
