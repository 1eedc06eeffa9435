"""Handlers of commands that drive the workflow: submit, status, close, approval, assign, quote, order."""

from __future__ import annotations

from intake.core.case_parts import ApprovalEntry, Order
from intake.core.context import Ctx
from intake.core.guards import GUARDS
from intake.core.on_open import new_draft_quote
from intake.core.queues import queue_problem
from intake.core.results import Refused, refuse
from intake.core.transitions import move_manually


def submit(ctx: Ctx) -> Refused | None:
    """`case.submit`: nothing to store; the `submitted*` triggers move the case (a sales rep's: approved at once)."""
    ctx.post.append(lambda: auto_approved(ctx))
    return None


def set_status(ctx: Ctx) -> Refused | None:
    """`case.set_status`: manual move to a non-closed status (closing goes through `case.close`)."""
    target = ctx.lc.status(ctx.data.status)
    if target is not None and target.is_closed:
        reasons = ", ".join(ctx.lc.closing.reasons)
        return refuse("invalid", f"Use case.close with a reason ({reasons}) to close {ctx.lc.a_label}.")
    return _move(ctx, ctx.data.status)


def _move(ctx: Ctx, target: str) -> Refused | None:
    before = (ctx.case.assignee, ctx.case.queue)
    step = move_manually(ctx.lc, ctx.case, target, ctx.actor)
    if isinstance(step, Refused):
        return step
    ctx.emit_step(step)
    if (ctx.case.assignee, ctx.case.queue) != before:
        ctx.emit("case.assigned", assignee=ctx.case.assignee, queue=ctx.case.queue,
                 previous_assignee=before[0], previous_queue=before[1])
    return None


def close(ctx: Ctx) -> Refused | None:
    """`case.close`: the reason picks the closed status; `duplicated`-like reasons need duplicate_of."""
    d, rules, c = ctx.data, ctx.lc.closing, ctx.case
    reason = d.reason or rules.default_reason
    if reason is None or (d.reason is None and rules.reason_required):
        return refuse("invalid", f"Give a closing reason for this {ctx.lc.label} ({', '.join(rules.reasons)}).")
    if reason not in rules.reasons:
        return refuse("invalid", f"'{reason}' is not a closing reason of {ctx.lc.a_label} (reasons: {', '.join(rules.reasons)}).")
    if reason in rules.duplicate_reasons and not d.duplicate_of:
        return refuse("invalid", f"Name the original case in duplicate_of when closing {ctx.lc.a_label} as {reason}.")
    if d.duplicate_of and reason not in rules.duplicate_reasons:
        return refuse("invalid", f"duplicate_of only goes with reason {', '.join(rules.duplicate_reasons) or '(none)'}.")
    if d.duplicate_of == c.id:
        return refuse("invalid", "A case cannot be a duplicate of itself.")
    refused = _move(ctx, rules.reasons[reason])
    if refused:
        return refused
    c.closure_reason, c.duplicate_of, c.closure_comment = reason, d.duplicate_of, d.comment
    c.closed_at, c.closed_by = ctx.now, ctx.actor.id
    ctx.emit("case.closed", reason=reason, duplicate_of=d.duplicate_of, comment=d.comment)
    return None


def record_approval(ctx: Ctx) -> Refused | None:
    """`case.record_approval`: checks the step, records every decision of it; `approval_*` triggers move the case.

    A rejection that closes the case (a CSR's `closed_rejected`) gets the closure fields and `case.closed`.
    """
    d, status = ctx.data, ctx.lc.status(ctx.case.status)
    expected = status.approval_step if status else None
    if expected is None:
        return refuse("transition_not_allowed", f"This {ctx.lc.label} is not awaiting an approval (it is '{ctx.case.status}').")
    if d.step != expected:
        return refuse("transition_not_allowed", f"This {ctx.lc.label} awaits the {expected} step, not {d.step}.")
    common = {"command_id": ctx.command_id, "step": d.step, "status_before": ctx.case.status, "status_after": ctx.case.status}
    # Mode `all`: every approver's decision, the deciding one last (it carries the step's outcome and the rule).
    entries = [ApprovalEntry(at=x.at or ctx.now, decision=x.decision, approver=x.approver, on_behalf_of=x.on_behalf_of,
                             comment=x.comment, **common) for x in d.decisions[:-1]]
    last_at = d.decisions[-1].at if d.decisions else None
    entries.append(ApprovalEntry(at=last_at or ctx.now, decision=d.decision, approver=d.approver,
                                 on_behalf_of=d.on_behalf_of, comment=d.comment, **common))
    ctx.case.approval_history.extend(entries)
    ctx.post.append(lambda: _after_approval(ctx, entries))
    ctx.emit("case.approval_recorded", step=d.step, decision=d.decision, approver=d.approver, comment=d.comment)
    return None


