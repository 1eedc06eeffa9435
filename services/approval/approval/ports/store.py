"""What the approval service needs from its store: aggregates loaded and written in batches, and its look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from approval.core import Absence, CaseApprovals
from shared.runtime.unit_of_work import AggregateStore, RefusalBook


@dataclass
class StoredRules:
    """The rule set stored by the last accepted `rules.upsert` (raw data) and its version."""

    raw: dict[str, Any]
    version: int


@dataclass(frozen=True)
class Due:
    """A case whose open step has a timer due: which step, and when it fell due."""

    case_id: str
    approval_id: str
    at: datetime


class ApprovalStore(AggregateStore[CaseApprovals], Protocol):
    """Approvals per case (the aggregate), refusals, absences and the rule set, and the link uses."""

    refusals: RefusalBook
    rule_sets: AggregateStore[StoredRules]  # keyed by RULES_SUBJECT
    absence_book: AggregateStore[Absence]  # keyed by person id

    async def read(self, case_id: str) -> CaseApprovals | None:
        """The case's approval state, or None (for the link page)."""

    async def due(self, now: datetime, limit: int) -> list[Due]:
        """Cases whose open step has a timer due at `now`."""

    async def next_due(self) -> datetime | None:
        """The earliest timer of any open step (the scheduler sleeps until then)."""

    async def waiting_on(self, person: str) -> list[str]:
        """Case ids whose open step waits on `person`."""

    async def waiting_for(self, person: str, limit: int) -> list[CaseApprovals]:
        """States whose open step waits on `person` (any eligible role), oldest step first, at most `limit`."""

    async def absences(self) -> dict[str, Absence]:
        """Every recorded absence by person (the latest one recorded per person)."""

    async def absences_to_apply(self, now: datetime) -> list[Absence]:
        """Absences in force that were not yet applied to pending steps."""

    async def mark_absence_applied(self, person: str, start: datetime) -> None:
        """The absence was applied to every pending step."""

    async def rules(self) -> StoredRules | None:
        """The rule set stored by `rules.upsert`, or None."""

    async def spend_link(self, token_id: str, case_id: str, command_id: str, expires: datetime) -> str:
        """Record the link token as used by `command_id` unless it was used; the command that used it first.

        One atomic insert keyed by the token's id, so two replicas (or two clicks) cannot both use it.
        """

    async def links_used(self, token_ids: list[str]) -> dict[str, str]:
        """The command that used each of these link tokens, for those used, in one query."""

    async def link_used(self, token_id: str) -> str | None:
        """The command that used the link token, or None."""

    async def release_link(self, token_id: str, command_id: str) -> None:
        """Forget the use by `command_id` (its command could not be sent), so the link works again."""
