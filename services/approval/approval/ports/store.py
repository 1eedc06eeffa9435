"""What the approval service needs from its store; every write is one single-document write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from approval.core import Absence, CaseApprovals
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import RefusalStore


@dataclass
class Stored:
    """A case's approval state as stored, with its version, applied message ids and unpublished messages."""

    state: CaseApprovals
    version: int
    applied: set[str] = field(default_factory=set)
    outbox: list[OutboxEntry] = field(default_factory=list)


@dataclass
class StoredRules:
    """The rule set in force (raw data), its version, applied commands and unpublished events."""

    raw: dict[str, Any]
    version: int
    applied: set[str] = field(default_factory=set)
    outbox: list[OutboxEntry] = field(default_factory=list)


class ApprovalStore(Protocol):
    """Approvals per case, refusals, absences and the rule set."""

    refusals: RefusalStore

    async def get(self, case_id: str) -> Stored | None:
        """The case's approval state, or None."""

    async def save(self, state: CaseApprovals, expected_version: int | None, message_id: str,
                   outbox: list[OutboxEntry]) -> bool:
        """Create (expected None) or compare-and-set the state, record the message id, append the outbox."""

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Case ids whose open step has a timer due at `now`."""

    async def waiting_on(self, person: str) -> list[str]:
        """Case ids whose open step waits on `person`."""

    async def mark_published(self, case_id: str, entry_ids: list[str]) -> None:
        """Drop published entries from the case's outbox."""

    async def absences(self) -> dict[str, Absence]:
        """Every recorded absence by person (the latest one recorded per person)."""

    async def put_absence(self, absence: Absence, command_id: str) -> bool:
        """Record an absence (replacing the person's previous one); False if this command was applied before."""

    async def absences_to_apply(self, now: datetime) -> list[Absence]:
        """Absences in force that were not yet applied to pending steps."""

    async def mark_absence_applied(self, person: str, start: datetime) -> None:
        """The absence was applied to every pending step."""

    async def rules(self) -> StoredRules | None:
        """The rule set stored by `rules.upsert`, or None."""

    async def save_rules(self, raw: dict[str, Any], expected_version: int | None, command_id: str,
                         outbox: list[OutboxEntry]) -> bool:
        """Store a new rule set iff the stored version is still `expected_version`."""

    async def mark_rules_published(self, entry_ids: list[str]) -> None:
        """Drop published rules events."""

    async def spend_link(self, token_id: str, case_id: str, command_id: str, expires: datetime) -> str:
        """Record the link token as used by `command_id` unless it was used; the command that used it first.

        One atomic insert keyed by the token's id, so two replicas (or two clicks) cannot both use it.
        """

    async def link_used(self, token_id: str) -> str | None:
        """The command that used the link token, or None."""

    async def release_link(self, token_id: str, command_id: str) -> None:
        """Forget the use by `command_id` (its command could not be sent), so the link works again."""
