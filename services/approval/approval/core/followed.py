"""What case events do to a case's approvals: remember rule facts at opening, open or void steps (pure)."""

from __future__ import annotations

from datetime import datetime

from approval.core import content as shown
from approval.core.content import Bounds
from approval.core.rules import RuleSet
from approval.core.state import Absence, CaseApprovals, Outcome
from approval.core.steps import cancel, open_step
from approval.core.tokens import Linker
from shared.contract.events import CaseOpened, CaseStatusChanged, CaseUpdated, ProductChanged
from shared.directory import Directory


def opened(state: CaseApprovals | None, event: CaseOpened, bounds: Bounds = Bounds()) -> Outcome:
    """The case's rule facts (type, GBU, account, country, product line) and content, kept for its later steps."""
    case = event.case
    account, fields = case.get("account") or {}, case.get("fields") or {}
    new = (state or CaseApprovals(case_id=event.case_id)).model_copy(deep=True)
    new.case_type, new.gbu, new.account_id = event.case_type, event.gbu, event.account_id
    new.facts = {k: v for k, v in {"country": account.get("country"),
                                   "product_line": fields.get("product_line")}.items() if v is not None}
    new.content = shown.from_snapshot(case, bounds)
    return Outcome(new)


def content_changed(state: CaseApprovals | None, event: CaseUpdated | ProductChanged, event_type: str,
                    bounds: Bounds = Bounds()) -> Outcome | None:
    """A change of what the approval page shows; None for a case approval does not follow (never opened here)."""
    if state is None:
        return None
    new = state.model_copy(deep=True)
    if isinstance(event, CaseUpdated):
        new.content = shown.updated(new.content, event.changes, bounds)
    else:
        new.content = shown.product_changed(new.content, event_type == "case.product_added", event.product_id,
                                            event.name, event.related_product_count, bounds)
    return None if new.content == state.content else Outcome(new)


def status_changed(state: CaseApprovals | None, event: CaseStatusChanged, approval_id: str, now: datetime,
                   rules: RuleSet, directory: Directory, absences: dict[str, Absence], linker: Linker) -> Outcome | None:
    """A status awaiting approval opens its step; any other status voids the open step; None if nothing changes."""
    new = (state or CaseApprovals(case_id=event.case_id)).model_copy(deep=True)
    new.case_type, new.gbu, new.account_id = event.case_type, event.gbu, event.account_id
    if not event.approval_step:
        return cancel(new, event.to, now)
    return open_step(new, event.approval_step, approval_id, event.actor.id, now, rules, directory, absences, linker)
