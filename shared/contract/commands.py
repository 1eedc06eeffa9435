"""Data models of the commands intake accepts: the `data` of a CloudEvent, chosen by its `type`.

Every command carries `actor` (who asks). The case id is the envelope `subject`, the
command id (idempotency key) is the envelope `id`. Models forbid unknown fields so a
typo is reported instead of silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contract.envelope import Actor

_ID = {"min_length": 1, "max_length": 200}


class _Command(BaseModel):
    """Base of every command payload."""

    model_config = ConfigDict(extra="forbid")

    actor: Actor = Field(description="Who asks for the command: person or `system:<service>`, with roles.")


class Contact(BaseModel):
    """Customer contact person of a case."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Full name of the customer contact.")
    email: str | None = Field(None, description="E-mail address of the contact.")
    phone: str | None = Field(None, description="Phone number of the contact.")


class SapCodes(BaseModel):
    """SAP identifiers of an account."""

    model_config = ConfigDict(extra="forbid")

    sold_to: str | None = Field(None, description="SAP sold-to party number.")
    ship_to: str | None = Field(None, description="SAP main ship-to party number.")
    bill_to: str | None = Field(None, description="SAP bill-to party number.")


class CaseOpen(_Command):
    """`case.open`: create a case (the envelope subject is the new case id)."""

    case_type: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Case type = lifecycle name, e.g. `csr`, `claim`, `helpdesk`.")
    gbu: str = Field(min_length=1, description="Global business unit owning the case.")
    account_id: str = Field(description="Account (customer) the case is about.", **_ID)
    subject: str = Field(min_length=1, max_length=255, description="Short title of the case.")
    description: str = Field("", description="Free-text description (the 'Description information' section).")
    cause: str | None = Field(None, description="Claim cause: `commercial`, `technical` or `logistics`; only for case types declaring causes.")
    contact: Contact | None = Field(None, description="Customer contact information.")
    fields: dict[str, Any] = Field(default_factory=dict, description="Type-specific fields declared by the lifecycle, e.g. `expected_revenue`.")
    assignee: str | None = Field(None, description="Person to make responsible at once (e.g. a salesperson opening their own case).")
    queue: str | None = Field(None, description="Queue / service the case starts in (helpdesk, sales, purchase).")
    is_sample_request: bool = Field(False, description="Must stay false: sample requests are recorded on an existing case with `case.request_sample`.")


class CaseUpdate(_Command):
    """`case.update`: change descriptive data; only the given fields change."""

    subject: str | None = Field(None, min_length=1, max_length=255, description="New title.")
    description: str | None = Field(None, description="New description.")
    contact: Contact | None = Field(None, description="New customer contact.")
    cause: str | None = Field(None, description="New claim cause.")
    fields: dict[str, Any] = Field(default_factory=dict, description="Type-specific fields to set (merged; null removes a field).")


class CaseAddProduct(_Command):
    """`case.add_product`: relate a product to the case."""

    product_id: str = Field(description="Product code.", **_ID)
    name: str | None = Field(None, description="Product name, for display.")


class CaseRemoveProduct(_Command):
    """`case.remove_product`: remove a related product."""

    product_id: str = Field(description="Product code to remove.", **_ID)


class CaseAddAccount(_Command):
    """`case.add_account`: another account the case applies to (case account association)."""

    account_id: str = Field(description="Additional account id.", **_ID)
    name: str | None = Field(None, description="Account name, for display.")


class CaseAddShippingSite(_Command):
    """`case.add_shipping_site`: additional shipping site the case applies to."""

    site_id: str = Field(description="Shipping site id (e.g. SAP ship-to).", **_ID)
    name: str | None = Field(None, description="Site name.")
    country: str | None = Field(None, description="ISO country code of the site.")


class CaseAddTeamMember(_Command):
    """`case.add_team_member`: a person involved in the case and their role."""

    person_id: str = Field(description="Person id.", **_ID)
    role: str = Field(min_length=1, description="Role on this case, e.g. `assessor`, `implementer`.")


