"""Timers kept in the store: a loop fires due reminders, escalations and absences every few seconds."""

from __future__ import annotations

from typing import Any

import structlog

from approval.commands import apply_absence
from approval.core import fire_timers
from approval.ports.store import Stored
from approval.service import ApprovalCore
from shared.runtime.background import Loop

BATCH = 200


class Scheduler:
    """Scans due steps; safe to run in every replica (writes are compare-and-set, ids deterministic)."""

    def __init__(self, core: ApprovalCore, interval: float) -> None:
        self._core = core
        self._log = structlog.get_logger().bind(component="approval-scheduler")
        self.loop = Loop(self.tick, interval, "approval-scheduler", immediately=True)

    async def tick(self) -> int:
        """Fire everything due now; returns how many cases changed."""
        core, now = self._core, self._core.clock()
        for absence in await core.store.absences_to_apply(now):
            await apply_absence(core, absence)
        rules = await core.rules.current()
        changed = 0
        for case_id in await core.store.due(now, BATCH):
            async def change(stored: Stored | None) -> tuple[str, Any]:
                outcome = fire_timers(stored.state, now, core.directory, rules.escalation_chain, core.linker) if stored else None
                step = outcome.state.current if outcome else None
                tag = f"{int(step.reminded)}{int(step.escalated)}" if step else "none"
                return f"timer:{step.approval_id if step else case_id}:{tag}", outcome
            if await core.apply(case_id, change) == "accepted":
                changed += 1
        if changed:
            self._log.info("approval.timers_fired", cases=changed)
        return changed
