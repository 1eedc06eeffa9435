"""The record portal-sync publishes on `portal.case-status` (compacted, key = case id)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.catalog import envelope_model

PORTAL_STATUS_TYPE = "portal.case_status_changed"
# Bookkeeping fields: they change with every record but are not what the customer sees.
NOT_VIEWED = frozenset({"version", "changed_at", "updated_at", "mapping_version", "generation"})


class PortalMessage(BaseModel):
    """One message of the case's conversation the customer sees (theirs, or Glamox's answer)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The message's id (the command that added it).")
    at: datetime = Field(description="When it was added to the case.")
    from_customer: bool = Field(description="True when the customer wrote it; False for Glamox staff.")
    author: str | None = Field(None, description="The portal user who wrote it; null for Glamox staff (staff ids are internal).")
    text: str = Field(description="The text, cut to the `text_chars` limit (see `truncated`).")
    truncated: bool = Field(False, description="True when `text` was cut to fit the record.")


class PortalCaseStatus(BaseModel):
    """What the customer portal shows of one case; the latest record per case is the current view."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(description="Case id (also the envelope subject and the Kafka key).")
    account_id: str = Field(description="Account (customer) the case belongs to; the portal lists cases by it.")
    case_type: str = Field(description="Internal case type, e.g. `claim`, `change_order`.")
    portal_type: str = Field(description="Case type as the portal names it: `Claim Case`, `Change Request`, `Order Case`, `Quotation`.")
    portal_status: str = Field(description="Status as the portal shows it, e.g. `In Progress`, `Awaiting Feedback`, `Closed`.")
    closure_reason: str | None = Field(None, description="Why the case was closed (`completed`, `duplicated`, `rejected`); set only when closed.")
    duplicate_of: str | None = Field(None, description="The original case when closed as duplicated.")
    subject: str | None = Field(None, description="The case's subject (null only for records projected before it was carried).")
    created_at: datetime | None = Field(None, description="When the case was opened.")
    updated_at: datetime | None = Field(None, description="When what the customer sees last changed (the portal's \"last updated\").")
    quote_status: str | None = Field(None, description="The quote's status (`draft`, `sent`) when the case has a quote.")
    order_status: str | None = Field(None, description="The order's status (`placed`, `confirmed`) when the case has an order.")
    messages: list[PortalMessage] = Field(default_factory=list, description="The latest messages the customer sees, oldest first (capped: see `messages_total`).")
    messages_total: int = Field(0, ge=0, description="How many customer-visible messages the case has; more than `messages` holds when older ones were left out.")
    version: int = Field(ge=1, description="Case version this view was computed at; a higher version is always newer.")
    changed_at: datetime = Field(description="When what the customer sees last changed (time of the causing case event); the same as `updated_at`, kept for existing readers.")
    mapping_version: int = Field(ge=1, description="Version of the status mapping that produced this view.")
    generation: int = Field(ge=1, description="Projection generation (bumped by each rebuild).")

    def view(self) -> dict[str, Any]:
        """The part the customer sees (JSON); a record is published only when it changes."""
        return self.model_dump(mode="json", exclude=set(NOT_VIEWED))

    def view_digest(self) -> str:
        """A digest of `view()`: what a projection stores to remember what it last published."""
        return hashlib.sha256(json.dumps(self.view(), sort_keys=True).encode()).hexdigest()


PortalCaseStatusEnvelope = envelope_model(PORTAL_STATUS_TYPE, PortalCaseStatus, "Record")
"""The record published on `portal.case-status`."""