def _after_approval(ctx: Ctx, entries: list[ApprovalEntry]) -> None:
    """Once the triggers moved the case: the entries' status after, and the closure of a rejection that closed it."""
    c = ctx.case
    for entry in entries:
        entry.status_after = c.status
    now_status = ctx.lc.status(c.status)
    if now_status is None or not now_status.is_closed:  # it awaited an approval before: never closed then
        return
    reason = next((r for r, code in ctx.lc.closing.reasons.items() if code == c.status), c.status)
    c.closure_reason, c.closure_comment = reason, ctx.data.comment
    c.closed_at, c.closed_by = ctx.now, ctx.data.approver  # the approver closed it, not system:approval
    ctx.emit("case.closed", reason=reason, duplicate_of=None, comment=ctx.data.comment)


def auto_approved(ctx: Ctx) -> None:
    """A sales rep's own request approved at once (trigger `submitted_by_sales_rep`): an automatic history entry."""
    if not any(t == "case.status_changed" and f.get("trigger_name") == "submitted_by_sales_rep" for t, f in ctx.events):
        return
    step = next((s.approval_step for s in ctx.lc.statuses if s.approval_step), "approval")
    ctx.case.approval_history.append(ApprovalEntry(
        at=ctx.now, command_id=ctx.command_id, step=step, decision="auto_approve", approver=ctx.actor.id,
        comment="Approved automatically: the request was created and submitted by a sales rep (seed 000).",
        kind="automatic", status_before=ctx.before.status if ctx.before else ctx.case.status, status_after=ctx.case.status))


def assign(ctx: Ctx) -> Refused | None:
    """`case.assign`: take it (nothing given), give it to a person, or send it to a queue (nobody responsible)."""
    d, c = ctx.data, ctx.case
    problem = queue_problem(ctx.lc, c.gbu, d.queue)
    if problem:
        return refuse("invalid", problem)
    previous = (c.assignee, c.queue)
    if d.assignee is None and d.queue is None:
        c.assignee = ctx.actor.id
    else:
        c.assignee = d.assignee
        c.queue = d.queue if d.queue is not None else c.queue
    if (c.assignee, c.queue) == previous:
        return refuse("invalid", f"The {ctx.lc.label} is already assigned that way.")
    ctx.emit("case.assigned", assignee=c.assignee, queue=c.queue, previous_assignee=previous[0],
             previous_queue=previous[1], comment=d.comment)
    return None


def request_quote(ctx: Ctx) -> Refused | None:
    """`case.request_quote`: a new draft quote (next revision after a sent one); while a draft exists, adds to it."""
    q = ctx.case.quote
    if q is not None and q.status == "draft":
        # The quotation's own opening made the draft (seed 003); the request says what to put in it.
        q.note = ctx.data.note if ctx.data.note is not None else q.note
        ctx.emit("case.quote_requested", quote_status="draft", revision=q.revision)
        return None
    new_draft_quote(ctx, q.revision + 1 if q else 1, ctx.data.note)
    return None


def send_quote(ctx: Ctx) -> Refused | None:
    """`case.send_quote`: draft -> sent; `quote_sent` then moves the case to waiting for feedback."""
    guard = GUARDS["has_draft_quote"]
    if not guard.check(ctx.case):
        return refuse("guard_failed", guard.message.format(label=ctx.lc.label))
    d, q = ctx.data, ctx.case.quote
    assert q is not None
    q.status, q.sent_at, q.sent_by = "sent", ctx.now, ctx.actor.id
    q.quote_reference, q.amount, q.currency, q.valid_until = d.quote_reference, d.amount, d.currency, d.valid_until
    ctx.emit("case.quote_sent", quote_status="sent", revision=q.revision, quote_reference=q.quote_reference,
             amount=q.amount, currency=q.currency)
    return None


def place_order(ctx: Ctx) -> Refused | None:
    """`case.place_order`: records the order; `order_placed` moves the case."""
    if ctx.case.order is not None:
        return refuse("transition_not_allowed", f"An order ({ctx.case.order.order_reference}) is already placed on this case.")
    ctx.case.order = Order(order_reference=ctx.data.order_reference, status="placed", placed_at=ctx.now, placed_by=ctx.actor.id)
    ctx.emit("case.order_placed", order_reference=ctx.data.order_reference, order_status="placed")
    return None


def confirm_order(ctx: Ctx) -> Refused | None:
    """`case.confirm_order`: the customer confirms; `order_confirmed` moves the case."""
    o = ctx.case.order
    guard = GUARDS["has_order"]
    if o is None:
        return refuse("guard_failed", guard.message.format(label=ctx.lc.label))
    if o.status == "confirmed":
        return refuse("transition_not_allowed", f"Order {o.order_reference} is already confirmed.")
    o.status, o.confirmed_at, o.confirmed_by = "confirmed", ctx.now, ctx.actor.id
    ctx.emit("case.order_confirmed", order_reference=o.order_reference, order_status="confirmed")
    return None

