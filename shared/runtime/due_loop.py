"""A background loop that sleeps until its next known work is due, or it is woken, instead of polling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from shared.contract.envelope import now_utc
from shared.runtime.background import Loop


class DueLoop(Loop):
    """Calls `tick`, which returns when its next piece of work falls due (None: none known), and sleeps until then.

    `wake()` (new work) runs the next tick at once; `longest` bounds every sleep, a slow safety sweep
    for work that appeared without a wake (another replica's, written after the tick looked).
    """

    def __init__(self, tick: Callable[[], Awaitable[datetime | None]], longest: float, name: str, *,
                 immediately: bool = True, clock: Callable[[], datetime] = now_utc) -> None:
        super().__init__(self._keep_due, longest, name, immediately=immediately)
        self._due_tick, self._clock = tick, clock
        self._due: datetime | None = None

    async def _keep_due(self) -> None:
        self._due = None  # a failed tick knows nothing: wait the longest, or a wake
        self._due = await self._due_tick()

    def _wait(self) -> float:
        if self._due is None:
            return self._interval
        return min(self._interval, max(0.0, (self._due - self._clock()).total_seconds()))

    async def _run(self) -> None:
        if self._immediately:
            await self._once()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=self._wait())
            self._woken.clear()
            if self._stopping:
                return
            await self._once()
