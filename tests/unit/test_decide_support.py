"""Helpers shared by the decide tests (a tiny driver that plays commands against `decide`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from intake.core import Accepted, Case, Refused, decide, load_seed_accounts
from shared.contract.envelope import CloudEvent

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ACCOUNTS = load_seed_accounts()

ACTORS: dict[str, dict[str, Any]] = {
    "mary": {"id": "mary", "roles": ["sales_rep"]},
    "carl": {"id": "carl", "roles": ["customer_service"]},
    "john": {"id": "john", "roles": ["supply_chain"]},
    "frank": {"id": "frank", "roles": ["tech_team"]},
    "approval": {"id": "system:approval", "roles": ["system:approval"]},
    "routing": {"id": "system:routing", "roles": ["system:routing"]},
    "customer": {"id": "cust.ola", "roles": ["customer"]},
    "seller": {"id": "seller.ingrid", "roles": ["seller"]},
    "warehouse": {"id": "wh.per", "roles": ["warehouse"]},
    "agent": {"id": "agent.tom", "roles": ["helpdesk_agent"]},
    "agent2": {"id": "agent.ann", "roles": ["helpdesk_agent"]},
    "rep2": {"id": "rep.sam", "roles": ["sales_rep"]},
    "buyer": {"id": "buyer.eva", "roles": ["purchaser"]},
    "nobody": {"id": "guest", "roles": []},
}

_ids = itertools.count(1)


def command(type_: str, case_id: str | None, actor: str | dict, data: dict[str, Any]) -> CloudEvent:
    """A command envelope with a fresh id."""
    who = ACTORS[actor] if isinstance(actor, str) else actor
    return CloudEvent(id=f"cmd-{next(_ids)}", source="/tests", type=type_, subject=case_id, data={"actor": who, **data})


class Journey:
    """Plays commands on one case, checking the version rule on every accepted command."""

    def __init__(self, case_id: str = "CASE-1") -> None:
        self.case_id = case_id
        self.case: Case | None = None
        self.now = T0
        self.events: list[tuple[str, Any]] = []

    def send(self, type_: str, actor: str | dict, **data: Any) -> Accepted | Refused:
        """Decide one command; keep the new case when accepted."""
        self.now += timedelta(minutes=5)
        account = ACCOUNTS.get(data.get("account_id", "")) if type_ == "case.open" else None
        before = self.case.model_dump(mode="json") if self.case else None
        result = decide(self.case, command(type_, self.case_id, actor, data), now=self.now, account=account)
        assert (self.case.model_dump(mode="json") if self.case else None) == before, "decide mutated its input"
        if isinstance(result, Accepted):
            expected = 1 if self.case is None else self.case.version + 1
            assert result.case.version == expected
            assert result.case.updated_at == self.now
            assert Case.model_validate(result.case.model_dump(mode="json")) == result.case
            self.case = result.case
            self.events = result.events
        return result

    def ok(self, type_: str, actor: str | dict, **data: Any) -> Accepted:
        """Send and require acceptance."""
        result = self.send(type_, actor, **data)
        assert isinstance(result, Accepted), f"{type_} refused: {result}"
        return result

    def no(self, type_: str, actor: str | dict, code: str, **data: Any) -> Refused:
        """Send and require a refusal with this code."""
        result = self.send(type_, actor, **data)
        assert isinstance(result, Refused), f"{type_} unexpectedly accepted (status {result.case.status})"
        assert result.code == code, f"expected {code}, got {result.code}: {result.reason}"
        return result

    @property
    def status(self) -> str:
        """Current status."""
        assert self.case is not None
        return self.case.status

    def types(self) -> list[str]:
        """Event types of the last accepted command."""
        return [t for t, _ in self.events]

    def status_changes(self) -> list[tuple[str, str, str]]:
        """(from, to, trigger) of the status_changed events of the last accepted command."""
        return [(e.from_status, e.to, e.trigger) for t, e in self.events if t == "case.status_changed"]


def opened(case_type: str, actor: str = "mary", *, fields: dict | None = None, **extra: Any) -> Journey:
    """A journey whose case was just opened on account ACC-1001."""
    j = Journey(f"{case_type.upper()}-1")
    j.ok("case.open", actor, case_type=case_type, gbu="marine", account_id="ACC-1001", subject=f"A {case_type}",
         description="Details", fields=fields or {}, **extra)
    return j
