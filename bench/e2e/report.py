"""The printed tables and the PNG plot of latency against offered rate."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.e2e.stats import Figures, pct
from bench.intake import Result


def _ms(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:.0f}"


def phases_table(rows: list[Figures]) -> str:
    """One line per phase: throughput, latency command -> portal record, journey time, store ops per command."""
    head = (f"{'phase':<14}{'journeys':>9}{'closed':>7}{'j/s':>7}{'cmd/s':>7}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'journey p50 s':>14}  store ops per command (query/insert/update/delete/getmore/command)")
    lines = [head]
    for f in rows:
        ops = "/".join(f"{v:.1f}" for v in f.ops.values()) if f.ops else f"unknown: {f.ops_note}"
        journey = pct(f.journey_s, 50) / 1000
        lines.append(f"{f.name:<14}{f.journeys:>9}{f.completed:>7}{f.journeys_per_s:>7.1f}{f.commands_per_s:>7.1f}"
                     f"{_ms(pct(f.to_portal, 50)):>8}{_ms(pct(f.to_portal, 99)):>8}"
                     f"{'-' if math.isnan(journey) else f'{journey:.1f}':>14}  {ops}")
        if f.errors:
            lines.append(f"{'':<14}not closed: " + ", ".join(f"{n} {why}" for why, n in f.errors.items()))
    return "\n".join(lines)


def steps_table(rows: list[Figures]) -> str:
    """Per command of the journey, over every phase: send -> first event, send -> portal record."""
    labels = list(dict.fromkeys(label for f in rows for label in f.by_step))
    lines = [f"{'command':<34}{'n':>6}{'event p50':>10}{'p99':>8}{'portal p50':>11}{'p99':>8}{'no record':>10}"]
    for label in labels:
        ev = [v for f in rows for v in f.by_step.get(label, ([], []))[0]]
        po = [v for f in rows for v in f.by_step.get(label, ([], []))[1]]
        none = sum(f.no_record.get(label, 0) for f in rows)
        lines.append(f"{label:<34}{len(ev):>6}{_ms(pct(ev, 50)):>10}{_ms(pct(ev, 99)):>8}"
                     f"{_ms(pct(po, 50)):>11}{_ms(pct(po, 99)):>8}{none:>10}")
    lines.append("no record: the command left the portal view as it was (In Progress stays In Progress), so portal-sync "
                 "published nothing for that version; its latency is counted to the event only.")
    return "\n".join(lines)


def processes_table(rows: list[Figures], rss: tuple[dict, dict]) -> str:
    """Per process: RSS before/after the whole run, CPU seconds used, % of one core in each phase."""
    before, after = rss
    lines = [f"{'process':<13}{'pid':>8}{'RSS MiB':>9}{'->':>7}{'CPU s':>8}  " + "".join(f"{f.name:>12}" for f in rows)]
    for label, end in after.items():
        start = before.get(label)
        cpu = f"{end.cpu - start.cpu:.1f}" if start and start.pid == end.pid and end.cpu is not None else "?"
        shares = "".join(f"{'?' if f.cpu.get(label) is None else f'{f.cpu[label]:.0f}%':>12}" for f in rows)
        rss0 = f"{start.rss_mib:.0f}" if start and start.rss_mib else "?"
        rss1 = f"{end.rss_mib:.0f}" if end.rss_mib else "?"
        lines.append(f"{label:<13}{end.pid or '?':>8}{rss0:>9}{rss1:>7}{cpu:>8}  {shares}")
    return "\n".join(lines)


def raw_line(raw: Result, rows: list[Figures]) -> str:
    """The raw Kafka pass-through of the same run, and the stack's best command rate beside it."""
    best = max((f.commands_per_s for f in rows), default=0.0)
    ratio = f"{best / raw.rate:.3f}" if raw.rate else "-"
    return (f"raw Kafka pass-through (commit per batch, same broker): {len(raw.latencies)}/{raw.n} msgs, "
            f"{raw.rate:.0f} msgs/s, p50 {raw.pct(50):.0f} ms, p99 {raw.pct(99):.0f} ms {raw.note}\n"
            f"best commands/s through the stack / raw msgs/s = {ratio}")


def plot(rows: list[Figures], path: Path) -> Path | None:
    """p50 and p99 (command -> portal record) against the offered journey rate; the burst as a note."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paced = [f for f in rows if f.offered and f.to_portal]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if paced:
        rates = [f.offered for f in paced]
        ax.plot(rates, [pct(f.to_portal, 50) for f in paced], "o-", label="p50")
        ax.plot(rates, [pct(f.to_portal, 99) for f in paced], "s-", label="p99")
        ax.set_yscale("log")
    for f in rows:
        if not f.offered and f.to_portal:
            ax.set_title(f"{f.name}: p50 {pct(f.to_portal, 50):.0f} ms, p99 {pct(f.to_portal, 99):.0f} ms, "
                         f"{f.journeys_per_s:.1f} journeys/s", fontsize=9)
    ax.set_xlabel("offered claim journeys per second")
    ax.set_ylabel("command -> portal record (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def write_json(rows: list[Figures], raw: Result, path: Path) -> None:
    """The phase figures as JSON beside the plot (for before/after comparisons)."""
    data = {"raw_msgs_per_s": raw.rate, "phases": [
        {"name": f.name, "offered": f.offered, "journeys": f.journeys, "closed": f.completed,
         "journeys_per_s": f.journeys_per_s, "commands_per_s": f.commands_per_s,
         "p50_ms": pct(f.to_portal, 50), "p99_ms": pct(f.to_portal, 99), "store_ops_per_command": f.ops,
         "cpu_percent": f.cpu} for f in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str).replace("NaN", "null"))
