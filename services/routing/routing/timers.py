"""Case time-frame timers: each open case's view carries its timer; a DueLoop fires the due ones through the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from routing.core.commands import SOURCE
from routing.core.timeframes import TimeFrames, due_of, escalation_target, event_data, fire, moved
from routing.core.view import CaseView
from shared.calendars import CalendarBook
from shared.contract.envelope import derived_id, new_event
from shared.contract.timeframes import CaseOverdueEscalated, CaseOverdueReminded
from shared.directory import Directory
from shared.runtime.due_loop import DueLoop
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Message, Step, UnitOfWork

TIMER_DUE = "routing.timer_due"  # routing's own message (never on a topic): a case's timer fell due
DUE_BATCH = 200


class DueViews(Protocol):
    """What the timers read from the store: due cases, and the earliest timer."""

    async def due_views(self, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        """(case id, next_due) of open cases whose timer is due at `now`, earliest first."""

    async def next_due(self) -> datetime | None:
        """The earliest timer of any open case."""


class CaseTimers:
    """Keeps each view's timer in step with its case, and fires due timers (reminder, then escalation) once.

    A fired timer is recorded in the same compare-and-set write as the events it publishes, and its message
    id is derived from the case and the due time, so a restart or a second replica repeats nothing.
    """

    def __init__(self, store: DueViews, frames: TimeFrames, calendars: CalendarBook, directory: Directory,
                 topic: str, clock: Callable[[], datetime], longest: float) -> None:
        self._store, self._frames, self._calendars, self._directory = store, frames, calendars, directory
        self._topic, self._clock = topic, clock
        self._uow: Callable[[], UnitOfWork[CaseView]] | None = None
        self._known: datetime | None = None  # the earliest due time the loop is sleeping towards
        self._sooner = False  # a view written since the last tick is due before `_known`
        self.loop = DueLoop(self.tick, longest, "routing-timers", clock=clock)

    def bind(self, uow: Callable[[], UnitOfWork[CaseView]]) -> None:
        """Where the case views' unit of work comes from (the service's, so the load counters follow every write)."""
        self._uow = uow

    def timed(self, view: CaseView) -> CaseView:
        """The view with its timer as the case now says: none once closed, moved with a changed due date."""
        timer = None
        if view.is_open:
            timer = moved(view.timer, due_of(view.case_type, view.gbu, view.opened_at, view.due_date,
                                             self._frames, self._calendars))
        view.timer, view.next_due = timer, timer.next_due() if timer else None
        if view.next_due is not None and (self._known is None or view.next_due < self._known):
            self._sooner = True
        return view

    def written(self) -> None:
        """After a batch's write: wake the loop if a timer it wrote falls due before the one it sleeps towards."""
        if self._sooner:
            self._sooner = False
            self.loop.wake()

    async def tick(self) -> datetime | None:
        """Fire every due timer (one unit of work); returns the next due time."""
        now = self._clock()
        due = await self._store.due_views(now, DUE_BATCH)
        if due and self._uow is not None:
            messages = [Message(new_event(TIMER_DUE, case_id, {}, source=SOURCE, time=now,
                                          id_=f"timer:{case_id}:{at.isoformat()}")) for case_id, at in due]
            outcomes = await self._uow().run(messages, lambda view, m: self._fire(view, m, now))
            structlog.get_logger().info("routing.timers_fired", cases=outcomes.count("fired"))
        self._known = await self._store.next_due()
        return self._known

    def _fire(self, view: CaseView | None, message: Message, now: datetime) -> Step[CaseView]:
        if view is None:
            return Step("ignored")
        timer, fired = fire(view.timer, now) if view.timer is not None and view.is_open else (None, [])
        if not fired:  # moved or cancelled since the query: keep its due time in step, or the loop would spin on it
            if view.next_due == (timer.next_due() if timer else None):
                return Step("ignored")
            cleared = view.model_copy(update={"timer": timer, "next_due": timer.next_due() if timer else None,
                                              "seen": [*view.seen, message.event.id]})
            return Step("cleared", state=cleared)
        new = view.model_copy(deep=True)
        new.timer, new.next_due, new.seen = timer, timer.next_due(), [*view.seen, message.event.id]
        entries = [self._entry(new, kind, message.event.id, now) for kind in fired]
        return Step("fired", state=new, entries=[e for e in entries if e is not None])

    def _entry(self, view: CaseView, kind: str, message_id: str, now: datetime) -> OutboxEntry | None:
        assert view.timer is not None
        data: dict[str, Any] = event_data(view, view.timer)
        if kind == "reminded":
            model: Any = CaseOverdueReminded(**data)
        else:
            frame = self._frames.frame_for(view.case_type, view.gbu)
            target = escalation_target(frame, view.assignee, view.queue, self._frames, self._directory)
            if target is None:  # nobody to escalate to: said in the log, the timer still counts as fired
                structlog.get_logger().warning("routing.escalation_without_target", case_id=view.case_id,
                                               assignee=view.assignee, queue=view.queue)
                return None
            model = CaseOverdueEscalated(**data, escalated_to=target[0], reason=target[1])
        event = new_event(f"timeframe.{kind}", view.case_id, model, source=SOURCE, id_=derived_id(message_id, kind),
                          time=now)
        return OutboxEntry.of(self._topic, event)