class CaseSubmit(_Command):
    """`case.submit`: submit for approval (the lifecycle decides the next status)."""

    comment: str | None = Field(None, description="Note for the approvers.")


class CaseSetStatus(_Command):
    """`case.set_status`: manual status change (not for closing: use `case.close`)."""

    status: str = Field(min_length=1, description="Target status code.")
    comment: str | None = Field(None, description="Why the status changes.")


class CaseRecordAssessment(_Command):
    """`case.record_assessment`: the assessor's global feasibility conclusion."""

    feasibility_conclusion: str = Field(min_length=1, description="Global feasibility conclusion comments.")
    feasible: bool | None = Field(None, description="Whether the requirement is feasible, if stated.")


class CaseResolve(_Command):
    """`case.resolve`: fill resolution and/or resolution date."""

    resolution: str | None = Field(None, min_length=1, description="How the request was resolved.")
    resolution_date: date | None = Field(None, description="When it was resolved.")

    @model_validator(mode="after")
    def _one_given(self) -> "CaseResolve":
        if self.resolution is None and self.resolution_date is None:
            raise ValueError("give resolution, resolution_date or both")
        return self


class CaseAddCustomerMessage(_Command):
    """`case.add_customer_message`: a message or note from the customer (portal)."""

    message: str = Field(min_length=1, description="Message text; lands in the case description information.")


class CaseAssign(_Command):
    """`case.assign`: take (no assignee, no queue), give to a person, or send to a queue."""

    assignee: str | None = Field(None, description="New responsible person; omitted with no queue = the actor takes it.")
    queue: str | None = Field(None, description="Queue / service to transfer to; alone it puts the case back in that pile.")
    comment: str | None = Field(None, description="Handover note.")


class CaseClose(_Command):
    """`case.close`: close with a reason; the reason picks the closed status."""

    reason: str | None = Field(
        None, min_length=1, description="Closing reason allowed by the lifecycle, e.g. `completed`, `duplicated`; required by most case types."
    )
    duplicate_of: str | None = Field(None, description="Id of the original case; required when reason is `duplicated`.")
    comment: str | None = Field(None, description="Closing comment.")


class CaseRequestSample(_Command):
    """`case.request_sample`: record a sample request on an existing case."""

    product_id: str = Field(description="Product to sample.", **_ID)
    quantity: float = Field(gt=0, description="Quantity requested.")
    unit: str = Field("pcs", min_length=1, description="Unit of the quantity.")
    needed_by: date | None = Field(None, description="Date the customer needs the sample.")
    shipping_site: str | None = Field(None, description="Where to ship the sample.")
    note: str | None = Field(None, description="Free-text note.")


class CaseRecordSatisfaction(_Command):
    """`case.record_satisfaction`: customer satisfaction feedback."""

    score: int = Field(ge=1, le=5, description="Satisfaction from 1 (bad) to 5 (excellent).")
    feedback: str | None = Field(None, description="What the customer said.")


class StepDecision(BaseModel):
    """One approver's decision within a step, for the case's approval history."""

    model_config = ConfigDict(extra="forbid")

    approver: str = Field(min_length=1, max_length=200, description="Person who decided (a delegate, if one did).")
    on_behalf_of: str | None = Field(None, max_length=200, description="The approver a delegate, stand-in or escalation target decided for.")
    decision: Literal["approve", "reject"] = Field(description="What this person decided.")
    comment: str | None = Field(None, description="Their comment.")
    at: datetime | None = Field(None, description="When they decided.")


