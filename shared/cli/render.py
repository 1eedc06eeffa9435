"""How the CLI shows things: one console, error exits, a record on one line, tables."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shared.cli.records import Record

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False)
SHORT = 160  # characters of a record's data shown on its line


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error and exit with `code`."""
    errors.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def run(coro: Any) -> Any:
    """Run one coroutine of a command; a broker that cannot be reached or refuses is an error line, exit 2."""
    try:
        return asyncio.run(coro)
    except (KafkaError, ValueError, OSError) as exc:
        fail(f"{type(exc).__name__}: {exc}")


def when(ms: int) -> str:
    """A record timestamp (ms) as UTC time."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def brief(value: Any, limit: int = SHORT) -> str:
    """Compact JSON of a value, cut to `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record_line(record: Record, *, raw: bool = False) -> None:
    """One record: time, topic partition:offset, key, type and a short form of its data (or raw JSON)."""
    doc = record.json()
    if raw:
        text = record.value.decode("utf-8", "replace")
        if doc is not None:
            console.print_json(text)
        else:
            console.print(escape(text))
        return
    kind = doc.get("type", "?") if doc else "(not a JSON object)"
    body = brief(doc.get("data", {})) if doc else brief(record.value.decode("utf-8", "replace"))
    console.print(f"[dim]{when(record.timestamp)}[/dim] {escape(record.topic)} [dim]{record.where}[/dim] "
                  f"[cyan]{escape(str(record.key))}[/cyan] [bold]{escape(kind)}[/bold] {escape(body)}")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table of rows (values shown as text)."""
    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*(escape(v if isinstance(v, str) else brief(v)) if v is not None else "" for v in row))
    return out
