"""Value objects held inside a Case (related lists, notes, quote, order, history)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.commands import SapCodes
from shared.contract.events import FieldChange


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountDetails(_Part):
    """Account data copied onto the case at creation (SAP codes, classification...)."""

    name: str
    sap_codes: SapCodes = Field(default_factory=SapCodes)
    customer_classification: str | None = None
    owner: str | None = None
    country: str | None = None


class RelatedProduct(_Part):
    """A product the case applies to."""

    product_id: str
    name: str | None = None


class AccountLink(_Part):
    """An additional account the case applies to."""

    account_id: str
    name: str | None = None


class ShippingSite(_Part):
    """An additional shipping site the case applies to."""

    site_id: str
    name: str | None = None
    country: str | None = None


class TeamMember(_Part):
    """A person involved in the case and their role."""

    person_id: str
    role: str


class Note(_Part):
    """A customer message / note shown under description information."""

    id: str
    at: datetime
    author: str
    text: str
    from_customer: bool


class SampleRequest(_Part):
    """A sample request recorded on the case."""

    id: str
    at: datetime
    requested_by: str
    product_id: str
    quantity: float
    unit: str
    needed_by: date | None = None
    shipping_site: str | None = None
    note: str | None = None


class AdviceNote(_Part):
    """An advisory note the lifecycle keeps on the case while it applies (e.g. add a product before submit)."""

    code: str
    message: str
    at: datetime


class Satisfaction(_Part):
    """Customer satisfaction feedback."""

    score: int
    feedback: str | None = None
    recorded_by: str
    at: datetime


class Quote(_Part):
    """The quote of a quotation case: draft when requested, sent by the seller."""

    status: Literal["draft", "sent"]
    revision: int = 1
    requested_at: datetime
    requested_by: str
    note: str | None = None
    sent_at: datetime | None = None
    sent_by: str | None = None
    quote_reference: str | None = None
    amount: float | None = None
    currency: str | None = None
    valid_until: date | None = None


class Order(_Part):
    """The order of an order case."""

    order_reference: str
    status: Literal["placed", "confirmed"]
    placed_at: datetime
    placed_by: str
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


class HistoryEntry(_Part):
    """One accepted command: who, when, what changed (before/after per field)."""

    at: datetime
    actor_id: str
    command_id: str
    command_type: str
    changes: list[FieldChange] = Field(default_factory=list)
    # The command's own comment (why: e.g. the routing or approval rule that matched), when it has one.
    comment: str | None = None


class ApprovalEntry(_Part):
    """One approval decision."""

    at: datetime
    command_id: str
    step: str
    decision: Literal["approve", "reject", "recall", "auto_approve"]
    approver: str
    on_behalf_of: str | None = None  # the approver a delegate (stand-in, escalation target) decided for
    comment: str | None = None
    kind: Literal["manual", "automatic"] = "manual"
    status_before: str
    status_after: str
