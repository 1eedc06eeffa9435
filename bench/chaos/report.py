"""The tables a chaos run prints: faults injected, invariants checked, and the closing `N passed, M failed`."""

from __future__ import annotations

from bench.chaos.run import Report


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def render(report: Report) -> str:
    """The whole report as text."""
    t = report.tally
    lines = [f"\nseed {report.seed}: {len(t.sent)} commands in {report.workload_seconds:.0f}s "
             f"({len(t.sent) / max(report.workload_seconds, 1e-9):.1f}/s), "
             f"quiescent after {report.quiesce_seconds:.0f}s{'' if report.quiescent else ' (TIMED OUT)'}",
             "outcomes seen by the workload: " + ", ".join(f"{k} {v}" for k, v in sorted(t.outcomes.items())),
             "journeys: " + ", ".join(f"{k} {v}" for k, v in sorted(t.journeys.items())),
             "", f"{'fault':<18}{'target':<14}{'at':>8}{'recovery':>10}  note"]
    for f in report.faults:
        lines.append(f"{f.kind:<18}{f.target:<14}{_secs(f.fired_at):>8}{_secs(f.recovered_after):>10}  "
                     f"{f.note or (f'down {f.down_for:.0f}s' if f.down_for else '')}")
    lines += ["", f"{'invariant':<48}{'items':>8}{'violations':>12}  note"]
    for c in report.checks:
        lines.append(f"{c.name:<48}{c.items:>8}{c.violations:>12}  {c.note}")
        lines += [f"    - {example}" for example in c.examples]
    passed = len(report.checks) - report.failed
    lines += ["", f"{passed} passed, {report.failed} failed"]
    return "\n".join(lines)
