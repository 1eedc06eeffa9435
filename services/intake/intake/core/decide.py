"""The pure decision function: (current case, command) -> Accepted(new case, events) | Refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError

from intake.core import handlers_edit as edit
from intake.core import handlers_flow as flow
from intake.core.account import Account
from intake.core.advice import refresh_advice
from intake.core.case import Case
from intake.core.context import Ctx, build_events
from intake.core.history import record
from intake.core.lifecycles import load_lifecycles
from intake.core.opening import open_case
from intake.core.results import Accepted, Refused, refuse
from intake.core.transitions import allowed, fire
from intake.core.triggers import triggers_for
from shared.contract.commands import COMMAND_TYPES
from shared.contract.envelope import CloudEvent

HANDLERS: dict[str, Callable[[Ctx], Refused | None]] = {
    "case.update": edit.update,
    "case.add_product": edit.add_product,
    "case.remove_product": edit.remove_product,
    "case.add_account": edit.add_account,
    "case.add_shipping_site": edit.add_shipping_site,
    "case.add_team_member": edit.add_team_member,
    "case.record_assessment": edit.record_assessment,
    "case.resolve": edit.resolve,
    "case.record_satisfaction": edit.record_satisfaction,
    "case.request_sample": edit.request_sample,
    "case.add_customer_message": edit.add_customer_message,
    "case.submit": flow.submit,
    "case.set_status": flow.set_status,
    "case.close": flow.close,
    "case.record_approval": flow.record_approval,
    "case.assign": flow.assign,
    "case.request_quote": flow.request_quote,
    "case.send_quote": flow.send_quote,
    "case.place_order": flow.place_order,
    "case.confirm_order": flow.confirm_order,
}
"""Command type -> handler (generic; per-case-type behaviour lives in the lifecycle files)."""


def _schema_problem(command_type: str, exc: ValidationError) -> Refused:
    parts = [f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}" for e in exc.errors()]
    return refuse("invalid", f"The {command_type} command is not valid: {'; '.join(parts)}.")


def _existing(case: Case, command: CloudEvent, data, now: datetime) -> Ctx | Refused:
    lcs = load_lifecycles()
    lc = lcs.get(case.case_type)
    if lc is None:
        return refuse("invalid", f"No lifecycle for case type '{case.case_type}'.")
    rule = lc.commands.get(command.type)
    if rule is None:
        return refuse("invalid", lc.refused_commands.get(command.type) or f"{command.type} does not apply to {lc.a_label}.")
    status = lc.status(case.status)
    if status is None:
        return refuse("invalid", f"The case is in status '{case.status}', unknown to the {lc.label} lifecycle.")
    if status.is_closed and command.type not in status.accepts:
        return refuse("closed", f"This {lc.label} is closed ('{status.label}'); it accepts no more changes.")
    if status.locked and command.type not in status.accepts:
        what = ", ".join(status.accepts) or "nothing"
        return refuse("case_locked", f"This {lc.label} is locked while '{status.label}'; it only accepts {what}.")
    if not allowed(data.actor, rule.roles):
        return refuse("forbidden", f"Only {', '.join(rule.roles)} may send {command.type} to {lc.a_label}.")
    if rule.statuses is not None and case.status not in rule.statuses:
        where = ", ".join(s.label for s in lc.statuses if s.code in rule.statuses)
        return refuse("transition_not_allowed", f"{command.type} is only accepted while the {lc.label} is {where} (it is '{status.label}').")
    return Ctx(lc=lc, before=case, case=case.model_copy(deep=True), data=data, actor=data.actor,
               command_id=command.id, command_type=command.type, now=now)


def decide(case: Case | None, command: CloudEvent, *, now: datetime, account: Account | None = None) -> Accepted | Refused:
    """Decide a command against the current case (None if it does not exist); never mutates its inputs."""
    model = COMMAND_TYPES.get(command.type)
    if model is None or not command.type.startswith("case."):
        known = ", ".join(t for t in COMMAND_TYPES if t.startswith("case."))
        return refuse("invalid", f"'{command.type}' is not a case command (known: {known}).")
    if not command.subject:
        return refuse("invalid", "The command has no subject: it must carry the case id.")
    try:
        data = model.model_validate(command.data)
    except ValidationError as exc:
        return _schema_problem(command.type, exc)
    if command.type == "case.open":
        if case is not None:
            return refuse("already_exists", f"Case {command.subject} already exists.")
        ctx = open_case(load_lifecycles(), command.subject, command.id, data, now, account)
    elif case is None:
        return refuse("not_found", f"There is no case {command.subject}.")
    elif case.id != command.subject:
        return refuse("invalid", f"The command is for case {command.subject} but case {case.id} was given.")
    else:
        ctx = _existing(case, command, data, now)
        if isinstance(ctx, Ctx):
            refused = HANDLERS[command.type](ctx)
            if refused:
                return refused
    if isinstance(ctx, Refused):
        return ctx
    steps = fire(ctx.lc, ctx.case, triggers_for(command.type, data, ctx.actor, ctx.case), ctx.actor)
    if isinstance(steps, Refused):
        return steps
    for step in steps:
        ctx.emit_step(step)
    refresh_advice(ctx)
    new = ctx.case
    record(ctx.before, new, actor_id=ctx.actor.id, command_id=command.id, command_type=command.type, at=now,
           comment=getattr(data, "comment", None))
    new.version = 1 if ctx.before is None else ctx.before.version + 1
    new.updated_at = now
    for hook in ctx.post:
        hook()
    return Accepted(case=new, events=build_events(ctx))
