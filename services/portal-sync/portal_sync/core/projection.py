"""Projecting case events onto what the customer portal shows: pure, one event at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field, ValidationError

from portal_sync.core.content import Content, RecordLimits, merged, read_content
from portal_sync.core.mapping import PortalMapping
from shared.contract.envelope import CloudEvent
from shared.contract.events import CaseClosed, CaseEvent, CaseStatusChanged
from shared.contract.portal import NOT_VIEWED, PortalCaseStatus
from shared.runtime.inbound import describe_validation_error

CLOSED = "case.closed"
STATUS_CHANGED = "case.status_changed"


class InvalidEvent(ValueError):
    """A `case.*` event whose data is not a case event; it cannot be projected."""


@dataclass(frozen=True)
class CaseFacts:
    """What one case event says about the case, as far as the portal cares."""

    event_id: str
    event_type: str
    case_id: str
    case_type: str
    account_id: str
    status: str
    version: int
    at: datetime
    closing: bool = False  # a move into a closed status: the `case.closed` of the same command follows
    closure_reason: str | None = None
    duplicate_of: str | None = None
    content: Content = Content()  # subject, dates, quote and order status, messages the event gives


def read_facts(event: CloudEvent) -> CaseFacts | None:
    """The facts of a case event; None for events about something else (e.g. `account.upserted`)."""
    if not event.type.startswith("case."):
        return None
    try:
        base = CaseEvent.model_validate(event.data)
        closed = CaseClosed.model_validate(event.data) if event.type == CLOSED else None
        moved = CaseStatusChanged.model_validate(event.data) if event.type == STATUS_CHANGED else None
        content = read_content(event.type, event.data, event.time, event.causationid or event.id)
    except ValidationError as exc:
        raise InvalidEvent(f"{event.type} {event.id}: {describe_validation_error(exc, 'data')}") from None
    closing = moved is not None and moved.category == "closed"
    return CaseFacts(event.id, event.type, base.case_id, base.case_type, base.account_id, base.status, base.version,
                     event.time, closing, closed.reason if closed else None, closed.duplicate_of if closed else None,
                     content)


class ProjectionState(BaseModel):
    """A case's projection as stored: the current record plus what dedupe and publishing need."""

    record: PortalCaseStatus
    status: str = Field(description="Internal status at `record.version` (never shown to the customer).")
    seen: list[str] = Field(default_factory=list, description="Ids of the events applied at `record.version`.")
    holding: bool = Field(False, description="Closed, but the closing reason (case.closed) has not arrived yet.")
    # A digest of the view last published (`PortalCaseStatus.view_digest`), None if never; a list is the
    # view as stored before records carried content: it differs, so the next event republishes the case.
    published_view: str | list[str | None] | None = Field(None, description="Digest of the view last published.")

    def view_changed(self) -> bool:
        """True when the current view is not what was last published."""
        return self.published_view != self.record.view_digest()


@dataclass(frozen=True)
class Outcome:
    """Result of projecting one event: a label, the new state to store (if any), whether to publish it."""

    label: str
    state: ProjectionState | None = None
    publish: bool = False


def project(state: ProjectionState | None, facts: CaseFacts, mapping: PortalMapping, generation: int,
            limits: RecordLimits = RecordLimits()) -> Outcome:
    """Apply one event; stale (older version) and already applied events change nothing."""
    if not mapping.shows(facts.case_type):
        return Outcome("not_projected")
    if state is not None and facts.version < state.record.version:
        return Outcome("stale")
    same_version = state is not None and facts.version == state.record.version
    if same_version and facts.event_id in state.seen:  # type: ignore[union-attr]
        return Outcome("duplicate")
    shown = mapping.portal_status(facts.case_type, facts.status)
    if shown is None:
        return Outcome("unmapped_status")
    reason, duplicate_of = facts.closure_reason, facts.duplicate_of
    if reason is None and state is not None and state.status == facts.status:
        reason, duplicate_of = state.record.closure_reason, state.record.duplicate_of  # still closed the same way
    holding = facts.closing or (same_version and state.holding and facts.event_type != CLOSED)  # type: ignore[union-attr]
    before = state.record if state is not None else None
    record = PortalCaseStatus(
        case_id=facts.case_id, account_id=facts.account_id, case_type=facts.case_type,
        portal_type=mapping.portal_type(facts.case_type), portal_status=shown, closure_reason=reason,
        duplicate_of=duplicate_of, version=facts.version, changed_at=facts.at, updated_at=facts.at,
        mapping_version=mapping.version, generation=generation,
        **merged(before, facts.content, mapping.messages, limits))
    same = before is not None and _same_view(before, record)
    if same:  # the customer's dates stay as they were
        record = record.model_copy(update={"changed_at": before.changed_at,  # type: ignore[union-attr]
                                           "updated_at": before.updated_at or before.changed_at})  # type: ignore[union-attr]
    seen = [*state.seen, facts.event_id] if same_version else [facts.event_id]  # type: ignore[union-attr]
    new = ProjectionState(record=record, status=facts.status, seen=seen, holding=holding,
                          published_view=state.published_view if state else None)
    if holding or (same and not state.holding and isinstance(state.published_view, str)):  # type: ignore[union-attr]
        return Outcome("projected", new)  # a settled state's digest is its view's: the same view was published
    digest = record.view_digest()  # serialises the record: only when the view may differ from the published one
    if new.published_view == digest:
        return Outcome("projected", new)
    return Outcome("published", new.model_copy(update={"published_view": digest}), publish=True)


def _same_view(before: PortalCaseStatus, record: PortalCaseStatus) -> bool:
    """Field by field, bookkeeping apart (cheaper than comparing two serialised views)."""
    return before.model_copy(update={name: getattr(record, name) for name in NOT_VIEWED}) == record