class CaseRecordApproval(_Command):
    """`case.record_approval`: an approval decision, sent by the approval service (`system:approval`)."""

    decision: Literal["approve", "reject", "recall"] = Field(
        description="The step's outcome: approved, rejected, or recalled (the submitter withdrew the request).")
    step: str = Field(min_length=1, description="Approval step decided, e.g. `approval`, `pre_approval`, `final_approval`.")
    approver: str = Field(min_length=1, description="Person who decided.")
    comment: str | None = Field(None, description="The approver's comment.")
    on_behalf_of: str | None = Field(None, max_length=200, description="The approver the deciding person acted for "
                                     "(delegate, out-of-office stand-in or escalation target), if any.")
    decisions: list[StepDecision] = Field(default_factory=list, max_length=1000, description=(
        "Every decision of the step, the deciding one last (mode `all`: each approver's); empty = just this one."))


class CaseRequestQuote(_Command):
    """`case.request_quote`: the customer asks for a quote (creates a draft quote)."""

    note: str | None = Field(None, description="What the customer wants quoted.")


class CaseSendQuote(_Command):
    """`case.send_quote`: the seller sends the draft quote."""

    quote_reference: str | None = Field(None, description="Quote number in the ERP.")
    amount: float | None = Field(None, ge=0, description="Quoted total.")
    currency: str | None = Field(None, min_length=3, max_length=3, description="ISO currency code.")
    valid_until: date | None = Field(None, description="Validity of the quote.")


class CasePlaceOrder(_Command):
    """`case.place_order`: an order was placed for this order case."""

    order_reference: str = Field(description="Order number.", **_ID)
    note: str | None = Field(None, description="Free-text note.")


class CaseConfirmOrder(_Command):
    """`case.confirm_order`: the customer places/confirms the order."""

    note: str | None = Field(None, description="Free-text note.")


class AccountUpsert(_Command):
    """`account.upsert`: create or replace an account-directory entry (subject = account id)."""

    account_id: str = Field(description="Account id.", **_ID)
    name: str = Field(min_length=1, description="Account (company) name.")
    sap_codes: SapCodes = Field(default_factory=SapCodes, description="SAP codes of the account.")
    customer_classification: str | None = Field(None, description="Customer classification, e.g. `A - Key account`.")
    owner: str | None = Field(None, description="Account owner (seller) person id.")
    country: str | None = Field(None, description="ISO 3166 alpha-2 country code.")


class PersonUpsert(_Command):
    """`person.upsert`: create or replace a people-directory entry (subject = person id)."""

    id: str = Field(description="Person id, as in `actor.id`.", **_ID)
    name: str = Field(min_length=1, description="Display name.")
    email: str = Field(min_length=1, description="Where notifications go.")
    roles: list[str] = Field(default_factory=list, description="Roles held (the only source of an actor's roles).")
    groups: list[str] = Field(default_factory=list, description="Teams/queues the person belongs to.")
    manager: str | None = Field(None, description="Person id of the manager.")
    account_id: str | None = Field(None, description="Set for a customer's contact: the account they belong to.")


COMMAND_TYPES: dict[str, type[BaseModel]] = {
    "case.open": CaseOpen,
    "case.update": CaseUpdate,
    "case.add_product": CaseAddProduct,
    "case.remove_product": CaseRemoveProduct,
    "case.add_account": CaseAddAccount,
    "case.add_shipping_site": CaseAddShippingSite,
    "case.add_team_member": CaseAddTeamMember,
    "case.submit": CaseSubmit,
    "case.set_status": CaseSetStatus,
    "case.record_assessment": CaseRecordAssessment,
    "case.resolve": CaseResolve,
    "case.add_customer_message": CaseAddCustomerMessage,
    "case.assign": CaseAssign,
    "case.close": CaseClose,
    "case.request_sample": CaseRequestSample,
    "case.record_satisfaction": CaseRecordSatisfaction,
    "case.record_approval": CaseRecordApproval,
    "case.request_quote": CaseRequestQuote,
    "case.send_quote": CaseSendQuote,
    "case.place_order": CasePlaceOrder,
    "case.confirm_order": CaseConfirmOrder,
    "account.upsert": AccountUpsert,
    "person.upsert": PersonUpsert,
}
"""Command type -> model of its `data`."""
