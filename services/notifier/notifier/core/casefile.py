"""The notifier's read model of a case: just enough to know who to tell (built from case events)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


def _actor_id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value if isinstance(value, str) else None


def apply(file: CaseFile | None, event_type: str, data: dict[str, Any]) -> CaseFile:
    """The case file after a case event (events of other types leave it as it was)."""
    current = file or CaseFile(case_id=str(data.get("case_id")))
    changes: dict[str, Any] = {}
    for key in ("case_type", "status"):
        if isinstance(data.get(key), str) and data[key]:
            changes[key] = data[key]
    if isinstance(data.get("version"), int) and data["version"] >= current.version:
        changes["version"] = data["version"]
    if event_type == "case.opened":
        case = data.get("case") if isinstance(data.get("case"), dict) else {}
        changes.update(subject=case.get("subject"), requester=_actor_id(case.get("created_by")),
                       assignee=case.get("assignee"))
        members = case.get("team") if isinstance(case.get("team"), list) else []
        team = {m["person_id"]: m.get("role", "") for m in members if isinstance(m, dict) and m.get("person_id")}
        changes["team"] = {**current.team, **team}
    elif event_type == "case.assigned":
        changes["assignee"] = data.get("assignee")
    elif event_type == "case.team_member_added" and data.get("person_id"):
        changes["team"] = {**current.team, data["person_id"]: data.get("role", "")}
    elif event_type == "case.updated":
        for change in data.get("changes") if isinstance(data.get("changes"), list) else []:
            if isinstance(change, dict) and change.get("field") == "subject":
                changes["subject"] = change.get("after")
    return current.model_copy(update=changes)
