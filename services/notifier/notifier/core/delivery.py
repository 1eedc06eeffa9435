"""A delivery: one e-mail for one (event, recipient), its states and its retry schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contract.envelope import derived_id
from shared.runtime.outbox import OutboxEntry

State = Literal["pending", "sent", "failed", "skipped"]


def delivery_id(event_id: str, recipient: str) -> str:
    """Stable id of the delivery of `event_id` to `recipient`: the exactly-once key."""
    return derived_id(event_id, f"notify:{recipient}")


def message_id(delivery: str, domain: str) -> str:
    """Message-ID header derived from the delivery id, so a resend after a crash is recognisable."""
    return f"<{delivery}@{domain}>"


class Mail(BaseModel):
    """The rendered e-mail, fixed when the delivery is created so every attempt sends the same bytes."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    link: str | None = None


class Delivery(BaseModel):
    """State of one delivery; the store keeps it (with its outbox) in one document."""

    id: str
    event_id: str
    event_type: str
    case_id: str
    recipient: str
    role: str
    template: str
    state: State = "pending"
    mail: Mail | None = None
    reason: str | None = Field(None, description="Why it was skipped.")
    attempts: int = Field(0, description="Tries so far, including those that found no server.")
    strikes: int = Field(0, description="Tries that count toward the limit (the server answered with an error).")
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    traceparent: str | None = Field(None, description="Trace context of the event's handling: the send continues it.")


@dataclass(frozen=True)
class AttemptResult:
    """What one send attempt changes in its delivery, the outcome events stored with it, and the lease it was
    sent under (written only where the delivery's `next_attempt_at` still holds it)."""

    delivery_id: str
    changes: dict[str, Any]
    entries: list[OutboxEntry]
    lease: datetime


def attempt_result(d: Delivery, lease: datetime, entries: list[OutboxEntry], **changes: Any) -> AttemptResult:
    """`changes` over what the delivery holds: every result sets the same fields, so a round's results share one
    shape and the store writes them in one statement; `next_attempt_at` stays the lease unless a retry moves it."""
    base = {"state": d.state, "attempts": d.attempts, "strikes": d.strikes, "next_attempt_at": lease,
            "finished_at": d.finished_at, "last_error": d.last_error}
    return AttemptResult(d.id, {**base, **changes}, entries, lease)


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """Delay before the next attempt after `attempts` failures: base * 2^(n-1), at most `cap`."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))


def next_attempt(attempts: int, base: float, cap: float, now: datetime) -> datetime:
    """When to try again after `attempts` failures."""
    return now + backoff(attempts, base, cap)
