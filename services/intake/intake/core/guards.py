"""Named guards (predicates over a case) and effects (small mutations) used by lifecycle files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intake.core.case import Case
from shared.contract.envelope import Actor


@dataclass(frozen=True)
class Guard:
    """A predicate plus the sentence shown when it fails (`{label}` = case type label)."""

    check: Callable[[Case], bool]
    message: str


GUARDS: dict[str, Guard] = {
    "has_related_product": Guard(
        lambda c: c.related_product_count > 0,
        "Add at least one related product before submitting this {label} for approval.",
    ),
    "has_feasibility_conclusion": Guard(
        lambda c: bool(c.feasibility_conclusion),
        "Record the global feasibility conclusion (case.record_assessment) before the final submit of this {label}.",
    ),
    "has_resolution": Guard(
        lambda c: bool(c.resolution) and c.resolution_date is not None,
        "Fill both the resolution and the resolution date of this {label}.",
    ),
    "has_draft_quote": Guard(
        lambda c: c.quote is not None and c.quote.status == "draft",
        "There is no draft quote on this {label}: the customer's quote request creates one.",
    ),
    "has_order": Guard(
        lambda c: c.order is not None,
        "No order has been placed on this {label} yet.",
    ),
    "has_assignee": Guard(
        lambda c: c.assignee is not None,
        "This {label} has no responsible person.",
    ),
    "has_cause": Guard(
        lambda c: c.cause is not None,
        "Set the cause of this {label} (commercial, technical or logistics) first.",
    ),
}
"""Guard name -> guard; lifecycle files refer to guards by these names."""


def _assign_actor(case: Case, actor: Actor) -> None:
    # Opening an available case makes the person who opens it responsible for it.
    if case.assignee is None:
        case.assignee = actor.id


def _clear_assignee(case: Case, actor: Actor) -> None:
    case.assignee = None


EFFECTS: dict[str, Callable[[Case, Actor], None]] = {
    "assign_actor": _assign_actor,
    "clear_assignee": _clear_assignee,
}
"""Effect name -> mutation applied to the new case when a transition is taken."""
