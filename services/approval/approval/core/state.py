"""The approval state of one case: its open step (if any) and every past step, as stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field

from approval.core.content import CaseContent

SlotStatus = Literal["pending", "approved", "rejected", "skipped"]
StepStatus = Literal["pending", "approved", "rejected", "recalled", "cancelled"]


class Slot(BaseModel):
    """One approver's part of a step: who the rule named, who acts for them, what they decided."""

    approver: str = Field(description="Person the rule named (or the manager reassigned it to).")
    acting: str | None = Field(None, description="Delegate, out-of-office stand-in or deputy deciding instead.")
    acting_reason: str | None = None
    escalated_to: str | None = Field(None, description="Escalation target, also eligible once escalated.")
    reassigned_from: str | None = None
    status: SlotStatus = "pending"
    decided_by: str | None = None
    comment: str | None = None
    decided_at: datetime | None = None

    @property
    def current(self) -> str:
        """The person asked to decide now."""
        return self.acting or self.approver

    @property
    def on_behalf_of(self) -> str | None:
        """The approver someone else decided for (delegate, stand-in, escalation target), else None."""
        return self.approver if self.decided_by and self.decided_by != self.approver else None

    def eligible(self) -> set[str]:
        """Everyone who may decide this part: approver, acting approver and escalation target."""
        return {p for p in (self.approver, self.acting, self.escalated_to) if p}


class Step(BaseModel):
    """One approval instance: a step opened when the case entered its pending status."""

    approval_id: str
    step: str
    rule_id: str
    rule_set_version: int
    mode: Literal["all", "first"]
    requested_by: str | None = None
    opened_at: datetime
    remind_at: datetime | None = None
    escalate_at: datetime | None = None
    escalate_to: dict[str, Any] | None = Field(None, description="The rule's PartyRef, kept so a restart needs no rules.")
    reminded: bool = False
    escalated: bool = False
    status: StepStatus = "pending"
    closed_at: datetime | None = None
    slots: list[Slot] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Still waiting for decisions."""
        return self.status == "pending"

    def next_due(self) -> datetime | None:
        """The next timer of an open step, or None."""
        if not self.is_open:
            return None
        if not self.reminded and self.remind_at:
            return self.remind_at
        return self.escalate_at if not self.escalated else None

    def pending_people(self) -> list[str]:
        """Everyone who may still decide (for out-of-office lookups)."""
        return sorted({p for s in self.slots if s.status == "pending" for p in s.eligible()})


class CaseApprovals(BaseModel):
    """Everything the approval service keeps about one case."""

    case_id: str
    case_type: str | None = None
    gbu: str | None = None
    account_id: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict, description="country, product_line: rule conditions.")
    content: CaseContent = Field(default_factory=CaseContent, description="What the approval page shows of the case.")
    current: Step | None = None
    history: list[Step] = Field(default_factory=list)

    def open_step(self, name: str | None = None) -> Step | None:
        """The open step (of that name, if given)."""
        step = self.current
        if step is None or not step.is_open or (name is not None and step.step != name):
            return None
        return step

    def step_of(self, approval_id: str) -> Step | None:
        """The step opened as `approval_id`, open or closed."""
        steps = ([self.current] if self.current else []) + self.history
        return next((s for s in steps if s.approval_id == approval_id), None)

    def past(self, name: str) -> Step | None:
        """The latest step of that name, open or closed."""
        steps = ([self.current] if self.current else []) + list(reversed(self.history))
        return next((s for s in steps if s.step == name), None)


@dataclass
class Absence:
    """A person out of office, and their stand-in (None = the rule set's deputy)."""

    person: str
    delegate: str | None
    start: datetime
    end: datetime

    def active(self, now: datetime) -> bool:
        """True during the period."""
        return self.start <= now < self.end


class Settled(NamedTuple):
    """A step's result for intake: decision, step, deciding person, comment, and every decision of the step."""

    decision: str
    step: str
    approver: str
    comment: str | None
    on_behalf_of: str | None = None
    decisions: tuple[dict[str, Any], ...] = ()


@dataclass
class Outcome:
    """What an operation changed: new state, events to publish and, when settled, the case decision."""

    state: CaseApprovals
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    settled: Settled | None = None


@dataclass
class Refused:
    """A command the approval service will not apply, and why."""

    code: str
    reason: str
