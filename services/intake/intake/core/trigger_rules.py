"""The trigger table's model: which triggers each command fires, under which declarative conditions."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from intake.core.case import Case
from shared.contract.commands import COMMAND_TYPES
from shared.contract.envelope import Actor
from shared.lifecycles import CASE_COMMANDS

# What a refusal says when a required trigger has no transition from the current status.
TRIGGER_PHRASES: dict[str, str] = {
    "opened": "be opened",
    "submitted": "be submitted",
    "submitted_by_sales_rep": "be submitted",
    "approval_approved": "be approved",
    "approval_rejected": "be rejected by an approver",
    "approval_recalled": "have its approval request recalled",
    "resolution_filled": "be resolved",
    "customer_message": "receive a customer message",
    "quote_requested": "get a quote request",
    "quote_sent": "have its quote sent",
    "order_placed": "have an order placed",
    "order_confirmed": "have its order confirmed",
    "assigned": "be assigned",
    "queued": "be sent to a queue",
}
KNOWN_TRIGGERS = frozenset(TRIGGER_PHRASES)
Scalar = str | int | float | bool | None
_MISSING = object()


class Alternative(BaseModel):
    """One trigger of a group and the conditions (all must hold) under which it is offered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: str
    creator_has_role: str | None = Field(None, min_length=1)
    actor_has_role: str | None = Field(None, min_length=1)
    data_equals: dict[str, Scalar] = Field(default_factory=dict)
    case_has: str | None = Field(None, min_length=1)
    case_lacks: str | None = Field(None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, raw: Any) -> Any:
        return {"trigger": raw} if isinstance(raw, str) else raw

    @field_validator("trigger")
    @classmethod
    def _known_trigger(cls, name: str) -> str:
        if name not in KNOWN_TRIGGERS:
            raise ValueError(f"unknown trigger {name!r} (known: {', '.join(sorted(KNOWN_TRIGGERS))})")
        return name

    @field_validator("case_has", "case_lacks")
    @classmethod
    def _case_attribute(cls, name: str | None) -> str | None:
        if name is not None and name not in Case.model_fields:
            raise ValueError(f"{name!r} is not an attribute of a case")
        return name

    @property
    def unconditional(self) -> bool:
        """True if the alternative has no condition at all."""
        return not (self.creator_has_role or self.actor_has_role or self.data_equals or self.case_has
                    or self.case_lacks)

    def holds(self, data: BaseModel, actor: Actor, case: Case) -> bool:
        """True if every condition holds for this command (`case` is the case after the command)."""
        return ((self.creator_has_role is None or self.creator_has_role in case.created_by.roles)
                and (self.actor_has_role is None or self.actor_has_role in actor.roles)
                and all(getattr(data, k, _MISSING) == v for k, v in self.data_equals.items())
                and (self.case_has is None or bool(getattr(case, self.case_has)))
                and (self.case_lacks is None or not getattr(case, self.case_lacks)))


class Group(BaseModel):
    """Alternatives tried in order (the first that can move the case wins); `required` refuses if none can."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_of: list[Alternative] = Field(min_length=1)
    required: bool = False

    def always_offers_one(self, data_model: type[BaseModel] | None) -> bool:
        """True if some alternative holds whatever happens: unconditional, or data_equals covering a Literal."""
        if any(a.unconditional for a in self.first_of):
            return True
        # e.g. one alternative per value of a Literal field (`decision`: approve | reject | recall).
        keys = {k for a in self.first_of for k in a.data_equals}
        if data_model is None or len(keys) != 1:
            return False
        key = keys.pop()
        field = data_model.model_fields.get(key)
        if field is None or typing.get_origin(field.annotation) is not typing.Literal:
            return False
        only_data = all(a.model_copy(update={"data_equals": {}}).unconditional for a in self.first_of)
        return only_data and set(typing.get_args(field.annotation)) <= {a.data_equals[key] for a in self.first_of}


class TriggerRules(BaseModel):
    """The whole table: groups per command type, then groups evaluated after every command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    commands: dict[str, list[Group]]
    every_command: list[Group] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> TriggerRules:
        problems: list[str] = []
        for command_type, groups in self.commands.items():
            if command_type not in CASE_COMMANDS:
                problems.append(f"commands.{command_type}: not a case command type")
                continue
            model = COMMAND_TYPES[command_type]
            for i, group in enumerate(groups):
                where = f"commands.{command_type}.{i}"
                for a in group.first_of:
                    problems += [f"{where}: {a.trigger}: data_equals names {k!r}, not a field of {command_type}"
                                 for k in a.data_equals if k not in model.model_fields]
                if group.required and not group.always_offers_one(model):
                    problems.append(f"{where}: a required group must always offer a trigger (add an "
                                    "unconditional alternative or cover every value of a data field)")
        for i, group in enumerate(self.every_command):
            if any(a.data_equals for a in group.first_of):
                problems.append(f"every_command.{i}: data_equals needs a command type")
            elif group.required and not group.always_offers_one(None):
                problems.append(f"every_command.{i}: a required group must always offer a trigger")
        if problems:
            raise ValueError("; ".join(problems))
        return self
