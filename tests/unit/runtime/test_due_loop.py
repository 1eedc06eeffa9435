"""DueLoop: sleeps until the work its tick names falls due, or a wake, never polling at a fixed rate."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from shared.contract.envelope import now_utc
from shared.runtime.due_loop import DueLoop

LONG = 60.0  # the safety sweep: no test here may need it


async def _ticks(due_in: list[float | None]) -> tuple[DueLoop, asyncio.Queue]:
    ticked: asyncio.Queue = asyncio.Queue()

    async def tick():
        ticked.put_nowait(1)
        after = due_in.pop(0) if due_in else None
        return None if after is None else now_utc() + timedelta(seconds=after)

    loop = DueLoop(tick, LONG, "test-due")
    await loop.start()
    await asyncio.wait_for(ticked.get(), 5)  # the first tick runs at start
    return loop, ticked


async def test_it_ticks_again_when_the_named_work_falls_due():
    loop, ticked = await _ticks([0.05])
    await asyncio.wait_for(ticked.get(), 5)
    await loop.stop()


async def test_with_nothing_due_it_sleeps_until_woken():
    loop, ticked = await _ticks([None])
    await asyncio.sleep(0.2)
    assert ticked.empty()  # no polling
    loop.wake()
    await asyncio.wait_for(ticked.get(), 5)
    await loop.stop()


async def test_a_failing_tick_is_logged_and_the_loop_goes_on():
    calls = []

    async def tick():
        calls.append(1)
        raise RuntimeError("store down")

    loop = DueLoop(tick, LONG, "test-due")
    await loop.start()
    await asyncio.sleep(0.05)
    loop.wake()
    await asyncio.sleep(0.05)
    assert len(calls) == 2 and loop.running
    await loop.stop()
