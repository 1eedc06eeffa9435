"""`backbone dlq list|show|redrive`: the dead-letter topics, their records and errors, and re-driving them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.cli import render
from shared.cli.env import Env
from shared.cli.records import Log, Record, list_topics
from shared.cli.redrive import redrive_records

app = typer.Typer(help="Dead letters: list the *.dlq topics, show their records, re-drive them.", no_args_is_help=True)
SUFFIX = ".dlq"


async def _counts(env: Env) -> list[tuple[str, int]]:
    topics = [t for t in await list_topics(env) if t.endswith(SUFFIX)]
    if not topics:
        return []
    async with Log(env, *topics) as log:  # one client for all of them
        first, end = await log.bounds()
    counts = dict.fromkeys(topics, 0)
    for tp in log.parts:
        counts[tp.topic] += end[tp] - first[tp]
    return list(counts.items())


async def read_all(env: Env, topic: str) -> list[Record]:
    """Every record a dead-letter topic keeps, partition by partition."""
    async with Log(env, topic) as log:
        first, end = await log.bounds()
        await log.seek(first)
        return [record async for record in log.until(end)]


@app.command("list")
def list_(ctx: typer.Context,
          all_: Annotated[bool, typer.Option("--all", help="Show empty dead-letter topics too.")] = False) -> None:
    """Records kept per dead-letter topic."""
    counts = render.run(_counts(ctx.obj))
    rows = [(topic, str(n)) for topic, n in counts if n or all_]
    render.console.print(render.table("dead letters", ["topic", "records"], rows) if rows else "no dead letters")


@app.command()
def show(ctx: typer.Context, topic: Annotated[str, typer.Argument(help="A dead-letter topic (…​.dlq).")],
         max_: Annotated[int, typer.Option("--max", min=1, help="Show at most this many.")] = 50) -> None:
    """The records of a dead-letter topic with their error headers."""
    records = _dlq_records(ctx.obj, topic)[:max_]
    rows = [(r.where, render.when(r.timestamp), r.key, r.headers.get("dlq-error", ""),
             r.headers.get("dlq-original-topic", ""), render.brief(r.value.decode("utf-8", "replace"), 120))
            for r in records]
    render.console.print(render.table(f"{topic}: {len(records)} shown", ["record", "at", "key", "error",
                                                                           "from", "value"], rows))


@app.command()
def redrive(ctx: typer.Context, topic: Annotated[str, typer.Argument(help="A dead-letter topic (…​.dlq).")],
            offset: Annotated[list[str] | None, typer.Option(help="A record as partition:offset (repeatable).")] = None,
            all_: Annotated[bool, typer.Option("--all", help="Every record of the topic.")] = False,
            value_file: Annotated[Path | None, typer.Option(help="Send this corrected value instead (one record).")] = None,
            ) -> None:
    """Send dead letters back to their source topic, once each (see docs/operations.md)."""
    if bool(offset) == all_:
        render.fail("name the records: --offset P:O (repeatable) or --all")
    if value_file and (all_ or len(offset or []) != 1):
        render.fail("--value-file replaces the value of exactly one record (--offset P:O)")
    records = _dlq_records(ctx.obj, topic)
    if offset:
        wanted = set(offset)
        unknown = wanted - {r.where for r in records}
        if unknown:
            render.fail(f"no such record in {topic}: {', '.join(sorted(unknown))}")
        records = [r for r in records if r.where in wanted]
    value = value_file.read_bytes() if value_file else None
    try:
        outcomes = render.run(redrive_records(ctx.obj, topic, records, value))
    except ValueError as exc:
        render.fail(str(exc))
    render.console.print(render.table(f"re-drive of {topic}", ["record", "to", "outcome"], outcomes))


def _dlq_records(env: Env, topic: str) -> list[Record]:
    if not topic.endswith(SUFFIX):
        render.fail(f"{topic} is not a dead-letter topic (…{SUFFIX})")
    try:
        return render.run(read_all(env, topic))
    except LookupError as exc:
        render.fail(str(exc))
