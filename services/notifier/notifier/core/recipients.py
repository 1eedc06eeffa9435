"""From an event and the case file to the people to tell, each with the role and template why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifier.core.casefile import CaseFile
from notifier.core.subscriptions import Rule, Subscriptions
from notifier.core.timeframe import ASSIGNEE_NAMED


@dataclass(frozen=True)
class Planned:
    """One notification to deliver: a person, why (role), and with which template."""

    recipient: str
    role: str
    template: str


def _people(role: str, rule: Rule, event_type: str, data: dict[str, Any], file: CaseFile | None) -> list[str]:
    if role == "approver":
        return [data["approver"]] if data.get("approver") else []
    if role == "escalated_to":
        return [data["escalated_to"]] if data.get("escalated_to") else []
    if role == "assignee":
        who = data.get("assignee") if event_type in ASSIGNEE_NAMED else (file.assignee if file else None)
        return [who] if who else []
    if role == "requester":
        return [file.requester] if file and file.requester else []
    if role == "case_team" and file:
        return [p for p, r in file.team.items() if rule.team_roles is None or r in rule.team_roles]
    return []


def _actor(data: dict[str, Any]) -> str | None:
    actor = data.get("actor")
    return actor.get("id") if isinstance(actor, dict) else None


def plan(subs: Subscriptions, event_type: str, data: dict[str, Any], file: CaseFile | None) -> list[Planned]:
    """Every (person, role, template) to notify; one per person, the first matching rule wins."""
    case_type = data.get("case_type") or (file.case_type if file else None)
    status = data.get("status") or (file.status if file else None)
    actor = _actor(data)
    chosen: dict[str, Planned] = {}
    for rule in subs.rules:
        if not rule.matches(event_type, case_type, status):
            continue
        for role in rule.notify:
            for person in _people(role, rule, event_type, data, file):
                # People are not told of what they did themselves, unless a rule says so.
                if person == actor and not rule.include_actor:
                    continue
                chosen.setdefault(person, Planned(person, role, rule.template))
    return list(chosen.values())
