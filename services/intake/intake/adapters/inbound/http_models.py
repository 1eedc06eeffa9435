"""The shapes of intake's read API, for the OpenAPI document; every model keeps keys it does not name."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SectionField(_Open):
    """One field of a section; `see` names the top-level list that holds a field shown there instead."""

    name: str = Field(description="A case attribute, or `fields.<name>` for a type-specific field.")
    label: str
    value: Any = None
    see: str | None = None


class Section(_Open):
    """A record section as the case type's lifecycle file lays it out."""

    code: str
    title: str
    fields: list[SectionField]


class Related(_Open):
    """The case's related lists."""

    products: list[dict[str, Any]]
    product_count: int
    accounts: list[dict[str, Any]]
    shipping_sites: list[dict[str, Any]]
    team: list[dict[str, Any]]
    sample_requests: list[dict[str, Any]]


class ApprovalDecision(_Open):
    """One approval decision kept on the case."""

    step: str | None
    approver: str
    on_behalf_of: str | None = Field(description="The approver a delegate decided for, if one did.")
    decision: str | None = Field(description="approve, reject, recall or auto_approve.")
    comment: str | None
    at: str | None
    kind: str = Field(description="`manual` or `automatic` (kept as the case stores it: never refused on the way out).")


class HistoryItem(_Open):
    """One accepted command: who, when, what, and the field changes it made."""

    at: str
    actor: str
    action: str = Field(description="The command type, e.g. `case.update`.")
    kind: Literal["manual", "automatic", "customer"]
    changes: list[dict[str, Any]]
    command_id: str | None = None
    comment: str | None = None


class AdviceItem(_Open):
    """An advisory note (not a refusal), e.g. a CSR needs a product before it can be submitted."""

    code: str | None
    message: str | None
    at: str | None


class CaseView(_Open):
    """`GET /cases/{case_id}`."""

    case: dict[str, Any] = Field(description="The case state as intake keeps it, without its history.")
    sections: list[Section]
    related: Related
    approval_history: list[ApprovalDecision]
    history: list[HistoryItem] = Field(description="The full history, oldest first.")
    advice: list[AdviceItem]


class CaseItem(_Open):
    """A case in the list."""

    id: str
    case_type: str
    gbu: str
    account_id: str
    subject: str
    status: str
    assignee: str | None
    queue: str | None
    created_at: str
    updated_at: str
    due_date: str | None
    fields: dict[str, Any]


class CaseList(_Open):
    """`GET /cases`: a page, newest change first; `next_cursor` is null on the last page."""

    items: list[CaseItem]
    next_cursor: str | None
