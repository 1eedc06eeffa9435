"""A soak: claim journeys at a steady rate until N commands are sent, each process's RSS sampled throughout."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.chaos.driver import Driver
from bench.chaos.run import stack_settings
from bench.e2e import procstat
from bench.e2e.claims import STEPS, claim_journey
from bench.e2e.portal_tap import PortalTap
from bench.intake import known_users
from tests.support import credentials

KEEP = 20_000  # per-command and per-case entries the tap keeps: far more than are in flight at once


@dataclass
class Soak:
    """The samples (seconds since start, commands sent, RSS by label) and how the journeys ended."""

    commands: int
    rate: float
    samples: list[tuple[float, int, dict[str, float | None]]] = field(default_factory=list)
    warm_at: int = 0  # index of the sample taken once a tenth of the commands were sent
    ended: Counter = field(default_factory=Counter)  # closed / the first error of the journeys that were not
    waits: int = 0  # journeys that waited for a free slot (the stack fell behind the offered rate)
    seconds: float = 0.0


class SoakTap(PortalTap):
    """The portal tap, forgetting what finished journeys no longer need, so the bench's own memory stays flat."""

    def _take(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        super()._take(topic, key, value)
        self.records.clear()  # kept by the chaos tap for its invariants; a soak checks none
        for table in (self._first, self.portal_at, self._closed, self.portal_latest, self._requests):
            while len(table) > KEEP:  # oldest first (dicts keep insertion order)
                table.pop(next(iter(table)))


def _rss(stack) -> dict[str, float | None]:  # noqa: ANN001  (deploy/local LocalStack)
    return {label: s.rss_mib for label, s in procstat.snapshot(stack).items()}


async def soak(stack, commands: int, rate: float, every: float, in_flight: int, step_timeout: float,  # noqa: ANN001
               say=print) -> Soak:
    """Start `rate` journeys/s (at most `in_flight` at once) until `commands` are sent; sample RSS every `every` s."""
    settings = stack_settings(stack.env)
    credentials.USERS.update(stack.users or known_users(stack.env))
    tap = await SoakTap(settings.kafka_bootstrap_servers, settings.topics, stack.env).start()
    driver = await Driver(settings.kafka_bootstrap_servers, settings.topics, tap, {}, 0, step_timeout,
                          stack.env).start()
    out, t0 = Soak(commands, rate), time.monotonic()
    out.samples.append((0.0, 0, _rss(stack)))
    slots, tasks = asyncio.Semaphore(in_flight), set()

    async def journey() -> None:
        try:
            claim = await claim_journey(driver, tap, step_timeout)
            out.ended[claim.error.split(":")[0] if claim.error else "closed"] += 1
        finally:
            slots.release()

    async def sampler() -> None:
        while True:
            await asyncio.sleep(every)
            out.samples.append((time.monotonic() - t0, sent(), _rss(stack)))
            driver.tally.sent.clear()  # the soak counts journeys started; the list would only grow
            say(f"  {out.samples[-1][0]:6.0f}s  {sent():>7} commands sent, {len(tasks)} journeys running")

    def sent() -> int:
        return started * len(STEPS)

    started, ticker = 0, asyncio.create_task(sampler())
    try:
        while sent() < commands:
            await asyncio.sleep(max(0.0, t0 + started / rate - time.monotonic()))
            if slots.locked():
                out.waits += 1
            await slots.acquire()
            started += 1
            (task := asyncio.create_task(journey())).add_done_callback(tasks.discard)
            tasks.add(task)
            if not out.warm_at and sent() >= commands / 10:
                out.samples.append((time.monotonic() - t0, sent(), _rss(stack)))
                out.warm_at = len(out.samples) - 1
        if tasks:
            await asyncio.wait(set(tasks), timeout=step_timeout * len(STEPS))
        out.ended["not finished"] += len(tasks)  # still running at the deadline: cancelled below
        out.samples.append((time.monotonic() - t0, sent(), _rss(stack)))
    finally:
        ticker.cancel()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(ticker, *tasks, return_exceptions=True)
        await driver.stop()
        await tap.stop()
    out.seconds = time.monotonic() - t0
    return out


def table(out: Soak) -> str:
    """RSS per process at the start, after the warm-up, half-way from there, at the end; growth after the warm-up."""
    start, warm, end = out.samples[0][2], out.samples[out.warm_at][2], out.samples[-1][2]
    # Half-way in time between the warm-up and the end: a leak grows in both halves, a plateau in the first only.
    half = (out.samples[out.warm_at][0] + out.samples[-1][0]) / 2
    mid = min(out.samples[out.warm_at:], key=lambda s: abs(s[0] - half))[2]
    lines = [f"{'process':<14}{'start MiB':>10}{'warm MiB':>10}{'mid MiB':>10}{'end MiB':>10}{'max MiB':>10}"
             f"{'growth MiB':>11}{'growth %':>9}"]
    for label in start:
        seen = [s[2].get(label) for s in out.samples[out.warm_at:]]
        top = max((v for v in seen if v is not None), default=None)
        a, b = warm.get(label), end.get(label)
        grow = f"{b - a:>11.1f}{100 * (b - a) / a:>9.1f}" if a and b is not None else f"{'?':>11}{'?':>9}"
        lines.append(f"{label:<14}{_mib(start.get(label))}{_mib(a)}{_mib(mid.get(label))}{_mib(b)}{_mib(top)}{grow}")
    return "\n".join(lines)


def _mib(v: float | None) -> str:
    return f"{'-':>10}" if v is None else f"{v:>10.1f}"
