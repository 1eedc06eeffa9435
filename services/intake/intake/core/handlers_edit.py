"""Handlers of commands that edit case data (no status logic; triggers run afterwards)."""

from __future__ import annotations

from intake.core.case_parts import AccountLink, Note, RelatedProduct, SampleRequest, Satisfaction, ShippingSite, TeamMember
from intake.core.context import Ctx
from intake.core.fields import check_cause, merge_fields
from intake.core.history import diff
from intake.core.results import Refused, refuse


def _updated(ctx: Ctx) -> None:
    # The changes are known before history is written; the event repeats them for consumers.
    ctx.emit("case.updated", command_type=ctx.command_type, changes=diff(ctx.before, ctx.case))


def update(ctx: Ctx) -> Refused | None:
    """`case.update`: subject, description, contact, cause, type-specific fields."""
    d, c = ctx.data, ctx.case
    problems = [p for p in [check_cause(ctx.lc, d.cause)] if p]
    c.fields, field_problems = merge_fields(ctx.lc, c.fields, d.fields, creating=False)
    if problems + field_problems:
        return refuse("invalid", f"The {ctx.lc.label} cannot be updated: {'; '.join(problems + field_problems)}.")
    for name in ("subject", "description", "contact", "cause"):
        if getattr(d, name) is not None:
            setattr(c, name, getattr(d, name))
    _updated(ctx)
    return None


def add_product(ctx: Ctx) -> Refused | None:
    """`case.add_product`: relate a product and maintain `related_product_count`."""
    c, d = ctx.case, ctx.data
    if any(p.product_id == d.product_id for p in c.related_products):
        return refuse("invalid", f"Product {d.product_id} is already related to this {ctx.lc.label}.")
    c.related_products.append(RelatedProduct(product_id=d.product_id, name=d.name))
    c.related_product_count = len(c.related_products)
    ctx.emit("case.product_added", product_id=d.product_id, name=d.name, related_product_count=c.related_product_count)
    return None


def remove_product(ctx: Ctx) -> Refused | None:
    """`case.remove_product`."""
    c, d = ctx.case, ctx.data
    kept = [p for p in c.related_products if p.product_id != d.product_id]
    if len(kept) == len(c.related_products):
        return refuse("invalid", f"Product {d.product_id} is not related to this {ctx.lc.label}.")
    removed = next(p for p in c.related_products if p.product_id == d.product_id)
    c.related_products, c.related_product_count = kept, len(kept)
    ctx.emit("case.product_removed", product_id=d.product_id, name=removed.name, related_product_count=len(kept))
    return None


def add_account(ctx: Ctx) -> Refused | None:
    """`case.add_account`: case account association."""
    c, d = ctx.case, ctx.data
    if d.account_id == c.account_id or any(a.account_id == d.account_id for a in c.additional_accounts):
        return refuse("invalid", f"Account {d.account_id} is already on this {ctx.lc.label}.")
    c.additional_accounts.append(AccountLink(account_id=d.account_id, name=d.name))
    ctx.emit("case.account_added", added_account_id=d.account_id, name=d.name)
    return None


def add_shipping_site(ctx: Ctx) -> Refused | None:
    """`case.add_shipping_site`."""
    c, d = ctx.case, ctx.data
    if any(s.site_id == d.site_id for s in c.shipping_sites):
        return refuse("invalid", f"Shipping site {d.site_id} is already on this {ctx.lc.label}.")
    c.shipping_sites.append(ShippingSite(site_id=d.site_id, name=d.name, country=d.country))
    ctx.emit("case.shipping_site_added", site_id=d.site_id, name=d.name, country=d.country)
    return None


def add_team_member(ctx: Ctx) -> Refused | None:
    """`case.add_team_member`: person + role on the case team."""
    c, d = ctx.case, ctx.data
    if any(m.person_id == d.person_id and m.role == d.role for m in c.team):
        return refuse("invalid", f"{d.person_id} is already on the case team as {d.role}.")
    c.team.append(TeamMember(person_id=d.person_id, role=d.role))
    ctx.emit("case.team_member_added", person_id=d.person_id, role=d.role)
    return None


def record_assessment(ctx: Ctx) -> Refused | None:
    """`case.record_assessment`: the global feasibility conclusion."""
    ctx.case.feasibility_conclusion = ctx.data.feasibility_conclusion
    ctx.case.feasible = ctx.data.feasible
    _updated(ctx)
    return None


def resolve(ctx: Ctx) -> Refused | None:
    """`case.resolve`: fill resolution and/or date; `resolution_filled` fires afterwards."""
    if ctx.data.resolution is not None:
        ctx.case.resolution = ctx.data.resolution
    if ctx.data.resolution_date is not None:
        ctx.case.resolution_date = ctx.data.resolution_date
    _updated(ctx)
    return None


def record_satisfaction(ctx: Ctx) -> Refused | None:
    """`case.record_satisfaction`."""
    d = ctx.data
    ctx.case.customer_satisfaction = Satisfaction(score=d.score, feedback=d.feedback, recorded_by=ctx.actor.id, at=ctx.now)
    _updated(ctx)
    return None


def request_sample(ctx: Ctx) -> Refused | None:
    """`case.request_sample`: samples are recorded on an existing case, never as their own case."""
    d = ctx.data
    sample = SampleRequest(
        id=ctx.command_id, at=ctx.now, requested_by=ctx.actor.id, product_id=d.product_id, quantity=d.quantity,
        unit=d.unit, needed_by=d.needed_by, shipping_site=d.shipping_site, note=d.note,
    )
    ctx.case.sample_requests.append(sample)
    ctx.emit("case.sample_requested", sample_id=sample.id, **d.model_dump(include={"product_id", "quantity", "unit", "needed_by", "shipping_site"}))
    return None


def add_customer_message(ctx: Ctx) -> Refused | None:
    """`case.add_customer_message`: lands in the description information notes."""
    from_customer = "customer" in ctx.actor.roles
    ctx.case.description_notes.append(
        Note(id=ctx.command_id, at=ctx.now, author=ctx.actor.id, text=ctx.data.message, from_customer=from_customer)
    )
    ctx.emit("case.message_received", message=ctx.data.message, from_customer=from_customer)
    return None
