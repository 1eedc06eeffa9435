"""Ports of the web service. Every read is made with the signed-in person's own bearer token."""

from __future__ import annotations

from typing import Any, Protocol


class ApiError(Exception):
    """A read API answered something other than success: `status` (0 when unreachable) and its error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class SignInRefused(Exception):
    """The issuer would not sign this person in; the message says why."""


class IntakeApi(Protocol):
    """Intake's read API (`GET /cases/{id}`, `GET /cases`)."""

    async def case(self, case_id: str, token: str) -> dict[str, Any]:
        """The case page's document; ApiError(404) when unknown."""
        ...

    async def cases(self, token: str, **filters: str) -> dict[str, Any]:
        """`{"items": [...], "next_cursor": ...}` for the filters (account, type, status, assignee, open, cursor...)."""
        ...


class ApprovalApi(Protocol):
    """Approval's `GET /approvals/waiting`."""

    async def waiting(self, token: str) -> list[dict[str, Any]]:
        """The open steps the token's person may decide, each with its signed link."""
        ...


class CaseCommands(Protocol):
    """Where the web service sends case commands (its own ingress topic, as principal `web`)."""

    async def assign_to_self(self, case_id: str, person: str) -> str:
        """Send `case.assign` taking the case for `person`; returns the command id."""
        ...


class SignIn(Protocol):
    """Turns a person's sign-in into a bearer token (locally the development issuer)."""

    @property
    def available(self) -> bool:
        """False when no sign-in is configured (the form says so)."""
        ...

    async def token_for(self, person: str) -> str:
        """A bearer token for `person`; raises SignInRefused."""
        ...
