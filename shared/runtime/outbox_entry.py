"""One outbox entry: a message stored with the state that produced it, until it is published."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contract.envelope import CloudEvent, now_utc
from shared.runtime import tracing


class OutboxEntry(BaseModel):
    """One message waiting to be published: where to, under which key, the exact bytes."""

    id: str = Field(description="The CloudEvent id; consumers deduplicate on it.")
    topic: str
    key: str
    payload: str = Field(description="The CloudEvent in structured JSON mode, exactly as it will be sent.")
    at: datetime = Field(default_factory=now_utc, description="When it was written to the outbox.")

    @classmethod
    def of(cls, topic: str, event: CloudEvent) -> "OutboxEntry":
        """Entry for `event`, keyed by its subject (the case id); the payload carries the current trace context."""
        event = tracing.stamp(event)  # kept in the payload: a relay sending it after a crash sends the context too
        return cls(id=event.id, topic=topic, key=event.subject or "", payload=event.to_bytes().decode())
