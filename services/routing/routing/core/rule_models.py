"""The routing rule set's models: rules, queues and permissions, as plain validated data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ROUTING_ACTOR_ID = "system:routing"
MATCH_KEYS = ("gbu", "account_id", "country", "product_line", "cause")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Conditions on the case; a missing one matches anything."""

    gbu: str | None = None
    account_id: str | None = None
    country: str | None = None
    product_line: str | None = None
    cause: str | None = None

    def given(self) -> dict[str, str]:
        """The conditions set, in a fixed order."""
        return {k: v for k in MATCH_KEYS if (v := getattr(self, k)) is not None}


class Target(_Strict):
    """Who gets the case (one of person / role / group / account_owner) and/or which queue holds it."""

    person: str | None = None
    role: str | None = None
    group: str | None = None
    account_owner: bool = False
    queue: str | None = None

    def who(self) -> list[str]:
        """The kinds of assignee given (valid sets have at most one)."""
        return [k for k in ("person", "role", "group") if getattr(self, k)] + (["account_owner"] if self.account_owner else [])


class Rule(_Strict):
    """One routing rule: for a case type `at` a trigger (`opened` or a status entered), matching `match`, route `to`."""

    id: str = Field(min_length=1)
    case_type: str
    at: str = Field(min_length=1, description="`opened`, or the status the case enters.")
    match: Match = Field(default_factory=Match)
    to: Target = Field(default_factory=Target)
    fallback: bool = False
    team_role: str | None = None
    description: str = ""

    @property
    def specificity(self) -> int:
        """How many conditions the rule sets: the most specific matching rule wins."""
        return len(self.match.given())


class QueueDef(_Strict):
    """A queue: the groups that work it and the case types it holds."""

    groups: list[str] = Field(min_length=1)
    case_types: list[str] = Field(default_factory=list)
    description: str = ""


class Permissions(_Strict):
    """Roles allowed to send routing's own commands."""

    rules_upsert: list[str] = Field(default_factory=lambda: ["admin"])
    handover: list[str] = Field(default_factory=lambda: ["admin"])


class RuleSet(_Strict):
    """A whole, versioned rule set."""

    version: int = Field(ge=1)
    permissions: Permissions = Field(default_factory=Permissions)
    queues: dict[str, QueueDef] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    def candidates(self, case_type: str, at: str) -> list[Rule]:
        """The rules of one case type and trigger, in file order."""
        return [r for r in self.rules if r.case_type == case_type and r.at == at]

    def queues_of(self, groups: list[str]) -> list[str]:
        """Queues worked by any of `groups`."""
        return sorted(name for name, q in self.queues.items() if set(q.groups) & set(groups))
