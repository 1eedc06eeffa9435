"""What the routing service needs from its store; MongoDB and an in-memory double implement it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from routing.core.commands import RulesDoc
from routing.core.view import CaseView
from shared.runtime.unit_of_work import AggregateStore, RefusalBook

RULES_ID = "current"  # the one rule-set document, and the aggregate key of every rules.upsert


class RoutingStore(Protocol):
    """Case views, the rule set and handled hand-overs as unit-of-work aggregates; accounts; the read models.

    `views`: one aggregate per case (the view; a write's note is a routing decision, kept with it).
    `rule_sets`: the one rule set in force (key RULES_ID). `handovers`: one per accepted hand-over command
    (state: its outcome). `refusals`: refused routing commands, by command id.
    """

    views: AggregateStore[CaseView]
    rule_sets: AggregateStore[RulesDoc]
    handovers: AggregateStore[str]
    refusals: RefusalBook

    async def open_load(self) -> dict[str, int]:
        """Open cases per assignee, over every view (the counters' reset)."""

    async def open_cases(self, assignee: str, case_types: list[str] | None = None) -> list[CaseView]:
        """Open cases of one person (optionally of some case types), oldest first."""

    async def open_cases_of(self, people: Sequence[str]) -> dict[str, list[CaseView]]:
        """Open cases of each of `people`, oldest first, in one query."""

    async def available(self, queues: list[str]) -> list[CaseView]:
        """Open cases in these queues that nobody has taken, oldest first."""

    async def in_queue(self, queue: str) -> list[CaseView]:
        """Open cases in one queue, oldest first."""

    async def due_views(self, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        """(case id, next_due) of the cases whose time-frame timer is due at `now`, earliest first."""

    async def next_due(self) -> datetime | None:
        """The earliest time-frame timer of any case (None: no timer left)."""

    async def decisions(self, case_id: str) -> list[dict[str, Any]] | None:
        """Routing decisions of a case (None: unknown case)."""

    async def account_owners(self) -> dict[str, str | None]:
        """The owner of every account of the directory copy (the cache's reset)."""

    async def upsert_accounts(self, entries: dict[str, dict[str, Any]]) -> None:
        """Replace accounts of the directory copy, in one write."""

    async def rules(self) -> dict[str, Any] | None:
        """The rule set in force as {version, raw, command_id (of the upsert that set it)}, or None."""

    async def save_rules(self, raw: dict[str, Any], expected_version: int | None, command_id: str | None = None) -> bool:
        """Put a rule set in force iff the one in force still has `expected_version` (None = none yet)."""
