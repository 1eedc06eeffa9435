"""Building a command envelope from the CLI's flags or a file, and the ingress topic it goes to."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from shared.contract.envelope import CloudEvent, dataschema_uri
from shared.contract.registry import message_types
from shared.principals import ingress_topic, load_principals
from shared.settings import Topics

SOURCE = "/backbone-cli"
# Routing's own commands are not in the shared registry (routing keeps their models); rules.upsert is
# approval's there too, so routing's is chosen with `--to routing`.
ROUTING_ONLY = ("routing.handover",)
KINDS = {"case": "case_commands", "approval": "approval_commands", "routing": "routing_commands"}


class CommandError(ValueError):
    """A command the CLI cannot build or send, with the reason."""


def set_path(doc: dict[str, Any], dotted: str, raw: str) -> None:
    """`fields.request_type=x` -> doc["fields"]["request_type"] = "x"; a JSON value (number, list, ...) is parsed."""
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    *parents, last = dotted.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
        if not isinstance(doc, dict):
            raise CommandError(f"--set {dotted}: {part} is not an object")
    doc[last] = value


def load_file(path: Path) -> dict[str, Any]:
    """A JSON or YAML file: a whole CloudEvent (has `type` and `data`) or only the data."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML reads JSON too
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise CommandError(f"{path} must hold a JSON/YAML object")
    return doc


def build(type_: str | None, case_id: str | None, data: dict[str, Any], actor: str | None,
          envelope: dict[str, Any] | None = None) -> CloudEvent:
    """A CloudEvent command: a file's envelope (if any) with the flags over it; a new id unless one is given."""
    doc = dict(envelope or {})
    doc["data"] = {**doc.get("data", {}), **data}
    if type_:
        doc["type"] = type_
    if case_id:
        doc["subject"] = case_id
    if actor:
        doc["data"]["actor"] = {"id": actor}
    for name in ("type", "subject"):
        if not doc.get(name):
            raise CommandError(f"the command needs a {'--type' if name == 'type' else '--case'}")
    if "actor" not in doc["data"]:
        raise CommandError("the command needs an actor: --actor PERSON (or data.actor in the file)")
    doc.setdefault("id", str(uuid.uuid4()))
    doc.setdefault("source", SOURCE)
    doc.setdefault("dataschema", dataschema_uri(doc["type"]))
    try:
        return CloudEvent.model_validate(doc)
    except ValueError as exc:
        raise CommandError(f"not a valid CloudEvent: {exc}") from None


def command_kind(type_: str, to: str | None = None) -> str:
    """The `Topics` field of the command topic a type goes to (`to`: case, approval or routing, to choose)."""
    if to:
        if to not in KINDS:
            raise CommandError(f"--to must be one of {', '.join(KINDS)}")
        return KINDS[to]
    if type_ in ROUTING_ONLY:
        return KINDS["routing"]
    kinds = {m.topic for m in message_types() if m.kind == "command" and m.type == type_}
    if not kinds:
        raise CommandError(f"unknown command type {type_!r} (use --to case|approval|routing to send it anyway)")
    return kinds.pop()


def ingress(topics: Topics, kind: str, principal: str) -> str:
    """The ingress topic `principal` writes commands of `kind` to; refused when the policy does not let it."""
    sender = load_principals().senders.get(principal)
    if sender is None or kind not in sender.sends:
        allowed = ", ".join(load_principals().senders_of(kind))
        raise CommandError(f"principal {principal!r} does not send {kind} (senders: {allowed}); use --as")
    return ingress_topic(getattr(topics, kind), principal)
