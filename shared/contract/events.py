"""Data models of the events intake publishes (CloudEvent `data` per `type`).

Every case event carries the case's identity (`case_id`, `case_type`, `gbu`, `account_id`),
its `status` and `version` AFTER the command that produced it (all events of one command
share them) and the `actor` who asked. Consumers may rely on `version` to drop stale events.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.commands import SapCodes
from shared.contract.envelope import Actor


class CaseEvent(BaseModel):
    """Fields common to every case event."""

    model_config = ConfigDict(populate_by_name=True)

    case_id: str = Field(description="Case id (also the envelope subject and Kafka key).")
    case_type: str = Field(description="Case type (lifecycle name).")
    gbu: str = Field(description="Global business unit of the case.")
    account_id: str = Field(description="Account the case is about.")
    status: str = Field(description="Case status after the command.")
    version: int = Field(ge=1, description="Case version after the command.")
    actor: Actor = Field(description="Who asked for the command.")


class FieldChange(BaseModel):
    """One changed field: dotted path with its old and new value."""

    field: str = Field(description="Dotted field path, e.g. `subject`, `fields.expected_revenue`.")
    before: Any = Field(None, description="Value before (JSON).")
    after: Any = Field(None, description="Value after (JSON).")


class CaseOpened(CaseEvent):
    """`case.opened`: a case was created."""

    case: dict[str, Any] = Field(description="Snapshot of the whole new case (the intake Case model as JSON).")


class CaseUpdated(CaseEvent):
    """`case.updated`: descriptive fields changed (update, resolve, assessment, satisfaction)."""

    command_type: str = Field(description="Command that changed them.")
    changes: list[FieldChange] = Field(default_factory=list, description="What changed.")


class CaseStatusChanged(CaseEvent):
    """`case.status_changed`: the case moved from one status to another."""

    from_status: str = Field(alias="from", description="Status before this transition.")
    to: str = Field(description="Status after this transition.")
    trigger: Literal["manual", "automatic"] = Field(description="Manual status change or automatic (fired by a named trigger).")
    trigger_name: str | None = Field(None, description="Name of the automatic trigger, e.g. `submitted`, `approval_approved`.")
    category: Literal["open", "pending", "closed"] = Field(description="Category of the new status.")
    label: str = Field(description="Display label of the new status.")
    approval_step: str | None = Field(None, description="Set when the new status awaits an approval: the step to approve.")


class CaseAssigned(CaseEvent):
    """`case.assigned`: responsible person and/or queue changed."""

    assignee: str | None = Field(None, description="New responsible person (null = nobody).")
    queue: str | None = Field(None, description="New queue.")
    previous_assignee: str | None = Field(None, description="Previous responsible person.")
    previous_queue: str | None = Field(None, description="Previous queue.")
    comment: str | None = Field(None, description="Why, e.g. the routing rule that matched.")


class CaseClosed(CaseEvent):
    """`case.closed`: the case reached a closed status."""

    reason: str = Field(description="Closing reason.")
    duplicate_of: str | None = Field(None, description="Original case when closed as duplicate.")
    comment: str | None = Field(None, description="Closing comment.")


class ProductChanged(CaseEvent):
    """`case.product_added` / `case.product_removed`."""

    product_id: str = Field(description="Product code.")
    name: str | None = Field(None, description="Product name.")
    related_product_count: int = Field(description="Number of related products after the change.")


class AccountAdded(CaseEvent):
    """`case.account_added`: an additional account was associated."""

    added_account_id: str = Field(description="The associated account.")
    name: str | None = Field(None, description="Its name.")


class ShippingSiteAdded(CaseEvent):
    """`case.shipping_site_added`."""

    site_id: str = Field(description="Shipping site id.")
    name: str | None = Field(None, description="Site name.")
    country: str | None = Field(None, description="Country code.")


class TeamMemberAdded(CaseEvent):
    """`case.team_member_added`."""

    person_id: str = Field(description="Person added to the case team.")
    role: str = Field(description="Their role on the case.")


class SampleRequested(CaseEvent):
    """`case.sample_requested`: a sample request was recorded on the case."""

    sample_id: str = Field(description="Id of the sample request (the command id).")
    product_id: str = Field(description="Product to sample.")
    quantity: float = Field(description="Quantity.")
    unit: str = Field(description="Unit.")
    needed_by: date | None = Field(None, description="Needed-by date.")
    shipping_site: str | None = Field(None, description="Where to ship.")


class MessageReceived(CaseEvent):
    """`case.message_received`: a customer message was added."""

    message: str = Field(description="Message text.")
    from_customer: bool = Field(description="True when the actor holds the `customer` role.")


class ApprovalRecorded(CaseEvent):
    """`case.approval_recorded`: an approval decision was recorded."""

    step: str = Field(description="Approval step.")
    decision: Literal["approve", "reject", "recall"] = Field(description="Decision (recall: the submitter withdrew).")
    approver: str = Field(description="Who decided.")
    comment: str | None = Field(None, description="Comment.")


class QuoteChanged(CaseEvent):
    """`case.quote_requested` / `case.quote_sent`."""

    quote_status: Literal["draft", "sent"] = Field(description="Quote status after the command.")
    revision: int = Field(description="Quote revision (1 for the first request).")
    quote_reference: str | None = Field(None, description="ERP quote number, once sent.")
    amount: float | None = Field(None, description="Quoted total, once sent.")
    currency: str | None = Field(None, description="Currency.")


class OrderChanged(CaseEvent):
    """`case.order_placed` / `case.order_confirmed`."""

    order_reference: str = Field(description="Order number.")
    order_status: Literal["placed", "confirmed"] = Field(description="Order status after the command.")


class CaseAdvice(CaseEvent):
    """`case.advice`: an advisory note on the case (not a refusal), raised again by each change while it applies."""

    code: str = Field(description="What the advice is about, e.g. `product_required_before_submit`.")
    message: str = Field(description="The note for the person working the case.")
    cleared: bool = Field(False, description="True once it no longer applies (e.g. a product was added); the note leaves the case's `advice`.")


class AccountUpserted(BaseModel):
    """`account.upserted`: the account directory entry was stored (published by the adapter)."""

    account_id: str = Field(description="Account id.")
    name: str = Field(description="Account name.")
    sap_codes: SapCodes = Field(default_factory=SapCodes, description="SAP codes.")
    customer_classification: str | None = Field(None, description="Customer classification.")
    owner: str | None = Field(None, description="Account owner (seller).")
    country: str | None = Field(None, description="Country code.")


class PersonUpserted(BaseModel):
    """`person.upserted`: the people-directory entry was stored (keyed by person id); it replaces the person."""

    id: str = Field(description="Person id.")
    name: str = Field(description="Display name.")
    email: str = Field(description="E-mail address.")
    roles: list[str] = Field(default_factory=list, description="Roles held.")
    groups: list[str] = Field(default_factory=list, description="Teams/queues.")
    manager: str | None = Field(None, description="Person id of the manager.")
    account_id: str | None = Field(None, description="A customer's account.")


EVENT_TYPES: dict[str, type[BaseModel]] = {
    "case.opened": CaseOpened,
    "case.updated": CaseUpdated,
    "case.status_changed": CaseStatusChanged,
    "case.assigned": CaseAssigned,
    "case.closed": CaseClosed,
    "case.product_added": ProductChanged,
    "case.product_removed": ProductChanged,
    "case.account_added": AccountAdded,
    "case.shipping_site_added": ShippingSiteAdded,
    "case.team_member_added": TeamMemberAdded,
    "case.sample_requested": SampleRequested,
    "case.message_received": MessageReceived,
    "case.approval_recorded": ApprovalRecorded,
    "case.quote_requested": QuoteChanged,
    "case.quote_sent": QuoteChanged,
    "case.order_placed": OrderChanged,
    "case.order_confirmed": OrderChanged,
    "case.advice": CaseAdvice,
    "account.upserted": AccountUpserted,
    "person.upserted": PersonUpserted,
}
"""Event type -> model of its `data`."""
