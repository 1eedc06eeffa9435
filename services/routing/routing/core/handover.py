"""Hand-over (seed 004: a salesperson going on holiday gives their cases to a colleague): checks and plan."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from routing.core.rule_models import RuleSet
from routing.core.view import CaseView
from shared.contract.envelope import Actor
from shared.directory import Directory


class Handover(BaseModel):
    """`routing.handover` data: move every open case of one person to another."""

    model_config = ConfigDict(extra="forbid")

    actor: Actor
    from_person: str = Field(min_length=1, description="Whose open cases move.")
    to_person: str = Field(min_length=1, description="Who takes them.")
    case_types: list[str] | None = Field(None, description="Only cases of these types (default: all).")
    comment: str | None = Field(None, description="Why, e.g. 'holiday until 2026-12-01'.")


def refusal(h: Handover, rules: RuleSet, directory: Directory, known_types: set[str]) -> tuple[str, str] | None:
    """(code, reason) when the hand-over may not happen, else None."""
    source, target = directory.get(h.from_person), directory.get(h.to_person)
    if source is None:
        return "not_found", f"{h.from_person} is not in the people directory."
    if target is None:
        return "not_found", f"{h.to_person} is not in the people directory."
    if h.from_person == h.to_person:
        return "invalid", "A hand-over needs two different people."
    unknown = sorted(set(h.case_types or []) - known_types)
    if unknown:
        return "invalid", f"Unknown case type(s): {', '.join(unknown)}."
    allowed_roles = set(rules.permissions.handover)
    if h.actor.id not in (h.from_person, source.manager) and not allowed_roles & set(h.actor.roles):
        return "forbidden", (f"Only {h.from_person}, their manager or a holder of "
                             f"{', '.join(sorted(allowed_roles))} may hand over {h.from_person}'s cases.")
    return None


def note(h: Handover, case: CaseView) -> str:
    """The comment intake keeps with each moved case."""
    why = f" ({h.comment})" if h.comment else ""
    return f"hand-over of {h.from_person}'s open cases to {h.to_person} by {h.actor.id}{why}: {case.case_type} {case.case_id}"
