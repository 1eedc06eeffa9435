"""Routing's commands as data: what a decision sends to intake, and what `rules.upsert` carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from routing.core.rule_models import ROUTING_ACTOR_ID
from shared.contract.envelope import Actor, CloudEvent, derived_id, new_event

SOURCE = "/services/routing"
ACTOR = {"id": ROUTING_ACTOR_ID, "roles": [ROUTING_ACTOR_ID]}
RULES_UPSERT, HANDOVER = "rules.upsert", "routing.handover"


class RulesUpsert(BaseModel):
    """`rules.upsert` data: a whole new rule set, put in force if valid and newer."""

    model_config = ConfigDict(extra="forbid")

    actor: Actor
    rules: dict = Field(description="The rule set, same shape as rules/routing_rules.yaml.")


class RulesDoc(BaseModel):
    """The rule set in force as stored: its version, the raw set, and the upsert that put it in force."""

    version: int
    raw: dict[str, Any]
    command_id: str | None = None


def assign_command(case_id: str, cause: CloudEvent, tag: str, *, assignee: str | None, queue: str | None,
                   comment: str) -> CloudEvent:
    """A `case.assign` for intake, its id derived from what caused it (a replay sends the same id)."""
    data: dict[str, Any] = {"actor": ACTOR, "comment": comment}
    if assignee:
        data["assignee"] = assignee
    if queue:
        data["queue"] = queue
    return new_event("case.assign", case_id, data, source=SOURCE, id_=derived_id(cause.id, tag), cause=cause)


def team_command(case_id: str, cause: CloudEvent, person_id: str, role: str) -> CloudEvent:
    """A `case.add_team_member` for intake, its id derived from what caused it."""
    data = {"actor": ACTOR, "person_id": person_id, "role": role}
    return new_event("case.add_team_member", case_id, data, source=SOURCE, id_=derived_id(cause.id, "team"), cause=cause)
