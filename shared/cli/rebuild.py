"""`backbone rebuild [PROJECTION]`: rebuild projections from the event log, with a progress bar and ETA."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from shared.cli import render
from shared.cli.env import Env

Report = Callable[[int, int], None]


async def _portal_sync(env: Env, progress: Report, mapping: str | None) -> dict[str, Any]:
    """portal-sync's customer-facing projection (portal_sync.adapters.inbound.rebuild)."""
    from portal_sync.adapters.inbound.rebuild import rebuild
    from portal_sync.settings import PortalSyncSettings

    store = env.get("MONGODB_URL_PORTAL_SYNC") or env.get("MONGODB_URL")
    settings = env.settings(PortalSyncSettings, "portal-sync", **({"mongodb_url": store} if store else {}))
    return asdict(await rebuild(settings, mapping, progress))


# The rebuildable projections. Routing's case views, approval's chains and the notifier's subscriptions are
# state with effects (timers, mails, commands): replaying them would act again, so they are not here.
PROJECTIONS = {"portal-sync": _portal_sync}


def rebuild(ctx: typer.Context,
            projection: Annotated[str, typer.Argument(help=f"One of {', '.join(PROJECTIONS)}, or all.")] = "all",
            mapping: Annotated[str | None, typer.Option(help="portal-sync: the mapping YAML to rebuild with.")] = None,
            ) -> None:
    """Replay case.events into a new generation of each projection and switch to it; prints each report."""
    names = list(PROJECTIONS) if projection == "all" else [projection]
    if any(name not in PROJECTIONS for name in names):
        render.fail(f"unknown projection {projection!r}: {', '.join(PROJECTIONS)} or all")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    reports = {}
    with Progress(*columns, console=render.console) as bar:
        for name in names:
            task = bar.add_task(name, total=None)

            def report(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            try:
                reports[name] = asyncio.run(PROJECTIONS[name](ctx.obj, report, mapping))
            except Exception as exc:  # noqa: BLE001  # a refused mapping or an unreachable store: said, exit 2
                render.fail(f"{name}: {type(exc).__name__}: {exc}")
    for name, report in reports.items():
        render.console.print(render.escape(f"{name}: {json.dumps(report)}"))
