"""`case.open`: builds a brand-new case from the command, its lifecycle and the account entry."""

from __future__ import annotations

from datetime import datetime

from intake.core.account import Account
from intake.core.case import Case
from intake.core.context import Ctx
from intake.core.fields import check_cause, merge_fields, with_defaults
from intake.core.on_open import OPEN_EFFECTS
from intake.core.queues import queue_problem
from intake.core.results import Refused, refuse
from intake.core.transitions import allowed
from shared.contract.commands import CaseOpen
from shared.lifecycles import Lifecycle


def open_case(
    lcs: dict[str, Lifecycle], case_id: str, command_id: str, data: CaseOpen, now: datetime, account: Account | None
) -> Ctx | Refused:
    """The working context of a new case, or why it cannot be opened."""
    lc = lcs.get(data.case_type)
    if lc is None:
        return refuse("invalid", f"Unknown case type '{data.case_type}' (known: {', '.join(sorted(lcs))}).")
    if data.is_sample_request:
        return refuse(
            "invalid",
            "Sample requests are not cases of their own: record them on an existing case with case.request_sample.",
        )
    roles = lc.commands["case.open"].roles
    if not allowed(data.actor, roles):
        return refuse("forbidden", f"Only {', '.join(roles)} may open {lc.a_label}.")
    if account is not None and account.account_id != data.account_id:
        return refuse("invalid", f"The account passed ({account.account_id}) is not the case's account ({data.account_id}).")
    fields, problems = merge_fields(lc, {}, data.fields, creating=True)
    problems += [p for p in [check_cause(lc, data.cause), queue_problem(lc, data.gbu, data.queue)] if p]
    if problems:
        return refuse("invalid", f"The {lc.label} cannot be opened: {'; '.join(problems)}.")
    case = Case(
        id=case_id, case_type=lc.case_type, gbu=data.gbu, account_id=data.account_id,
        account=account.details() if account else None, subject=data.subject, description=data.description,
        contact=data.contact, cause=data.cause, fields=with_defaults(lc, data.gbu, fields), status=lc.initial_status, version=1,
        created_at=now, updated_at=now, created_by=data.actor, assignee=data.assignee, queue=data.queue,
    )
    ctx = Ctx(lc=lc, before=None, case=case, data=data, actor=data.actor, command_id=command_id,
              command_type="case.open", now=now)
    opened: dict = {}
    ctx.events.append(("case.opened", opened))
    for effect in lc.on_open:
        OPEN_EFFECTS[effect](ctx)
    # The snapshot is taken once the case is final (after triggers, history and version).
    ctx.post.append(lambda: opened.update(case=ctx.case.model_dump(mode="json")))
    return ctx
