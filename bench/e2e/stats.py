"""The figures of a phase: journeys/s, commands/s, latency percentiles, CPU shares and store ops per command."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bench.e2e import procstat, store_ops
from bench.e2e.phases import Phase
from bench.e2e.portal_tap import PortalTap
from bench.intake import Result


def pct(values: list[float], q: float) -> float:
    """Percentile `q` in milliseconds (nearest rank, as bench/intake.py computes it); NaN when empty."""
    return Result("", len(values), latencies=list(values)).pct(q)


@dataclass
class Figures:
    """What the tables print for one phase."""

    name: str
    offered: float | None
    journeys: int
    completed: int
    journeys_per_s: float
    commands: int
    commands_per_s: float
    to_portal: list[float]  # seconds, every command whose portal record was found
    journey_s: list[float]  # first send -> Closed record
    by_step: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # label -> (->event, ->portal)
    no_record: dict[str, int] = field(default_factory=dict)  # label -> commands with no portal record of their version
    errors: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float | None] = field(default_factory=dict)  # process -> % of one core during the phase
    ops: dict[str, float] | None = None
    ops_note: str = ""
    seconds: float = 0.0


def rate_span(phase: Phase, closes: list[float]) -> float:
    """Seconds the completions are counted over.

    A burst: from its start to the last `Closed`. A paced phase: from the first `Closed` to the last, plus one
    interval, so a stack that keeps up shows the offered rate (not diluted by the first journey's own duration).
    """
    if not closes:
        return max(phase.end - phase.start, 1e-9)
    if phase.offered:
        return closes[-1] - closes[0] + 1 / phase.offered
    return max(closes[-1] - phase.start, 1e-9)


def figures(phase: Phase, tap: PortalTap) -> Figures:
    """Match each command to the portal record of the case version it produced; count what finished."""
    steps = [s for c in phase.claims for s in c.steps if s.version is not None]
    completed = [c for c in phase.claims if c.closed_at]
    span = rate_span(phase, sorted(c.closed_at for c in completed))
    by_step: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    no_record: dict[str, int] = defaultdict(int)
    for s in steps:
        by_step[s.label][0].append(s.outcome_at - s.sent)
        seen = tap.portal_at.get((s.case_id, s.version))
        if seen:
            by_step[s.label][1].append(seen[0] - s.sent)
        else:
            no_record[s.label] += 1
    errors: dict[str, int] = defaultdict(int)
    for c in phase.claims:
        if c.error:
            errors[c.error] += 1
    if phase.unfinished:
        errors["still running at the deadline"] = phase.unfinished
    seconds = phase.end - phase.start
    before, after = phase.procs
    return Figures(
        phase.name, phase.offered, len(phase.claims) + phase.unfinished, len(completed), len(completed) / span,
        len(steps), len(steps) / span, [v for _, p in by_step.values() for v in p],
        [c.closed_at - c.started for c in completed], dict(by_step), dict(no_record), dict(errors),
        {k: procstat.cpu_share(before.get(k), after.get(k), seconds) for k in after},
        store_ops.per_command(*phase.ops, len(steps)), phase.ops_note, seconds)
