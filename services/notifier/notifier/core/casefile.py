"""The notifier's read model of a case: just enough to know who to tell (built from case events)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shared.contract.events import EVENT_TYPES, CaseAssigned, CaseEvent, CaseOpened, CaseUpdated, TeamMemberAdded


class CaseFile(BaseModel):
    """Requester, assignee, team, type and subject of one case, as of the last applied event."""

    case_id: str
    case_type: str | None = None
    subject: str | None = None
    status: str | None = None
    version: int = 0
    requester: str | None = None
    assignee: str | None = None
    team: dict[str, str] = Field(default_factory=dict, description="Person id -> role on the case.")


def read_case_event(event_type: str, data: Any) -> CaseEvent:
    """The event's data as its contract model (shared/contract/events.py); ValidationError if it is not one."""
    model = EVENT_TYPES.get(event_type)
    return (model if model is not None and issubclass(model, CaseEvent) else CaseEvent).model_validate(data)


def _actor_id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value if isinstance(value, str) else None


def apply(file: CaseFile | None, event: CaseEvent) -> CaseFile:
    """The case file after a case event (an older version never moves the version back)."""
    current = file or CaseFile(case_id=event.case_id)
    changes: dict[str, Any] = {"case_type": event.case_type, "status": event.status}
    if event.version >= current.version:
        changes["version"] = event.version
    if isinstance(event, CaseOpened):
        case = event.case  # the intake case as JSON: a snapshot the contract does not model field by field
        changes.update(subject=case.get("subject"), requester=_actor_id(case.get("created_by")),
                       assignee=case.get("assignee"))
        members = case.get("team") if isinstance(case.get("team"), list) else []
        team = {m["person_id"]: m.get("role", "") for m in members if isinstance(m, dict) and m.get("person_id")}
        changes["team"] = {**current.team, **team}
    elif isinstance(event, CaseAssigned):
        changes["assignee"] = event.assignee
    elif isinstance(event, TeamMemberAdded):
        changes["team"] = {**current.team, event.person_id: event.role}
    elif isinstance(event, CaseUpdated):
        for change in event.changes:
            if change.field == "subject":
                changes["subject"] = change.after
    return current.model_copy(update=changes)


def moved_only(before: CaseFile, after: CaseFile) -> bool:
    """Whether `after` differs from `before` in nothing but status and version (nothing that decides who is told)."""
    return after.model_copy(update={"status": before.status, "version": before.version}) == before
