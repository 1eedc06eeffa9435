"""Reading raw Kafka records into envelopes, and dead-lettering what cannot be read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.contract.envelope import CloudEvent


@dataclass
class Malformed(Exception):
    """A record that is not a valid envelope; carries whatever ids could still be read."""

    error: str
    command_id: str | None = None
    case_id: str | None = None
    type: str | None = None
    actor_id: str | None = None

    @property
    def rejectable(self) -> bool:
        """True when enough was read to answer with a rejection instead of a dead letter."""
        return bool(self.command_id and self.case_id)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_envelope(raw: bytes | None) -> CloudEvent:
    """Parse a structured-mode CloudEvent; raise Malformed with the readable ids otherwise."""
    if not raw:
        raise Malformed("empty message")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Malformed("a CloudEvent must be a JSON object")
    try:
        return CloudEvent.model_validate(doc)
    except ValidationError as exc:
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        actor = data.get("actor") if isinstance(data.get("actor"), dict) else {}
        raise Malformed(
            error=describe_validation_error(exc, "envelope"),
            command_id=_text(doc.get("id")),
            case_id=_text(doc.get("subject")),
            type=_text(doc.get("type")),
            actor_id=_text(actor.get("id")),
        ) from None


def describe_validation_error(exc: ValidationError, what: str) -> str:
    """One readable sentence listing each invalid field."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or what
        parts.append(f"{where}: {err['msg']}")
    return f"Invalid {what}: " + "; ".join(parts) + "."


def dead_letter_headers(error: str, topic: str, partition: int, offset: int) -> dict[str, str]:
    """Headers that say why and from where a record was dead-lettered."""
    return {
        "dlq-error": error[:2000],
        "dlq-original-topic": topic,
        "dlq-original-partition": str(partition),
        "dlq-original-offset": str(offset),
    }
