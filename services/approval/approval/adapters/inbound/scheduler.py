"""Timers kept in the store, fired when due: the scheduler sleeps until the earliest due time, or until a write wakes it."""

from __future__ import annotations

import asyncio
from datetime import datetime

from approval.service import ApprovalService
from shared.runtime.background import Loop
from shared.runtime.metrics import timers_ticked


class Scheduler:
    """Fires due reminders, escalations and absences; safe in every replica (compare-and-set writes, derived ids).

    After each tick it asks the store for the next due time and sleeps until then; a write that makes an
    earlier timer due (the service's `due_hint`) wakes it sooner. `interval` bounds the sleep, for timers
    written by other replicas.
    """

    name = "approval-scheduler"

    def __init__(self, service: ApprovalService, interval: float) -> None:
        self._service = service
        self.loop = Loop(self.tick, interval, self.name, immediately=True)
        self._next: datetime | None = None
        self._alarm: asyncio.TimerHandle | None = None
        service.due_hint = self.due_at

    async def tick(self) -> int:
        """Fire everything due now; returns how many cases changed."""
        changed = await self._service.fire_due()
        self._next = None
        upcoming = await self._service.next_due()
        if upcoming is not None:
            self.due_at(upcoming)
        timers_ticked("approval", changed, upcoming)
        return changed

    def due_at(self, at: datetime) -> None:
        """A timer falls due at `at`: wake then, unless a wake-up is already set for no later."""
        if not self.loop.running or (self._next is not None and self._next <= at):
            return
        self._next = at
        if self._alarm is not None:
            self._alarm.cancel()
        delay = max(0.0, (at - self._service.clock()).total_seconds())
        self._alarm = asyncio.get_running_loop().call_later(delay, self.loop.wake)

    async def start(self) -> None:
        """Start the loop (a background task of the app)."""
        await self.loop.start()

    async def stop(self) -> None:
        """Stop the loop and any alarm."""
        if self._alarm is not None:
            self._alarm.cancel()
        await self.loop.stop()

    @property
    def running(self) -> bool:
        """True between start and stop (the liveness probe asks)."""
        return self.loop.running
