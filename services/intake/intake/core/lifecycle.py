"""Lifecycle files (one YAML per case type) as validated pydantic models, and their loader."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from intake.core.case import Case
from shared.contract.commands import COMMAND_TYPES

CASE_COMMANDS = frozenset(t for t in COMMAND_TYPES if t.startswith("case."))
_CODE = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Status(_Strict):
    """One status: code, label, category; locked statuses accept only `accepts` commands."""

    code: str = Field(pattern=_CODE)
    label: str
    category: Literal["open", "pending", "closed"]
    portal_label: str | None = None
    locked: bool = False
    accepts: list[str] = Field(default_factory=list)
    approval_step: str | None = None

    @property
    def is_closed(self) -> bool:
        """Closed statuses are always locked (only `accepts` commands pass)."""
        return self.category == "closed"


class Transition(_Strict):
    """An allowed move; manual ones list roles, automatic ones name their trigger."""

    from_: list[str] = Field(alias="from")
    to: str
    mode: Literal["manual", "automatic"]
    roles: list[str] = Field(default_factory=list)
    trigger: str | None = None
    guards: list[str] = Field(default_factory=list)
    effects: list[str] = Field(default_factory=list)
    reopen: bool = False

    @field_validator("from_", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class CommandRule(_Strict):
    """Who may send a command type to this case type, and in which statuses (None = any)."""

    roles: list[str] = Field(default_factory=lambda: ["*"])
    statuses: list[str] | None = None


class Closing(_Strict):
    """Closing rules: reason -> closed status; which reasons need `duplicate_of`."""

    reason_required: bool = True
    default_reason: str | None = None
    reasons: dict[str, str]
    duplicate_reasons: list[str] = Field(default_factory=list)


class FieldSpec(_Strict):
    """A type-specific field (stored in `case.fields`)."""

    name: str = Field(pattern=_CODE)
    label: str
    type: Literal["string", "text", "number", "integer", "boolean", "date", "enum"]
    required: bool = False
    min: float | None = None
    max: float | None = None
    values: list[str] = Field(default_factory=list)


class Section(_Strict):
    """A record section: case attributes or `fields.<name>` shown together."""

    code: str = Field(pattern=_CODE)
    label: str
    fields: list[str]


class Lifecycle(_Strict):
    """The whole lifecycle of one case type."""

    case_type: str = Field(pattern=_CODE)
    label: str
    description: str = ""
    initial_status: str
    role_groups: dict[str, list[str]] = Field(default_factory=dict)
    statuses: list[Status]
    transitions: list[Transition]
    commands: dict[str, CommandRule]
    closing: Closing
    causes: list[str] = Field(default_factory=list)
    fields: list[FieldSpec] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _expand_role_groups(cls, raw: Any) -> Any:
        from intake.core.lifecycle_checks import expand_role_groups

        return expand_role_groups(raw)

    @model_validator(mode="after")
    def _consistent(self) -> "Lifecycle":
        from intake.core.lifecycle_checks import check_lifecycle

        problems = check_lifecycle(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def a_label(self) -> str:
        """The label with its article, for sentences: 'an Order', 'a Claim'."""
        return f"{'an' if self.label[0] in 'AEIOU' else 'a'} {self.label}"

    @property
    def a_label_cap(self) -> str:
        """`a_label` at the start of a sentence."""
        return self.a_label[0].upper() + self.a_label[1:]

    def status(self, code: str) -> Status | None:
        """The status with this code, or None."""
        return next((s for s in self.statuses if s.code == code), None)

    def automatic(self, from_status: str, trigger: str) -> list[Transition]:
        """Automatic transitions leaving `from_status` on `trigger`, in file order."""
        return [t for t in self.transitions if t.mode == "automatic" and t.trigger == trigger and from_status in t.from_]

    def manual(self, from_status: str, to_status: str) -> Transition | None:
        """The manual transition from -> to, or None."""
        return next((t for t in self.transitions if t.mode == "manual" and t.to == to_status and from_status in t.from_), None)


def field_known(lifecycle: Lifecycle, ref: str) -> bool:
    """True if a section reference names a Case attribute or a declared type-specific field."""
    if ref.startswith("fields."):
        return any(f.name == ref[7:] for f in lifecycle.fields)
    return ref in Case.model_fields

