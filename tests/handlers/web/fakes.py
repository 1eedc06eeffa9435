"""Fake read APIs, command sender and sign-in for the web pages' handler tests."""

from __future__ import annotations

from typing import Any

from tests.support.oidc import dev_issuer
from web.ports import ApiError, SignInRefused


class FakeIntake:
    """Cases by id and one list answer; `refuse` makes every call answer that status."""

    def __init__(self) -> None:
        self.cases_by_id: dict[str, dict[str, Any]] = {}
        self.listing: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.refuse: int | None = None

    async def case(self, case_id: str, token: str) -> dict[str, Any]:
        """The case document or 404."""
        self.calls.append(("case", {"id": case_id, "token": token}))
        if self.refuse:
            raise ApiError(self.refuse, "refused")
        if case_id not in self.cases_by_id:
            raise ApiError(404, f"no case {case_id}")
        return self.cases_by_id[case_id]

    async def cases(self, token: str, **filters: str) -> dict[str, Any]:
        """Every listed case matching type/assignee (enough for the pages), in two pages of the cursor."""
        self.calls.append(("cases", filters))
        if self.refuse:
            raise ApiError(self.refuse, "refused")
        items = [c for c in self.listing if filters.get("type") in (None, "", c.get("case_type"))]
        if filters.get("assignee") == "none":
            items = [c for c in items if not c.get("assignee")]
        elif filters.get("assignee"):
            items = [c for c in items if c.get("assignee") == filters["assignee"]]
        half = len(items) // 2 if len(items) > 2 else len(items)
        if filters.get("cursor") == "page-2":
            return {"items": items[half:], "next_cursor": None}
        return {"items": items[:half], "next_cursor": "page-2" if half < len(items) else None}


class FakeApproval:
    """A fixed list of waiting steps."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    async def waiting(self, token: str) -> list[dict[str, Any]]:
        """Copies, as an HTTP client would return."""
        return [dict(item) for item in self.items]


class FakeCommands:
    """Records what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def assign_to_self(self, case_id: str, person: str) -> str:
        """Record (case, person)."""
        self.sent.append((case_id, person))
        return f"cmd-{len(self.sent)}"


class DevSignIn:
    """The session's development issuer, as the real adapter would reach it."""

    available = True

    async def token_for(self, person: str) -> str:
        """A token for a person of the directory; anyone else is refused."""
        try:
            return dev_issuer().mint(person)
        except ValueError as exc:
            raise SignInRefused(str(exc)) from None
