"""`backbone publish`: send one command as a principal; `--wait` shows the event or rejection it caused."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from shared.cli import render
from shared.cli.commands import CommandError, build, command_kind, ingress, load_file, set_path
from shared.cli.env import Env
from shared.cli.records import Log, Record, send
from shared.contract.envelope import CloudEvent

SETTLE_SECONDS = 1.5
WAIT_KINDS = ("case_events", "case_rejections", "approval_events", "routing_events")


def caused_by(record: Record, command_id: str) -> bool:
    """True for an event whose causation is the command, or a rejection naming it."""
    doc = record.json() or {}
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    return doc.get("causationid") == command_id or data.get("command_id") == command_id


async def send_and_wait(env: Env, topic: str, command: CloudEvent, principal: str,
                        wait: float | None) -> list[Record]:
    """Send `command`; with `wait`, read what it caused until the first answer, then for a moment more."""
    if wait is None:
        await send(env, topic, command.to_bytes(), command.subject, principal=principal)
        return []
    topics = env.settings().topics
    async with Log(env, *(getattr(topics, kind) for kind in WAIT_KINDS)) as log:
        await log.seek((await log.bounds())[1])  # only what comes after the command
        await send(env, topic, command.to_bytes(), command.subject, principal=principal)
        found: list[Record] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for record in await log.poll():
                if caused_by(record, command.id):
                    found.append(record)
                    # The rest of the same unit of work is published with the first answer.
                    deadline = min(deadline, time.monotonic() + SETTLE_SECONDS)
        return found


def publish(
    ctx: typer.Context,
    type_: Annotated[str | None, typer.Option("--type", help="Command type, e.g. case.open.")] = None,
    case: Annotated[str | None, typer.Option(help="Case id: the subject and Kafka key.")] = None,
    data: Annotated[str | None, typer.Option(help="The command's data as JSON.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="data field, dotted: fields.request_type=x")] = None,
    file: Annotated[Path | None, typer.Option(help="JSON/YAML file: a whole CloudEvent or its data.")] = None,
    actor: Annotated[str | None, typer.Option(help="data.actor.id: the person the command is for.")] = None,
    as_: Annotated[str, typer.Option("--as", envvar="BACKBONE_PRINCIPAL", help="Kafka principal sending it.")] = "crm",
    to: Annotated[str | None, typer.Option(help="case, approval or routing, when the type does not say.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the event or rejection it causes and show it.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits.")] = 60.0,
) -> None:
    """Publish a command (CloudEvent keyed by the case id) on the principal's ingress topic; prints its id."""
    env: Env = ctx.obj
    try:
        fields: dict[str, Any] = {}
        loaded = load_file(file) if file else None
        envelope = loaded if loaded and "data" in loaded and "type" in loaded else None
        if loaded and envelope is None:
            fields.update(loaded)
        if data:
            fields.update(_json_object(data))
        for item in set_ or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--set {item!r}: expected key=value")
            set_path(fields, key, value)
        command = build(type_, case, fields, actor, envelope)
        topic = ingress(env.settings().topics, command_kind(command.type, to), as_)
    except CommandError as exc:
        render.fail(str(exc))
    found = render.run(send_and_wait(env, topic, command, as_, timeout if wait else None))
    render.console.print(command.id)
    if wait:
        if not found:
            render.fail(f"nothing caused by {command.id} within {timeout:g}s", code=3)
        for record in found:
            render.record_line(record)
        if any((r.json() or {}).get("type") == "case.command_rejected" for r in found):
            raise typer.Exit(4)


def _json_object(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--data is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise CommandError("--data must be a JSON object")
    return doc

