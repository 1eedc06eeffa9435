"""Following `case.events`: remember rule facts at opening, open steps on pending statuses, void left ones."""

from __future__ import annotations

from typing import Any

from approval.core import Outcome, cancel, open_step
from approval.ports.store import Stored
from approval.service import ApprovalCore, state_of
from shared.contract.envelope import CloudEvent, derived_id

FOLLOWED = ("case.opened", "case.status_changed")


class CaseEventHandler:
    """One call per case event; events already applied change nothing."""

    def __init__(self, core: ApprovalCore) -> None:
        self._core = core

    async def handle(self, event: CloudEvent) -> str:
        """`accepted`, `duplicate` or `ignored` (events that do not concern approvals)."""
        if event.type not in FOLLOWED or not event.subject:
            return "ignored"
        if event.type == "case.opened":
            if not self._core.rules.steps_by_type.get((event.data.get("case") or {}).get("case_type", "")):
                return "ignored"  # a case type that never asks for approval: nothing to remember
            return await self._core.apply(event.subject, lambda s: self._opened(s, event), event)
        return await self._core.apply(event.subject, lambda s: self._status_changed(s, event), event)

    async def _opened(self, stored: Stored | None, event: CloudEvent) -> tuple[str, Any]:
        case: dict[str, Any] = event.data.get("case") or {}
        account = case.get("account") or {}
        fields = case.get("fields") or {}
        state = state_of(stored, event.subject or "").model_copy(deep=True)
        state.case_type, state.gbu, state.account_id = case.get("case_type"), case.get("gbu"), case.get("account_id")
        state.facts = {k: v for k, v in {"country": account.get("country"),
                                         "product_line": fields.get("product_line")}.items() if v is not None}
        return event.id, Outcome(state)

    async def _status_changed(self, stored: Stored | None, event: CloudEvent) -> tuple[str, Any]:
        data = event.data
        state = state_of(stored, event.subject or "").model_copy(deep=True)
        for key in ("case_type", "gbu", "account_id"):
            if data.get(key) is not None:
                setattr(state, key, data[key])
        step = data.get("approval_step")
        now = self._core.clock()
        if not step:
            return event.id, cancel(state, str(data.get("to")), now)
        actor = data.get("actor") or {}
        rules = await self._core.rules.current()
        absences = await self._core.store.absences()
        outcome = open_step(state, step, derived_id(event.id, "approval"), actor.get("id"), now, rules,
                            self._core.directory, absences, self._core.linker)
        return event.id, outcome
