"""The shared calendar book: the file loads, agrees with the approval rules' calendars, refuses bad GBU maps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from approval.core import load_rule_file
from shared.calendars import CalendarBook, load_calendars


def test_the_shared_calendars_are_the_ones_the_approval_rules_use():
    book, rules = load_calendars(), load_rule_file()
    assert {k: c.model_dump() for k, c in book.calendars.items()} == {
        k: CalendarBook.model_validate({"calendars": {k: v}}).calendars[k].model_dump() for k, v in rules["calendars"].items()}
    assert book.gbus == {gbu: entry["calendar"] for gbu, entry in rules["gbus"].items()}


def test_a_gbu_without_its_own_calendar_uses_the_default():
    book = load_calendars()
    assert book.calendar_for("packaging").timezone == "America/New_York"
    assert book.calendar_for("unknown-gbu").timezone == "Europe/Oslo"


def test_a_date_ends_at_local_midnight():
    oslo = load_calendars().calendars["eu-office"]
    assert oslo.end_of_day(date(2026, 12, 1)) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # CET = UTC+1


def test_a_gbu_naming_an_unknown_calendar_is_refused():
    with pytest.raises(ValidationError, match="unknown calendar"):
        CalendarBook.model_validate({"calendars": {"a": {"timezone": "UTC", "working_days": ["mon"],
                                                         "hours": ["08:00", "16:00"]}}, "gbus": {"x": "moon"}})
