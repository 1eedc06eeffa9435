"""Approval's timers and absences: due reminders and escalations, and stand-ins taking over absent people's parts."""

from __future__ import annotations

from datetime import datetime

from approval.core import Absence, absence_started, fire_timers
from approval.service_base import ABSENCE, TIMER, ServiceBase

DUE_BATCH = 200


class TimerHandling(ServiceBase):
    """What the scheduler calls."""

    async def fire_due(self) -> int:
        """Apply absences that came into force and fire every due reminder and escalation; how many cases changed."""
        now = self.clock()
        await self.apply_absences(await self.store.absences_to_apply(now))
        due = await self.store.due(now, DUE_BATCH)
        if not due:
            return 0
        rules = await self.refresh_rules()
        messages = [self._own(TIMER, d.case_id, f"timer:{d.approval_id}:{d.at.isoformat()}") for d in due]
        outcomes = await self._cases.run(messages, lambda s, m: self._step(
            fire_timers(s, now, self.directory, rules.escalation_chain, self.linker) if s else None, m))
        changed = outcomes.count("accepted")
        if changed:
            self._log.info("approval.timers_fired", cases=changed)
        return changed

    async def apply_absences(self, absences: list[Absence]) -> None:
        """Hand each absent person's pending parts to their stand-in on every open step, once (one unit of work)."""
        now = self.clock()
        active = [a for a in absences if a.active(now)]
        if not active:
            return
        found = await self._lookups(absences=True)
        messages, of = [], {}
        for absence in active:
            for case_id in await self.store.waiting_on(absence.person):
                # One id per absence and case: the events it derives are distinct for every case.
                message = self._own(ABSENCE, case_id, f"absence:{absence.person}:{absence.start.isoformat()}:{case_id}")
                messages.append(message)
                of[message.event.id] = absence
        if messages:
            await self._cases.run(messages, lambda s, m: self._step(absence_started(
                s, of[m.event.id], now, found.absences, found.rules.deputies, self.linker) if s else None, m))
        for absence in active:
            await self.store.mark_absence_applied(absence.person, absence.start)

    async def next_due(self) -> datetime | None:
        """The earliest timer of any open step."""
        return await self.store.next_due()

