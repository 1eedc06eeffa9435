"""One end-to-end run against a started stack: the raw Kafka baseline, a warm-up, the burst, then paced rates."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.chaos.driver import Driver
from bench.chaos.run import stack_settings
from bench.e2e import procstat
from bench.e2e.phases import Phase, run_phase
from bench.e2e.portal_tap import PortalTap
from bench.e2e.stats import Figures, figures
from bench.intake import Result, known_users, raw_pass
from tests.support import credentials


@dataclass
class Options:
    """What to run (each a flag of bench/e2e.py)."""

    burst: int = 300
    rates: tuple[float, ...] = (2, 5, 10, 20, 40)
    seconds: float = 20.0  # each paced rate runs this long
    drain: float = 300.0  # a phase waits this long after its last start for its journeys to close
    step_timeout: float = 180.0  # a command waits this long for its outcome
    raw_n: int = 2000
    warmup: int = 3
    keep_going: bool = False  # run every rate even after one could not keep up


@dataclass
class Outcome:
    """Everything the report prints."""

    raw: Result
    rows: list[Figures]
    rss: tuple[dict, dict]
    skipped: list[float]


def kept_up(f: Figures) -> bool:
    """The phase closed nearly all its journeys and about as fast as they were offered."""
    return f.completed >= 0.95 * f.journeys and (not f.offered or f.journeys_per_s >= 0.8 * f.offered)


async def e2e_run(stack, opts: Options, say=print) -> Outcome:  # noqa: ANN001  (deploy/local LocalStack)
    """Measure raw Kafka on the stack's broker, then feed claim journeys and read the portal records."""
    settings = stack_settings(stack.env)
    bootstrap = settings.kafka_bootstrap_servers
    # The raw pass connects through tests/support/credentials as the admin, like bench/intake.py.
    credentials.USERS.update(stack.users or known_users(stack.env))
    say(f"raw Kafka pass-through: {opts.raw_n} messages ...")
    raw = await raw_pass(bootstrap, opts.raw_n, True, time.perf_counter() + 300, 0)
    http = {label: stack.env.get(f"{label.upper().replace('-', '_')}_HTTP", "") for label in ("approval", "portal-sync")}
    tap = await PortalTap(bootstrap, settings.topics, stack.env).start()
    driver = await Driver(bootstrap, settings.topics, tap, http, 0, opts.step_timeout, stack.env).start()
    rows: list[Figures] = []
    skipped: list[float] = []
    rss_before = procstat.snapshot(stack)
    try:
        if opts.warmup:
            await run_phase(stack, driver, tap, "warm-up", opts.warmup, None, opts.drain, opts.step_timeout)
        plan: list[tuple[str, int, float | None]] = [(f"burst {opts.burst}", opts.burst, None)] if opts.burst else []
        plan += [(f"{r:g}/s", max(1, round(r * opts.seconds)), r) for r in opts.rates]
        for name, count, rate in plan:
            if rate and rows and rows[-1].offered and not kept_up(rows[-1]) and not opts.keep_going:
                skipped.append(rate)
                continue
            say(f"{name}: {count} journeys ...")
            phase: Phase = await run_phase(stack, driver, tap, name, count, rate, opts.drain, opts.step_timeout)
            rows.append(figures(phase, tap))
            say(f"  {rows[-1].completed}/{rows[-1].journeys} closed, {rows[-1].journeys_per_s:.1f} journeys/s")
    finally:
        await driver.stop()
        await tap.stop()
    return Outcome(raw, rows, (rss_before, procstat.snapshot(stack)), skipped)
