"""The approval rule set as data: calendars, GBUs, deputies, escalation chain and per-case-type rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.calendars import Calendar

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "rules" / "approval_rules.yaml"
# Specificity weights: an account rule beats a product-line rule beats a country rule beats a GBU rule.
WEIGHTS = {"account_id": 8, "product_line": 4, "country": 2, "gbu": 1}


class RuleSetError(ValueError):
    """A rule set that must not be put in force; `reasons` lists every problem, one sentence each."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyRef(_Strict):
    """One of: a person, everyone holding a role, everyone in a group, or the approver's manager."""

    person: str | None = None
    role: str | None = None
    group: str | None = None
    manager: bool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "PartyRef":
        given = [k for k in ("person", "role", "group", "manager") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("name exactly one of person, role, group or manager: true")
        return self

    def describe(self) -> str:
        """`person peter`, `role quality`, `group x` or `the manager`."""
        return "the manager" if self.manager else next(f"{k} {getattr(self, k)}" for k in ("person", "role", "group") if getattr(self, k))


class StepRule(_Strict):
    """Who approves one step, how many must answer, and its deadlines in business hours."""

    approvers: list[PartyRef] = Field(default_factory=list)
    mode: Literal["all", "first"] = "first"
    remind_after_hours: float = Field(8, gt=0)
    escalate_after_hours: float | None = Field(None, gt=0)
    escalate_to: PartyRef | None = None

    @model_validator(mode="after")
    def _deadlines(self) -> "StepRule":
        if self.escalate_after_hours is not None and self.escalate_after_hours <= self.remind_after_hours:
            raise ValueError("escalate_after_hours must be later than remind_after_hours")
        if self.escalate_after_hours is not None and self.escalate_to is None:
            raise ValueError("escalate_after_hours needs an escalate_to")
        return self


class Rule(_Strict):
    """Approval steps for a case type, optionally narrowed to a GBU, account, country or product line."""

    id: str = Field(min_length=1)
    case_type: str
    gbu: str | None = None
    account_id: str | None = None
    country: str | None = None
    product_line: str | None = None
    steps: dict[str, StepRule] = Field(min_length=1)

    @property
    def specificity(self) -> int:
        """Sum of the weights of the conditions it names (0 = fallback)."""
        return sum(w for k, w in WEIGHTS.items() if getattr(self, k) not in (None, "*"))

    def matches(self, facts: dict[str, Any]) -> bool:
        """True when every condition it names equals the case's fact."""
        return all(getattr(self, k) in (None, "*") or getattr(self, k) == facts.get(k) for k in WEIGHTS)


class GbuSettings(_Strict):
    """Per-GBU settings."""

    calendar: str


class RuleSet(_Strict):
    """A whole, versioned rule set."""

    version: int = Field(ge=1)
    calendars: dict[str, Calendar] = Field(min_length=1)
    gbus: dict[str, GbuSettings] = Field(default_factory=dict)
    deputies: dict[str, str] = Field(default_factory=dict)
    escalation_chain: dict[str, str] = Field(default_factory=dict)
    reassigners: list[str] = Field(default_factory=list)
    rule_editors: list[str] = Field(default_factory=lambda: ["admin"], description="Roles that may send rules.upsert.")
    rules: list[Rule] = Field(min_length=1)

    def calendar_for(self, gbu: str) -> Calendar:
        """The GBU's calendar, else the `default` GBU's, else the first calendar."""
        entry = self.gbus.get(gbu) or self.gbus.get("default")
        return self.calendars[entry.calendar] if entry else next(iter(self.calendars.values()))

    def match(self, case_type: str, step: str, facts: dict[str, Any]) -> Rule | None:
        """The most specific rule for the case that defines `step` (file order breaks ties)."""
        candidates = [r for r in self.rules if r.case_type == case_type and step in r.steps and r.matches(facts)]
        return max(candidates, key=lambda r: r.specificity, default=None)  # max keeps the first of equals


def parse_rule_set(raw: Any) -> RuleSet:
    """A RuleSet from plain data; schema problems raise RuleSetError with one sentence per field."""
    if not isinstance(raw, dict):
        raise RuleSetError(["a rule set must be a mapping"])
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise RuleSetError([f"{'.'.join(str(p) for p in e['loc']) or 'rule set'}: {e['msg']}" for e in exc.errors()]) from None


def load_rule_file(path: Path | str | None = None) -> dict[str, Any]:
    """The raw rule set of a YAML file (the packaged one by default)."""
    return yaml.safe_load(Path(path or DEFAULT_FILE).read_text(encoding="utf-8"))
