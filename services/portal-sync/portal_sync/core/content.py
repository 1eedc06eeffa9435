"""What a case event says about the case's customer-visible content, and how the record keeps it bounded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from portal_sync.core.mapping import MessagePolicy
from shared.contract.events import CaseOpened, CaseUpdated, MessageReceived, OrderChanged, QuoteChanged
from shared.contract.portal import PortalCaseStatus, PortalMessage

QUOTE_EVENTS = ("case.quote_requested", "case.quote_sent")
ORDER_EVENTS = ("case.order_placed", "case.order_confirmed")
CONTENT_FIELDS = ("subject", "created_at", "quote_status", "order_status", "messages", "messages_total")


@dataclass(frozen=True)
class Message:
    """A message added to the case, before the mapping's policy says whether the customer sees it."""

    id: str
    at: datetime
    from_customer: bool
    author: str
    text: str


@dataclass(frozen=True)
class Content:
    """The content one event gives (None / empty: the event says nothing about it)."""

    subject: str | None = None
    created_at: datetime | None = None
    quote_status: str | None = None
    order_status: str | None = None
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class RecordLimits:
    """Bounds of what a record carries: each text (the `text_chars` limit) and the messages' JSON in bytes."""

    text_chars: int = 20_000
    messages_bytes: int = 262_144


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str


class _Note(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    at: datetime
    author: str
    text: str
    from_customer: bool


class _Snapshot(BaseModel):
    """The part of intake's case snapshot (`case.opened`) the portal shows; the rest is ignored."""

    model_config = ConfigDict(extra="ignore")
    subject: str | None = None
    created_at: datetime | None = None
    quote: _Status | None = None
    order: _Status | None = None
    description_notes: list[_Note] = []


def read_content(event_type: str, data: dict[str, Any], at: datetime, cause_id: str) -> Content:
    """The content of one case event's data; raises pydantic's ValidationError when it does not fit its type."""
    if event_type == "case.opened":
        snap = _Snapshot.model_validate(CaseOpened.model_validate(data).case)
        notes = tuple(Message(n.id, n.at, n.from_customer, n.author, n.text) for n in snap.description_notes)
        return Content(snap.subject, snap.created_at or at, snap.quote and snap.quote.status,
                       snap.order and snap.order.status, notes)
    if event_type == "case.updated":
        subjects = [c.after for c in CaseUpdated.model_validate(data).changes if c.field == "subject"]
        return Content(subject=str(subjects[-1])) if subjects and subjects[-1] is not None else Content()
    if event_type == "case.message_received":
        got = MessageReceived.model_validate(data)
        return Content(messages=(Message(cause_id, at, got.from_customer, got.actor.id, got.message),))
    if event_type in QUOTE_EVENTS:
        return Content(quote_status=QuoteChanged.model_validate(data).quote_status)
    if event_type in ORDER_EVENTS:
        return Content(order_status=OrderChanged.model_validate(data).order_status)
    return Content()


def merged(before: PortalCaseStatus | None, content: Content, policy: MessagePolicy,
           limits: RecordLimits) -> dict[str, Any]:
    """The record's content fields after one event: what it gives replaces, new visible messages are appended."""
    new = [_shown(m, limits) for m in content.messages if m.from_customer or policy.staff_messages]
    kept = list(before.messages) if before else []
    known = {m.id for m in kept}
    new = [m for m in new if m.id not in known]
    old = before.model_dump(include=set(CONTENT_FIELDS)) if before else {}
    return {
        "subject": _first(content.subject, old.get("subject")),
        "created_at": _first(old.get("created_at"), content.created_at),  # the opening's, once known
        "quote_status": _first(content.quote_status, old.get("quote_status")),
        "order_status": _first(content.order_status, old.get("order_status")),
        "messages": window([*kept, *new], policy.keep, limits.messages_bytes) if new else kept,
        "messages_total": old.get("messages_total", 0) + len(new),
    }


def window(messages: Sequence[PortalMessage], keep: int, max_bytes: int) -> list[PortalMessage]:
    """The latest messages, at most `keep` of them and `max_bytes` of JSON together (the newest always).

    Cutting from the oldest end only, so the window of a longer history is the window of the last window
    plus the new messages: a rebuild replaying every event gets exactly what the live service kept.
    """
    out: list[PortalMessage] = []
    size = 0
    for message in reversed(messages):
        n = len(message.model_dump_json().encode())
        if out and (len(out) >= keep or size + n > max_bytes):
            break
        out.append(message)
        size += n
    return out[::-1]


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _shown(message: Message, limits: RecordLimits) -> PortalMessage:
    cut = len(message.text) > limits.text_chars
    return PortalMessage(id=message.id, at=message.at, from_customer=message.from_customer,
                         author=message.author if message.from_customer else None,
                         text=message.text[:limits.text_chars] if cut else message.text, truncated=cut)
