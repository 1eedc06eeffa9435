"""The approval service's contract: commands on `approval.commands`, events on `approval.events`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.envelope import Actor

Decision = Literal["approve", "reject"]
StepOutcome = Literal["pending", "approved", "rejected"]


class _ApprovalCommand(BaseModel):
    """Base of every approval command payload."""

    model_config = ConfigDict(extra="forbid")

    actor: Actor = Field(description="Who sends the command (a person, or `system:<service>`).")


class ApprovalDecide(_ApprovalCommand):
    """`approval.decide`: an approver approves or rejects the open step of a case (subject = case id)."""

    case_id: str = Field(min_length=1, description="The case; must equal the envelope subject.")
    step: str = Field(min_length=1, description="Approval step decided, e.g. `approval`, `pre_approval`, `final_approval`.")
    decision: Decision = Field(description="`approve` or `reject`.")
    comment: str | None = Field(None, max_length=4000, description="The approver's comment, kept in the case's approval history.")
    token: str | None = Field(None, description="Link token from the e-mail, when the decision comes through the link.")


class ApprovalDelegate(_ApprovalCommand):
    """`approval.delegate`: an approver hands their pending part of the open step to another person."""

    step: str = Field(min_length=1, description="The open approval step.")
    to: str = Field(min_length=1, description="Person id who decides instead (the acting approver).")
    comment: str | None = Field(None, description="Why, for the record.")


class ApprovalRecall(_ApprovalCommand):
    """`approval.recall`: the submitter withdraws the pending approval request."""

    step: str | None = Field(None, description="The open step; any open step when omitted.")
    comment: str | None = Field(None, description="Why it is withdrawn.")


class ApprovalReassign(_ApprovalCommand):
    """`approval.reassign`: a manager (or an admin) moves one approver's part of the open step to someone else."""

    step: str = Field(min_length=1, description="The open approval step.")
    from_person: str = Field(alias="from", min_length=1, description="Person id whose part is moved.")
    to: str = Field(min_length=1, description="Person id who becomes the approver.")
    comment: str | None = Field(None, description="Why, for the record.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ApprovalSetOutOfOffice(_ApprovalCommand):
    """`approval.set_out_of_office` (subject = person id): who stands in for a person during a period."""

    person: str = Field(min_length=1, description="Person who is away; must equal the envelope subject.")
    delegate: str | None = Field(None, description="Stand-in; the rule set's deputy of the person when omitted.")
    start: datetime = Field(description="Start of the absence (timezone-aware).")
    end: datetime = Field(description="End of the absence (timezone-aware, after start).")
    comment: str | None = Field(None, description="Shown in the record of delegated steps.")


class RulesUpsert(_ApprovalCommand):
    """`rules.upsert` (subject = `approval-rules`): replace the whole approval rule set; its version must increase.

    Only holders of a `rule_editors` role of the rule set in force may send it.
    """

    rule_set: dict[str, Any] = Field(description="The whole rule set, as in `approval_rules.yaml`.")


APPROVAL_COMMAND_TYPES: dict[str, type[BaseModel]] = {
    "approval.decide": ApprovalDecide,
    "approval.delegate": ApprovalDelegate,
    "approval.recall": ApprovalRecall,
    "approval.reassign": ApprovalReassign,
    "approval.set_out_of_office": ApprovalSetOutOfOffice,
    "rules.upsert": RulesUpsert,
}
"""Approval command type -> model of its `data`."""


class _CaseApprovalEvent(BaseModel):
    """Common fields of approval events about a case."""

    case_id: str = Field(description="The case (also the envelope subject and Kafka key).")
    approval_id: str = Field(description="Id of the approval instance (one per step opened).")
    step: str = Field(description="Approval step.")


class ApprovalRequested(_CaseApprovalEvent):
    """`approval.requested`: a person is asked to decide a step (one event per approver)."""

    case_type: str = Field(description="Case type.")
    gbu: str = Field(description="Global business unit of the case.")
    account_id: str | None = Field(None, description="Account of the case.")
    approver: str = Field(description="Person id who must now decide (the acting approver).")
    on_behalf_of: str | None = Field(None, description="Original approver when `approver` stands in for them.")
    token: str = Field(description="Signed link token of this approver for this step.")
    link: str = Field(description="Absolute URL where the approver decides: `<public_base_url>/approvals/<token>`.")
    due_at: datetime | None = Field(None, description="Reminder deadline (business hours of the GBU calendar).")
    rule_set_version: int = Field(description="Version of the rule set that chose the approver.")
    rule_id: str = Field(description="Rule that matched.")
    mode: Literal["all", "first"] = Field(description="`all`: every approver must approve; `first`: the first answer decides.")
    requested_by: str | None = Field(None, description="Person who submitted the case for approval.")


class ApprovalDecided(_CaseApprovalEvent):
    """`approval.decided`: an approver decided (or the step was settled by another's answer)."""

    approver: str = Field(description="Approver the rule named.")
    acting_approver: str = Field(description="Person who actually decided (the approver, their delegate or stand-in).")
    decision: Decision = Field(description="`approve` or `reject`.")
    comment: str | None = Field(None, description="The comment given.")
    decided_at: datetime = Field(description="When the decision was taken.")
    step_outcome: StepOutcome = Field(description="The step after this decision: still pending, approved or rejected.")
    rule_set_version: int = Field(description="Version of the rule set of this step.")
    rule_id: str = Field(description="Rule that matched.")


class ApprovalReminder(_CaseApprovalEvent):
    """`approval.reminder`: a pending approver passed the reminder deadline."""

    approver: str = Field(description="Person reminded (the acting approver).")
    link: str = Field(description="Where to decide.")
    due_at: datetime = Field(description="The reminder deadline that passed.")
    escalate_at: datetime | None = Field(None, description="When it escalates if still pending.")


class ApprovalEscalated(_CaseApprovalEvent):
    """`approval.escalated`: a pending step passed its escalation deadline; the target may now decide."""

    approver: str = Field(description="The approver who did not answer.")
    escalated_to: str = Field(description="Person the step is escalated to (now also an eligible approver).")
    link: str = Field(description="Link for `escalated_to`.")
    token: str = Field(description="Link token for `escalated_to`.")
    due_at: datetime = Field(description="The escalation deadline that passed.")


class ApprovalDelegated(_CaseApprovalEvent):
    """`approval.delegated`: a pending part of a step now goes to another person (delegation or out of office)."""

    approver: str = Field(description="Original approver.")
    acting_approver: str = Field(description="Person who decides instead.")
    reason: Literal["delegated", "out_of_office", "deputy"] = Field(description="Why.")
    comment: str | None = Field(None, description="Comment given.")
    link: str = Field(description="Link for the acting approver.")


class ApprovalReassigned(_CaseApprovalEvent):
    """`approval.reassigned`: a manager moved an approver's part of the step to another person."""

    from_person: str = Field(alias="from", description="Previous approver.")
    to: str = Field(description="New approver.")
    by: str = Field(description="Who moved it.")
    comment: str | None = Field(None, description="Comment given.")
    link: str = Field(description="Link for the new approver.")

    model_config = ConfigDict(populate_by_name=True)


class ApprovalRecalled(_CaseApprovalEvent):
    """`approval.recalled`: the submitter withdrew the request; nobody may decide the step any more."""

    by: str = Field(description="Who recalled it.")
    comment: str | None = Field(None, description="Why.")


class ApprovalCancelled(_CaseApprovalEvent):
    """`approval.cancelled`: the case left the pending status by another way (e.g. closed); the step is void."""

    case_status: str = Field(description="The status the case moved to.")


class RulesUpdated(BaseModel):
    """`approval.rules_updated`: a new approval rule set is in force."""

    version: int = Field(description="Version now in force.")
    previous_version: int | None = Field(None, description="Version it replaced.")
    rule_count: int = Field(description="Number of rules.")
    by: str = Field(description="Who sent it.")


class RulesRefused(BaseModel):
    """`approval.rules_refused`: a rule set was refused; the version in force is unchanged."""

    version: int | None = Field(None, description="Version of the refused set, when readable.")
    version_in_force: int = Field(description="Version that stays in force.")
    reasons: list[str] = Field(description="Every problem found, one sentence each.")
    by: str | None = Field(None, description="Who sent it.")


APPROVAL_EVENT_TYPES: dict[str, type[BaseModel]] = {
    "approval.requested": ApprovalRequested,
    "approval.decided": ApprovalDecided,
    "approval.reminder": ApprovalReminder,
    "approval.escalated": ApprovalEscalated,
    "approval.delegated": ApprovalDelegated,
    "approval.reassigned": ApprovalReassigned,
    "approval.recalled": ApprovalRecalled,
    "approval.cancelled": ApprovalCancelled,
    "approval.rules_updated": RulesUpdated,
    "approval.rules_refused": RulesRefused,
}
"""Approval event type -> model of its `data`."""

RULES_SUBJECT = "approval-rules"
"""Envelope subject (and Kafka key) of `rules.upsert` and the rules events."""
