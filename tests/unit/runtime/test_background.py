"""Background loops: ticking, waking, surviving a failing tick, stopping."""

from __future__ import annotations

import asyncio

from shared.runtime.background import Loop


async def test_ticks_every_interval_until_stopped():
    ticks = []

    async def tick():
        ticks.append(1)

    loop = Loop(tick, 0.01, "test")
    await loop.start()
    await asyncio.sleep(0.1)
    await loop.stop()
    count = len(ticks)
    assert count >= 3 and not loop.running
    await asyncio.sleep(0.05)
    assert len(ticks) == count  # nothing after stop


async def test_first_tick_waits_an_interval_unless_immediately():
    calls = {"late": 0, "now": 0}

    async def late():
        calls["late"] += 1

    async def now():
        calls["now"] += 1

    loops = [Loop(late, 10, "late"), Loop(now, 10, "now", immediately=True)]
    for loop in loops:
        await loop.start()
    await asyncio.sleep(0.05)
    for loop in loops:
        await loop.stop()
    assert calls == {"late": 0, "now": 1}


async def test_wake_runs_the_next_tick_at_once():
    ticked = asyncio.Event()

    async def tick():
        ticked.set()

    loop = Loop(tick, 10, "test")
    await loop.start()
    await asyncio.sleep(0.01)
    loop.wake()
    await asyncio.wait_for(ticked.wait(), 1)
    await loop.stop()


async def test_a_failing_tick_is_logged_and_the_loop_goes_on():
    calls = []

    async def tick():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("store down")

    loop = Loop(tick, 0.01, "test")
    await loop.start()
    for _ in range(500):  # a bounded wait for the second tick: a loaded machine may be slow to schedule it
        if len(calls) >= 2:
            break
        await asyncio.sleep(0.01)
    assert loop.running and len(calls) >= 2
    await loop.stop()


async def test_stop_without_start_is_harmless():
    async def tick():
        pass

    await Loop(tick, 1, "test").stop()


async def test_stop_lets_the_running_tick_finish():
    started, finished = asyncio.Event(), []

    async def tick():
        started.set()
        await asyncio.sleep(0.1)  # e.g. between publishing and marking
        finished.append(1)

    loop = Loop(tick, 0.01, "test", immediately=True)
    await loop.start()
    await started.wait()
    await loop.stop()
    assert finished == [1] and not loop.running


async def test_stop_cancels_a_tick_that_overruns_its_timeout():
    started, finished = asyncio.Event(), []

    async def tick():
        started.set()
        await asyncio.sleep(3600)
        finished.append(1)

    loop = Loop(tick, 0.01, "test", immediately=True)
    await loop.start()
    await started.wait()
    await asyncio.wait_for(loop.stop(timeout=0.05), 2)
    assert finished == [] and not loop.running
