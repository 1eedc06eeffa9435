"""`backbone topics plan|apply`: the declared topics against the broker's, drift shown and fixed."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.cli import render
from shared.cli.env import Env
from shared.cli.topic_drift import Drift, apply as apply_drift, plan as plan_drift
from shared.runtime.create_topics import topic_specs

app = typer.Typer(help="Topics: the declared partitions and configs against the broker's.", no_args_is_help=True)


def drift_rows(drifts: list[Drift]) -> list[tuple[str, str, str, str]]:
    """(topic, what, broker's, declared) for every difference."""
    rows = []
    for d in drifts:
        name = d.spec.name
        if d.missing:
            rows.append((name, "missing", "-", f"{d.spec.partitions} partitions"))
            continue
        if d.partitions:
            what = "partitions lower" if d.partitions[0] < d.partitions[1] else "partitions higher (kept)"
            rows.append((name, what, str(d.partitions[0]), str(d.partitions[1])))
        if d.replication:
            rows.append((name, "replication (not changed by apply)", str(d.replication[0]), str(d.replication[1])))
        rows += [(name, f"config {key}", str(have), want) for key, (have, want) in sorted(d.configs.items())]
    return rows


def _drifts(env: Env, only: list[str] | None) -> tuple[list[Drift], object]:
    settings = env.settings()
    specs = [s for s in topic_specs(settings.topics) if not only or s.name in only]
    if only and len(specs) != len(set(only)):
        render.fail(f"not declared: {', '.join(sorted(set(only) - {s.name for s in specs}))}")
    return render.run(plan_drift(settings, specs, env.kafka())), settings


TopicOption = Annotated[list[str] | None, typer.Option("--topic", help="Only this declared topic (repeatable).")]


@app.command()
def plan(ctx: typer.Context, topic: TopicOption = None) -> None:
    """Show the drift; exit 1 when there is any."""
    drifts, _ = _drifts(ctx.obj, topic)
    rows = drift_rows(drifts)
    render.console.print(render.table(f"topic drift: {len(drifts)} declared, "
                                      f"{sum(not d.ok for d in drifts)} differ", ["topic", "what", "broker", "declared"], rows)
                         if rows else f"no drift: {len(drifts)} declared topics match")
    if rows:
        raise typer.Exit(1)


@app.command()
def apply(ctx: typer.Context, topic: TopicOption = None) -> None:
    """Create missing topics, raise partitions, set configs (partitions are never lowered)."""
    drifts, settings = _drifts(ctx.obj, topic)
    done = render.run(apply_drift(settings, [d for d in drifts if not d.ok], ctx.obj.kafka()))  # type: ignore[arg-type]
    render.console.print(render.table("topics applied", ["topic", "done"], done) if done else "nothing to do")
