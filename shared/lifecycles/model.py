"""The lifecycle of a case type (one YAML file each) as pydantic models: the file's schema.

What the schema cannot say (statuses that exist, closing reasons that lead to closed statuses...) is
checked by `checks.check_lifecycle`, which the loader runs on every file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_CODE = r"^[a-z][a-z0-9_]*$"


def expand_role_groups(raw: Any) -> Any:
    """Replace `@group` in roles lists by the group's roles (keeps the YAML short)."""
    if not isinstance(raw, dict):
        return raw
    groups = raw.get("role_groups") or {}

    def expand(roles: list[str]) -> list[str]:
        out: list[str] = []
        for r in roles or []:
            if isinstance(r, str) and r.startswith("@"):
                if r[1:] not in groups:
                    raise ValueError(f"unknown role group {r}")
                out += groups[r[1:]]
            else:
                out.append(r)
        return out

    for t in raw.get("transitions") or []:
        if isinstance(t, dict) and "roles" in t:
            t["roles"] = expand(t["roles"])
    for rule in (raw.get("commands") or {}).values():
        if isinstance(rule, dict) and "roles" in rule:
            rule["roles"] = expand(rule["roles"])
    return raw


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Status(_Strict):
    """One status: code, label, category; locked statuses accept only `accepts` commands.

    What the customer portal shows for it is portal-sync's `portal_mapping.yaml`, not a field here.
    """

    code: str = Field(pattern=_CODE)
    label: str
    category: Literal["open", "pending", "closed"]
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
    # Set at case.open when the command leaves the field out: the GBU's own value first, else `default`.
    default: Any = None
    default_by_gbu: dict[str, Any] = Field(default_factory=dict)

    def default_for(self, gbu: str) -> Any:
        """The value a new case of this GBU gets when the field is not given (None: none)."""
        return self.default_by_gbu.get(gbu, self.default)


class Section(_Strict):
    """A record section: case attributes or `fields.<name>` shown together."""

    code: str = Field(pattern=_CODE)
    label: str
    fields: list[str]


class Queue(_Strict):
    """A queue (pile of available cases) this case type may be sent to; `gbus` empty = every GBU."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    label: str
    gbus: list[str] = Field(default_factory=list)

    def takes(self, gbu: str) -> bool:
        """True if a case of this GBU may be in this queue."""
        return not self.gbus or gbu in self.gbus


class Advice(_Strict):
    """An advisory note (not a refusal) kept on a case while it is in `statuses` and guard `unless` fails."""

    code: str = Field(pattern=_CODE)
    message: str
    statuses: list[str] = Field(min_length=1)
    unless: str = Field(min_length=1)


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
    queues: list[Queue] = Field(default_factory=list)
    advice: list[Advice] = Field(default_factory=list)
    # Named effects (intake's vocabulary) applied to every new case of this type, e.g. `draft_quote`.
    on_open: list[str] = Field(default_factory=list)
    # Command types deliberately not accepted, with the sentence the refusal gives instead of a generic one.
    refused_commands: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _expand_role_groups(cls, raw: Any) -> Any:
        return expand_role_groups(raw)

    @property
    def a_label(self) -> str:
        """The label with its article, for sentences: 'an Order', 'a Claim'."""
        return f"{'an' if self.label[0] in 'AEIOU' else 'a'} {self.label}"

    @property
    def a_label_cap(self) -> str:
        """`a_label` at the start of a sentence."""
        return self.a_label[0].upper() + self.a_label[1:]

    def queue(self, code: str) -> Queue | None:
        """The queue with this code, or None."""
        return next((q for q in self.queues if q.code == code), None)

    def status(self, code: str) -> Status | None:
        """The status with this code, or None."""
        return next((s for s in self.statuses if s.code == code), None)

    def automatic(self, from_status: str, trigger: str) -> list[Transition]:
        """Automatic transitions leaving `from_status` on `trigger`, in file order."""
        return [t for t in self.transitions if t.mode == "automatic" and t.trigger == trigger and from_status in t.from_]

    def manual(self, from_status: str, to_status: str) -> Transition | None:
        """The manual transition from -> to, or None."""
        return next((t for t in self.transitions if t.mode == "manual" and t.to == to_status and from_status in t.from_), None)

