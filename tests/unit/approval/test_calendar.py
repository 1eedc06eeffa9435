"""Business-hours deadline arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from approval.core import Calendar

OSLO = Calendar(timezone="Europe/Oslo", working_days=["mon", "tue", "wed", "thu", "fri"], hours=("08:00", "16:00"),
                holidays=["2026-12-25"])
ALWAYS = Calendar(timezone="UTC", working_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], hours=("00:00", "24:00"))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_within_a_working_day():
    assert OSLO.add_business_hours(utc(2026, 11, 25, 8, 0), 2) == utc(2026, 11, 25, 10, 0)  # 09:00 Oslo + 2h


def test_over_the_weekend():
    # Friday 15:00 Oslo: one hour left, seven on Monday from 08:00 Oslo
    assert OSLO.add_business_hours(utc(2026, 11, 27, 14, 0), 8) == utc(2026, 11, 30, 14, 0)


def test_before_opening_and_after_closing():
    assert OSLO.add_business_hours(utc(2026, 11, 25, 5, 0), 1) == utc(2026, 11, 25, 8, 0)  # starts at 08:00 Oslo
    assert OSLO.add_business_hours(utc(2026, 11, 25, 18, 0), 1) == utc(2026, 11, 26, 8, 0)


def test_holidays_are_skipped():
    # Thursday 24 Dec 15:00 Oslo → 1h left; 25 Dec holiday, 26-27 weekend → Monday 28 Dec 09:00 Oslo
    assert OSLO.add_business_hours(utc(2026, 12, 24, 14, 0), 2) == utc(2026, 12, 28, 8, 0)


def test_daylight_saving_day_keeps_wall_clock_hours():
    # Sunday 29 March 2026 Oslo switches to CEST; Monday 08:00 CEST = 06:00 UTC
    assert OSLO.add_business_hours(utc(2026, 3, 27, 14, 0), 2) == utc(2026, 3, 30, 7, 0)


def test_24x7_counts_real_time():
    start = utc(2026, 11, 28, 23, 59)
    assert ALWAYS.add_business_hours(start, 0.01) == start + timedelta(seconds=36)
    assert ALWAYS.add_business_hours(start, 48) == start + timedelta(hours=48)


def test_bad_calendars_are_refused():
    with pytest.raises(ValueError, match="unknown timezone"):
        Calendar(timezone="Mars/Base", working_days=["mon"], hours=("08:00", "16:00"))
    with pytest.raises(ValueError, match="non-empty span"):
        Calendar(timezone="UTC", working_days=["mon"], hours=("16:00", "08:00"))
    with pytest.raises(ValueError, match="unknown day"):
        Calendar(timezone="UTC", working_days=["someday"], hours=("08:00", "16:00"))
