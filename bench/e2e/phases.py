"""A burst of journeys, or journeys started at a paced rate, with the stack's CPU and store counters around it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.chaos.driver import Driver
from bench.e2e import procstat, store_ops
from bench.e2e.claims import Claim, claim_journey
from bench.e2e.portal_tap import PortalTap


@dataclass
class Phase:
    """One measured phase: its journeys and the readings taken before and after it."""

    name: str
    offered: float | None  # journeys/s offered; None for the burst
    claims: list[Claim] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    unfinished: int = 0  # journeys still running at the deadline (cancelled)
    procs: tuple[dict, dict] = ({}, {})
    ops: tuple[Counter | None, Counter | None] = (None, None)
    ops_note: str = ""


async def _settle(tasks: list[asyncio.Task], deadline: float) -> tuple[list[Claim], int]:
    """Wait for the journeys until `deadline`; cancel the rest."""
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic())) if tasks else ((), ())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return [t.result() for t in done if not t.cancelled() and t.exception() is None], len(pending)


async def run_phase(stack, driver: Driver, tap: PortalTap, name: str, count: int, rate: float | None,  # noqa: ANN001
                    drain: float, step_timeout: float) -> Phase:
    """Start `count` journeys (all at once, or `rate` per second), wait up to `drain` s after the last start."""
    phase = Phase(name, rate)
    urls = store_ops.store_urls(stack)
    before_ops, phase.ops_note = await asyncio.to_thread(store_ops.opcounters, urls)
    before_procs = procstat.snapshot(stack)
    phase.start = time.monotonic()
    tasks = []
    for i in range(count):
        if rate:
            await asyncio.sleep(max(0.0, phase.start + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(claim_journey(driver, tap, step_timeout)))
    phase.claims, phase.unfinished = await _settle(tasks, time.monotonic() + drain)
    phase.end = time.monotonic()
    after_procs = procstat.snapshot(stack)
    after_ops, note = await asyncio.to_thread(store_ops.opcounters, urls)
    phase.procs, phase.ops, phase.ops_note = (before_procs, after_procs), (before_ops, after_ops), phase.ops_note or note
    return phase
