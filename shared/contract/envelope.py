"""CloudEvents 1.0 envelope (structured JSON mode) used on every topic."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.contract.version import CONTRACT_VERSION

SPEC_VERSION = "1.0"
SCHEMA_URN = "urn:case-backbone:schema"
# W3C Trace Context: version-traceid-parentid-flags, lowercase hex; tracestate at most 512 printable characters.
TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
TRACESTATE = re.compile(r"[\x20-\x7e]{0,512}")


def dataschema_uri(type_: str, version: str = CONTRACT_VERSION) -> str:
    """The `dataschema` of a message of `type_`: an absolute URI (CloudEvents SDKs refuse a relative one)."""
    return f"{SCHEMA_URN}:{type_}:{version}"


def now_utc() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Actor(BaseModel):
    """Who asks for a command: a person or a system (``system:<service>``)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Stable id of the person or system, e.g. `mary` or `system:approval`.")
    roles: list[str] = Field(default_factory=list, description="Roles the actor holds, e.g. `sales_rep`, `customer`.")


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope; `data` is validated separately by `type`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    specversion: str = Field(SPEC_VERSION, description="CloudEvents version, always `1.0`.")
    id: str = Field(min_length=1, description="Unique id of this message; the idempotency key.")
    source: str = Field(min_length=1, description="URI-reference of the producer, e.g. `/services/intake`.")
    type: str = Field(min_length=1, description="Command or event type, e.g. `case.open`, `case.opened`.")
    subject: str | None = Field(None, description="The case id (or account id for `account.upsert`, person id for `person.upsert`); also the Kafka key.")
    time: datetime = Field(default_factory=now_utc, description="When the producer created the message (RFC 3339).")
    datacontenttype: str = Field("application/json", description="Media type of `data`; always JSON here.")
    dataschema: str | None = Field(None, description="Absolute URI of the JSON Schema of this message, "
                                   "`urn:case-backbone:schema:<type>:<major version>` (the `$id` of its file in "
                                   "docs/schemas/); events published before it was a URI carry `case-backbone/1`.")
    correlationid: str | None = Field(None, description="Id shared by every message of one business conversation.")
    causationid: str | None = Field(None, description="Id of the message that caused this one.")
    traceparent: str | None = Field(None, description="W3C trace context of the span that produced this message "
                                    "(CloudEvents distributed-tracing extension); a malformed value is dropped on "
                                    "reading, never refused.")
    tracestate: str | None = Field(None, description="W3C vendor trace state that goes with `traceparent`, when "
                                   "the producer has one.")
    data: dict[str, Any] = Field(default_factory=dict, description="The payload; its schema depends on `type`.")

    @field_validator("traceparent", "tracestate", mode="before")
    @classmethod
    def _trace_context_or_none(cls, value: Any, info: ValidationInfo) -> str | None:
        # Tracing is a diagnostic: a bad trace context is forgotten, the message itself is still read.
        ok = TRACEPARENT.fullmatch if info.field_name == "traceparent" else TRACESTATE.fullmatch
        if not isinstance(value, str) or ok(value) is None or value.startswith("ff-"):
            return None
        return None if info.field_name == "traceparent" and ("0" * 32 in value or value[36:52] == "0" * 16) else value

    def to_bytes(self) -> bytes:
        """Serialise in structured JSON mode."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "CloudEvent":
        """Parse structured JSON mode; raises pydantic.ValidationError on bad input."""
        return cls.model_validate_json(raw)


def new_event(
    type_: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    *,
    source: str,
    id_: str | None = None,
    cause: CloudEvent | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """Build an envelope; `cause` carries the correlation forward and becomes the causation."""
    payload = data.model_dump(mode="json", by_alias=True) if isinstance(data, BaseModel) else data
    return CloudEvent(
        id=id_ or str(uuid.uuid4()),
        source=source,
        type=type_,
        subject=subject,
        time=time or now_utc(),
        dataschema=dataschema_uri(type_),
        correlationid=(cause.correlationid or cause.id) if cause else None,
        causationid=cause.id if cause else None,
        data=payload,
    )


def derived_id(cause_id: str, tag: int | str) -> str:
    """Deterministic id of a message caused by `cause_id`, so a replay yields the same ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cause_id}#{tag}"))
