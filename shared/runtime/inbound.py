"""Reading raw Kafka records into envelopes within the limits, and dead-lettering what cannot be read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.contract.envelope import CloudEvent
from shared.runtime import json_guard
from shared.settings import Limits

REASON_CHARS = 1_000  # a reason is echoed in rejections and headers: bounded, whatever the input
DEAD_LETTER_HEADROOM = 16_384  # room for the dead-letter headers under the record limit


@dataclass
class Malformed(Exception):
    """A record that is not a valid envelope; carries whatever ids could be read and echoed safely."""

    error: str
    command_id: str | None = None
    case_id: str | None = None
    type: str | None = None
    actor_id: str | None = None
    code: str = "invalid"  # the rejection code when it is refused: invalid or too_large

    @property
    def refusable(self) -> bool:
        """True when enough was read to answer with a rejection instead of a dead letter."""
        return bool(self.command_id and self.case_id)


def parse_envelope(raw: bytes | None, limits: Limits | None = None, *, command: bool = False) -> CloudEvent:
    """Parse a structured-mode CloudEvent within `limits`; raise Malformed (and nothing else) otherwise.

    `command`: the record is a command, so `command_bytes` and the case-id rules apply too.
    """
    limits = limits or Limits()
    try:
        return _parse(raw, limits, command)
    except Malformed as bad:
        bad.error = json_guard.printable(bad.error, REASON_CHARS)
        raise
    except Exception as exc:  # noqa: BLE001  # a bug in reading must not become a poison record
        raise Malformed(json_guard.printable(f"unreadable record: {type(exc).__name__}: {exc}", REASON_CHARS)) from None


def _parse(raw: bytes | None, limits: Limits, command: bool) -> CloudEvent:
    if not raw:
        raise Malformed("empty message")
    if len(raw) > limits.record_bytes:
        raise Malformed(f"record of {len(raw)} bytes is over the limit of {limits.record_bytes} bytes")
    try:
        doc = json_guard.load(raw, limits)
    except json_guard.Unreadable as exc:
        raise Malformed(str(exc)) from None
    if not isinstance(doc, dict):
        raise Malformed("a CloudEvent must be a JSON object")
    ids = _echoable_ids(doc, limits)
    if command and len(raw) > limits.command_bytes:
        raise Malformed(f"command of {len(raw)} bytes is over the limit of {limits.command_bytes} bytes",
                        code="too_large", **ids)
    problem = json_guard.problem(doc, limits) or (_id_problem(doc, limits) if command else None)
    if problem:
        raise Malformed(problem, **ids)
    try:
        return CloudEvent.model_validate(doc)
    except ValidationError as exc:
        raise Malformed(describe_validation_error(exc, "envelope"), **ids) from None


def _echoable_ids(doc: dict[str, Any], limits: Limits) -> dict[str, str | None]:
    """The ids a rejection may repeat: only clean text (no surrogates or control characters, not too long)."""
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    actor = data.get("actor") if isinstance(data.get("actor"), dict) else {}

    def echo(value: Any) -> str | None:
        return value if json_guard.is_clean(value, limits.id_chars) else None

    return {"command_id": echo(doc.get("id")), "case_id": echo(doc.get("subject")), "type": echo(doc.get("type")),
            "actor_id": echo(actor.get("id"))}


def _id_problem(doc: dict[str, Any], limits: Limits) -> str | None:
    """A command's id and subject (case or account id, also the Kafka key) must be short, and the subject plain."""
    for name in ("id", "subject"):
        value = doc.get(name)
        if isinstance(value, str) and len(value) > limits.id_chars:
            return f"{name} has {len(value)} characters, over the limit of {limits.id_chars}"
        if isinstance(value, str) and value and not json_guard.is_clean(value, limits.id_chars):
            return f"{name} contains control characters"
    subject = doc.get("subject")
    if isinstance(subject, str) and not re.fullmatch(limits.case_id_pattern, subject):
        return f"subject {subject!r} is not a valid case id: it must match {limits.case_id_pattern}"
    return None


def describe_validation_error(exc: ValidationError, what: str) -> str:
    """One readable sentence listing each invalid field."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or what
        parts.append(f"{where}: {err['msg']}")
    return f"Invalid {what}: " + "; ".join(parts) + "."


def dead_letter_headers(error: str, topic: str, partition: int, offset: int) -> dict[str, str]:
    """Headers that say why and from where a record was dead-lettered (the error made safe to encode)."""
    return {
        "dlq-error": json_guard.printable(error, 2000),
        "dlq-original-topic": topic,
        "dlq-original-partition": str(partition),
        "dlq-original-offset": str(offset),
    }


def dead_letter_value(value: bytes | None, limits: Limits) -> tuple[bytes, dict[str, str]]:
    """The record's value as received, cut to fit the dead-letter topic, with a header saying so when cut."""
    value = value or b""
    room = max(limits.record_bytes - DEAD_LETTER_HEADROOM, 1024)
    if len(value) <= room:
        return value, {}
    return value[:room], {"dlq-truncated": f"{len(value)} bytes cut to the first {room}"}
