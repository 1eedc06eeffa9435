"""Running journeys of every kind side by side until enough commands went out, with a progress line."""

from __future__ import annotations

import asyncio
import itertools
import random
import time

from bench.chaos.driver import Driver
from bench.chaos.journeys import JOURNEYS, Case, GaveUp

# How often each journey is picked: the long approval journeys less often, so every type keeps its share.
WEIGHTS = {"customer_request": 3, "csr": 2, "claim": 2, "change_request": 2, "change_order": 2, "quotation": 2,
           "order": 2, "helpdesk": 2, "sales": 2, "purchase": 2, "account": 1}


async def run_workload(driver: Driver, commands: int, concurrency: int, rng: random.Random, faults_over: asyncio.Event,
                       say=print, every: float = 10.0) -> float:  # noqa: ANN001
    """Start journeys (at most `concurrency` at once) until `commands` were sent and every fault is over.

    Then wait for the journeys running; returns the seconds taken. Faults thus always hit a working system.
    """
    tally, started = driver.tally, time.monotonic()
    names = list(WEIGHTS)
    # Every journey type first, then a weighted mix.
    weights = [WEIGHTS[n] for n in names]
    running: set[asyncio.Task] = set()

    async def one(name: str) -> None:
        try:
            await JOURNEYS[name](Case(driver, name, rng))
            tally.journeys[f"{name} finished"] += 1
        except GaveUp as exc:
            tally.journeys[f"{name} cut short ({exc})"] += 1

    async def progress() -> None:
        last, last_t = 0, time.monotonic()
        while True:
            await asyncio.sleep(every)
            now, n = time.monotonic(), len(tally.sent)
            done = sum(tally.outcomes[k] for k in ("accepted", "refused", "timed_out"))
            say(f"  {now - started:6.0f}s  sent {n:6d}  outcomes {done:6d}  {(n - last) / (now - last_t):5.1f} cmd/s  "
                f"journeys running {len(running):3d}  send retries {tally.send_retries}")
            last, last_t = n, now

    reporter = asyncio.create_task(progress())
    try:
        for i in itertools.count():
            if len(tally.sent) >= commands and faults_over.is_set():
                break
            name = names[i] if i < len(names) else rng.choices(names, weights=weights)[0]
            while len(running) >= concurrency:
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    task.result()  # an unexpected error stops the run loudly
                running -= finished
            task = asyncio.create_task(one(name))
            running.add(task)
        if running:
            for task in (await asyncio.wait(running))[0]:
                task.result()
    finally:
        reporter.cancel()
    return time.monotonic() - started
