"""Background loops of a service: started after start-up, stopped between ticks on shutdown, never dying silently."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog


class Loop:
    """Calls `tick` every `interval` seconds (sooner after `wake()`); a failing tick is logged and retried.

    `immediately` runs the first tick at start rather than one interval later.
    """

    def __init__(self, tick: Callable[[], Awaitable[Any]], interval: float, name: str, *,
                 immediately: bool = False) -> None:
        self._tick, self._interval, self.name, self._immediately = tick, interval, name, immediately
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._log = structlog.get_logger().bind(component=name)

    def wake(self) -> None:
        """Run the next tick now rather than at the end of the interval."""
        self._woken.set()

    async def start(self) -> None:
        """Start ticking in the background (a start-up hook)."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop after the running tick, if any, has finished (a shutdown hook).

        A tick is not cut in half (a relay between publish and mark, a mail being sent) unless it
        overruns `timeout`; then it is cancelled, and what it did not finish is redone after a restart.
        """
        task, self._task = self._task, None
        if task is None or task.done():  # never started, or died already (the liveness probe saw it)
            return
        self._stopping = True
        self._woken.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except (TimeoutError, asyncio.CancelledError) as stopped:  # overran, or whoever stops us gave up
            self._log.warning(f"{self.name}.stop_cut_short", timeout=timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if isinstance(stopped, asyncio.CancelledError):
                raise

    @property
    def running(self) -> bool:
        """True between start and stop."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        if self._immediately:
            await self._once()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=self._interval)
            self._woken.clear()
            if self._stopping:
                return
            await self._once()

    async def _once(self) -> None:
        try:
            await self._tick()
        except Exception:  # a loop that dies silently strands its work (events, timers, mails): keep going
            self._log.exception(f"{self.name}.failed")
