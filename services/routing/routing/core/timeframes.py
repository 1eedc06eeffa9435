"""Case time-frames as data, and the timer they give an open case: due, reminded, escalated (no I/O)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.calendars import CalendarBook
from shared.directory import Directory

TIME_FRAMES_FILE = Path(__file__).resolve().parent.parent / "data" / "time_frames.yaml"
MANAGER, QUEUE_OWNER = "manager", "queue_owner"
DUE_DATE = "due_date"  # the timer's frame when the case's own due date set it


class Frame(BaseModel):
    """One time-frame: for a case type (optionally one GBU), hours to handle it, then hours to escalation."""

    model_config = ConfigDict(extra="forbid")

    id: str
    case_type: str
    gbu: str | None = None
    hours: float = Field(gt=0, description="Business hours from opening to the due time.")
    escalate_after_hours: float | None = Field(None, ge=0, description="Business hours after the due time; none: never.")
    escalate_to: list[str] = Field(default_factory=lambda: [MANAGER, QUEUE_OWNER],
                                   description="Tried in order: manager, queue_owner or a person id.")


class TimeFrames(BaseModel):
    """Every time-frame, and who owns each queue (escalations of unassigned cases)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(1, ge=1)
    frames: list[Frame]
    queue_owners: dict[str, str] = Field(default_factory=dict)

    def frame_for(self, case_type: str, gbu: str) -> Frame | None:
        """Case type + GBU before case type alone (file order breaks ties); None: the case type has no time-frame."""
        exact = [f for f in self.frames if f.case_type == case_type and f.gbu == gbu]
        return (exact or [f for f in self.frames if f.case_type == case_type and f.gbu is None] or [None])[0]

    def problems(self, directory: Directory, case_types: set[str]) -> list[str]:
        """One sentence per thing that cannot work: unknown case types, people, duplicate frames."""
        out = [f"frame {f.id}: unknown case type {f.case_type!r}" for f in self.frames if f.case_type not in case_types]
        out += [f"frame {f.id}: escalate_to names unknown person {p!r}" for f in self.frames for p in f.escalate_to
                if p not in (MANAGER, QUEUE_OWNER) and directory.get(p) is None]
        out += [f"queue {q}: unknown owner {p!r}" for q, p in self.queue_owners.items() if directory.get(p) is None]
        keys = [(f.case_type, f.gbu) for f in self.frames]
        out += [f"more than one frame for {k[0]} / {k[1] or 'any GBU'}" for k in dict.fromkeys(keys) if keys.count(k) > 1]
        ids = [f.id for f in self.frames]
        out += [f"duplicate frame id {i!r}" for i in dict.fromkeys(ids) if ids.count(i) > 1]
        return out


def load_time_frames(directory: Directory, case_types: set[str], path: str | Path | None = None) -> TimeFrames:
    """The checked time-frames of a YAML file; ValueError listing every problem (the service does not start)."""
    try:
        frames = TimeFrames.model_validate(yaml.safe_load(Path(path or TIME_FRAMES_FILE).read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise ValueError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    problems = frames.problems(directory, case_types)
    if problems:
        raise ValueError("invalid time-frames: " + "; ".join(problems))
    return frames


class Timer(BaseModel):
    """An open case's timer: when it is due, when it escalates, and which of the two have fired."""

    frame: str = Field(description="Time-frame id, or `due_date` when the case's own date set it.")
    calendar: str
    due_at: datetime
    escalate_at: datetime | None = None
    reminded: bool = False
    escalated: bool = False

    def next_due(self) -> datetime | None:
        """When it fires next (None: nothing left to fire)."""
        if not self.reminded:
            return self.due_at
        return self.escalate_at if self.escalate_at and not self.escalated else None


def due_of(case_type: str, gbu: str, opened_at: datetime | None, due_date: date | None,
           frames: TimeFrames, book: CalendarBook) -> Timer | None:
    """The timer of an open case: its due date's end, else opened + the frame's business hours; None: no time-frame."""
    frame, name = frames.frame_for(case_type, gbu), book.name_for(gbu)
    calendar = book.calendars[name]
    if due_date is not None:
        due, source = calendar.end_of_day(due_date), DUE_DATE
    elif frame is not None and opened_at is not None:
        due, source = calendar.add_business_hours(opened_at, frame.hours), frame.id
    else:
        return None
    escalate = None
    if frame is not None and frame.escalate_after_hours is not None:
        escalate = calendar.add_business_hours(due, frame.escalate_after_hours)
    return Timer(frame=source, calendar=name, due_at=due, escalate_at=escalate)


def moved(old: Timer | None, new: Timer | None) -> Timer | None:
    """The timer to keep: the old one (what fired stays fired) unless its times moved."""
    if old is not None and new is not None and (old.due_at, old.escalate_at) == (new.due_at, new.escalate_at):
        return old
    return new


def escalation_target(frame: Frame | None, assignee: str | None, queue: str | None, frames: TimeFrames,
                      directory: Directory) -> tuple[str, str] | None:
    """(person, why) for an escalation: the first of the frame's `escalate_to` that names someone."""
    for way in frame.escalate_to if frame else [MANAGER, QUEUE_OWNER]:
        if way == MANAGER:
            person = directory.get(assignee) if assignee else None
            if person is not None and person.manager:
                return person.manager, f"manager of {assignee}"
        elif way == QUEUE_OWNER:
            if queue and frames.queue_owners.get(queue):
                return frames.queue_owners[queue], f"owner of queue {queue}"
        elif directory.get(way) is not None:
            return way, "named by the time-frame"
    return None


def fire(timer: Timer, now: datetime) -> tuple[Timer, list[str]]:
    """The timer after `now`, and what fires: `reminded` and/or `escalated` (each at most once)."""
    fired: list[str] = []
    timer = timer.model_copy()
    if not timer.reminded and now >= timer.due_at:
        timer.reminded = True
        fired.append("reminded")
    if timer.reminded and timer.escalate_at and not timer.escalated and now >= timer.escalate_at:
        timer.escalated = True
        fired.append("escalated")
    return timer, fired


def event_data(view: Any, timer: Timer) -> dict[str, Any]:
    """The fields every time-frame event carries, from the case view and its timer."""
    return {"case_id": view.case_id, "case_type": view.case_type, "gbu": view.gbu, "status": view.status,
            "subject": view.subject, "assignee": view.assignee, "queue": view.queue, "due_at": timer.due_at,
            "time_frame": timer.frame, "calendar": timer.calendar, "escalate_at": timer.escalate_at}
