"""Who is told of what: the subscriptions file (data) and its loader, which refuses what cannot work."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "subscriptions.yaml"

ROLES: dict[str, str] = {
    "approver": "The person an approval step waits for (`approver` of the approval event).",
    "assignee": "The responsible person: the assignee named by `case.assigned` / `timeframe.reminded`, "
                "else the case's current one.",
    "requester": "Who opened the case (`created_by` of `case.opened`).",
    "case_team": "Every member of the case team (optionally only some team roles).",
    "escalated_to": "The person an approval step or an overdue case was escalated to.",
}
"""Recipient roles the code knows how to resolve; a file naming any other is refused."""


class Rule(BaseModel):
    """One subscription: on this event (optionally only for some case types / statuses) tell these roles."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, description="Event type, e.g. `case.assigned`, `approval.requested`.")
    notify: list[str] = Field(min_length=1, description="Recipient roles.")
    template: str = Field(min_length=1, description="Template name (templates/<name>.txt.j2 and .html.j2).")
    case_types: list[str] | None = Field(None, description="Only for these case types.")
    statuses: list[str] | None = Field(None, description="Only when the case's status after the event is one of these.")
    team_roles: list[str] | None = Field(None, description="For `case_team`: only members with these roles.")
    include_actor: bool = Field(False, description="Also tell the person who caused the event.")

    @field_validator("notify")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown recipient role(s) {unknown}; known: {sorted(ROLES)}")
        return roles

    def matches(self, event_type: str, case_type: str | None, status: str | None) -> bool:
        """True when this rule applies to such an event."""
        return (event_type == self.event
                and (self.case_types is None or case_type in self.case_types)
                and (self.statuses is None or status in self.statuses))


class Subscriptions(BaseModel):
    """All rules, in file order (the first rule naming a recipient for an event decides its template)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    rules: list[Rule]

    def event_types(self) -> set[str]:
        """Every event type some rule listens to."""
        return {r.event for r in self.rules}


def load_subscriptions(path: str | Path | None = None, templates: Iterable[str] | None = None) -> Subscriptions:
    """Read and check the file; a rule naming a template not in `templates` is refused."""
    file = Path(path or DEFAULT_FILE)
    subs = Subscriptions.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
    if templates is not None:
        known = set(templates)
        missing = sorted({r.template for r in subs.rules} - known)
        if missing:
            raise ValueError(f"{file}: unknown template(s) {missing}; known: {sorted(known)}")
    return subs
