"""The record portal-sync publishes on `portal.case-status` (compacted, key = case id)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.catalog import envelope_model

PORTAL_STATUS_TYPE = "portal.case_status_changed"


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
    version: int = Field(ge=1, description="Case version this view was computed at; a higher version is always newer.")
    changed_at: datetime = Field(description="When what the customer sees last changed (time of the causing case event).")
    mapping_version: int = Field(ge=1, description="Version of the status mapping that produced this view.")
    generation: int = Field(ge=1, description="Projection generation (bumped by each rebuild).")

    def view(self) -> tuple[str, str, str, str | None, str | None]:
        """The part the customer sees; a record is published only when it changes."""
        return (self.account_id, self.portal_type, self.portal_status, self.closure_reason, self.duplicate_of)


PortalCaseStatusEnvelope = envelope_model(PORTAL_STATUS_TYPE, PortalCaseStatus, "Record")
"""The record published on `portal.case-status`."""
