"""The Case aggregate: the state intake keeps per case (stored as one Mongo document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intake.core.case_parts import (
    AccountDetails,
    AccountLink,
    AdviceNote,
    ApprovalEntry,
    HistoryEntry,
    Note,
    Order,
    Quote,
    RelatedProduct,
    SampleRequest,
    Satisfaction,
    ShippingSite,
    TeamMember,
)
from shared.contract.commands import Contact
from shared.contract.envelope import Actor


class Case(BaseModel):
    """A customer case; `decide` returns a new Case for every accepted command."""

    model_config = ConfigDict(extra="forbid")

    id: str
    case_type: str
    gbu: str
    account_id: str
    account: AccountDetails | None = None
    subject: str
    description: str = ""
    description_notes: list[Note] = Field(default_factory=list)
    contact: Contact | None = None
    cause: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    status: str
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime
    created_by: Actor
    assignee: str | None = None
    queue: str | None = None
    resolution: str | None = None
    resolution_date: date | None = None
    feasibility_conclusion: str | None = None
    feasible: bool | None = None
    customer_satisfaction: Satisfaction | None = None
    closure_reason: str | None = None
    duplicate_of: str | None = None
    closure_comment: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    related_products: list[RelatedProduct] = Field(default_factory=list)
    related_product_count: int = 0
    additional_accounts: list[AccountLink] = Field(default_factory=list)
    shipping_sites: list[ShippingSite] = Field(default_factory=list)
    team: list[TeamMember] = Field(default_factory=list)
    sample_requests: list[SampleRequest] = Field(default_factory=list)
    advice: list[AdviceNote] = Field(default_factory=list)
    quote: Quote | None = None
    order: Order | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    approval_history: list[ApprovalEntry] = Field(default_factory=list)
