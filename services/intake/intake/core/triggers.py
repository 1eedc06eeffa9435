"""Which named automatic triggers a command fires (the lifecycle decides what they do), read from data."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from intake.core.case import Case
from intake.core.loader import load_trigger_rules
from intake.core.trigger_rules import KNOWN_TRIGGERS, TRIGGER_PHRASES, TriggerRules
from shared.contract.envelope import Actor

__all__ = ["KNOWN_TRIGGERS", "TRIGGER_PHRASES", "TriggerGroup", "triggers_for"]


@dataclass(frozen=True)
class TriggerGroup:
    """Alternative triggers: the first with an applicable transition wins; `required` refuses if none."""

    names: tuple[str, ...]
    required: bool = False


def triggers_for(command_type: str, data: BaseModel, actor: Actor, case: Case,
                 rules: TriggerRules | None = None) -> list[TriggerGroup]:
    """Trigger groups fired by an accepted command, in order, given the case after the command."""
    table = rules or load_trigger_rules()
    groups: list[TriggerGroup] = []
    for group in [*table.commands.get(command_type, []), *table.every_command]:
        names = tuple(a.trigger for a in group.first_of if a.holds(data, actor, case))
        # The loader guarantees a required group always offers one; an optional one may offer none.
        if names:
            groups.append(TriggerGroup(names, group.required))
    return groups
