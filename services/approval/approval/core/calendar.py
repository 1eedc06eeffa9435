"""Business calendars: add working hours to an instant, in the calendar's own timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_SCANNED = 3660  # a calendar with no working time at all must not loop forever


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


def _minutes(hhmm: str) -> int:
    try:
        h, m = hhmm.split(":")
        value = int(h) * 60 + int(m)
    except ValueError:
        raise ValueError(f"{hhmm!r} is not HH:MM") from None
    if not 0 <= int(m) < 60:
        raise ValueError(f"{hhmm!r} is not HH:MM")
    return value
