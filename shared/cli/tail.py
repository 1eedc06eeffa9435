"""`backbone tail TOPIC`: records as they arrive (or from the beginning), one a line, filtered by case."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.cli import render
from shared.cli.env import Env
from shared.cli.records import Log, Record


def of_case(record: Record, case_id: str | None) -> bool:
    """True when no case is asked for, or the record is keyed by it or about it (subject)."""
    if case_id is None:
        return True
    return record.key == case_id or (record.json() or {}).get("subject") == case_id


async def _tail(env: Env, topic: str, case_id: str | None, beginning: bool, limit: int | None,
                idle: float | None, raw: bool) -> int:
    shown = 0
    async with Log(env, topic) as log:
        first, end = await log.bounds()
        await log.seek(first if beginning else end)
        async for record in log.follow(idle):
            if of_case(record, case_id):
                render.record_line(record, raw=raw)
                shown += 1
                if limit is not None and shown >= limit:
                    break
    return shown


def tail(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="Topic name, e.g. case.events (TOPIC_PREFIX is not added).")],
    case: Annotated[str | None, typer.Option(help="Only records of this case (key or subject).")] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Start at the oldest record kept.")] = False,
    max_: Annotated[int | None, typer.Option("--max", min=1, help="Stop after this many records.")] = None,
    idle: Annotated[float | None, typer.Option(help="Stop after this many seconds without a record.")] = None,
    raw: Annotated[bool, typer.Option("--json", help="Print each record's JSON whole.")] = False,
) -> None:
    """Follow a topic, pretty printed; Ctrl-C stops."""
    try:
        render.run(_tail(ctx.obj, topic, case, from_beginning, max_, idle, raw))
    except LookupError as exc:
        render.fail(str(exc))
    except KeyboardInterrupt:
        pass
