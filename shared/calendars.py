"""Business calendars: add working hours to an instant, in the calendar's own timezone.

One model for every service that counts working time (approval's deadlines, routing's case time-frames);
the shared data file `shared/data/calendars.yaml` names the calendars and which GBU works by which.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_SCANNED = 3660  # a calendar with no working time at all must not loop forever
DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "calendars.yaml"


class Calendar(BaseModel):
    """Working days, daily hours [start, end) and holidays of one place."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(description="IANA timezone, e.g. Europe/Oslo.")
    working_days: list[str] = Field(min_length=1, description="Days worked: mon..sun.")
    hours: tuple[str, str] = Field(description="Start and end of the working day, HH:MM (end may be 24:00).")
    holidays: list[date] = Field(default_factory=list, description="Dates not worked.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception:  # ZoneInfo raises several types for bad names
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d not in DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use {', '.join(DAYS)}")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, str]) -> tuple[str, str]:
        start, end = (_minutes(v) for v in value)
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"working hours {value[0]}-{value[1]} must be a non-empty span within a day")
        return value

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date, as aware datetimes, or None on a day off."""
        if DAYS[day.weekday()] not in self.working_days or day in self.holidays:
            return None
        zone = ZoneInfo(self.timezone)
        start, end = (_minutes(v) for v in self.hours)
        # Wall-clock hours: on a DST day the window is an hour shorter or longer, as people work it.
        begin = datetime.combine(day, time(start // 60, start % 60), zone)
        finish = (datetime.combine(day + timedelta(days=1), time(0), zone) if end == 24 * 60
                  else datetime.combine(day, time(end // 60, end % 60), zone))
        return begin, finish

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of working time after `start` (UTC)."""
        remaining = timedelta(hours=hours)
        zone = ZoneInfo(self.timezone)
        now = start.astimezone(zone)
        day = now.date()
        for _ in range(MAX_DAYS_SCANNED):
            window = self._window(day)
            if window is not None:
                begin, finish = window
                cursor = max(now, begin)
                if cursor < finish:
                    available = finish.astimezone(UTC) - cursor.astimezone(UTC)  # real elapsed time
                    if remaining <= available:
                        return cursor.astimezone(UTC) + remaining
                    remaining -= available
            day += timedelta(days=1)
            now = datetime.combine(day, time(0), zone)
        raise ValueError("the calendar has no working time in ten years")

    def end_of_day(self, day: date) -> datetime:
        """The first instant after `day` in the calendar's timezone (a date-only deadline ends with its day), UTC."""
        return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(self.timezone)).astimezone(UTC)


class CalendarBook(BaseModel):
    """Named calendars and the calendar each GBU works by (`default` for the others)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(1, ge=1)
    calendars: dict[str, Calendar] = Field(min_length=1)
    gbus: dict[str, str] = Field(default_factory=dict, description="GBU -> calendar name; `default` for the rest.")

    @model_validator(mode="after")
    def _known_calendars(self) -> "CalendarBook":
        unknown = sorted({c for c in self.gbus.values() if c not in self.calendars})
        if unknown:
            raise ValueError(f"GBUs name unknown calendar(s) {unknown}")
        return self

    def name_for(self, gbu: str) -> str:
        """The name of the GBU's calendar, else the `default` GBU's, else the first calendar's."""
        return self.gbus.get(gbu) or self.gbus.get("default") or next(iter(self.calendars))

    def calendar_for(self, gbu: str) -> Calendar:
        """The GBU's calendar, else the `default` GBU's, else the first calendar."""
        return self.calendars[self.name_for(gbu)]


def load_calendars(path: Path | str | None = None) -> CalendarBook:
    """The calendar book of a YAML file (the shared one by default); a bad file raises at start."""
    return CalendarBook.model_validate(yaml.safe_load(Path(path or DEFAULT_FILE).read_text(encoding="utf-8")))


def _minutes(hhmm: str) -> int:
    try:
        h, m = hhmm.split(":")
        value = int(h) * 60 + int(m)
    except ValueError:
        raise ValueError(f"{hhmm!r} is not HH:MM") from None
    if not 0 <= int(m) < 60:
        raise ValueError(f"{hhmm!r} is not HH:MM")
    return value
