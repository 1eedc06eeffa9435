"""Case time-frames: due times in business hours of the GBU's calendar, due dates, moves, firing, escalation targets."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from routing.core.timeframes import TimeFrames, due_of, escalation_target, fire, load_time_frames, moved
from shared.calendars import load_calendars
from shared.directory import load_directory
from shared.lifecycles import load_lifecycles

BOOK, PEOPLE = load_calendars(), load_directory()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def frames() -> TimeFrames:
    return load_time_frames(PEOPLE, set(load_lifecycles()))


def test_due_counts_working_hours_only_over_the_weekend(frames):
    # Helpdesk: 16 h. Opened Friday 27 Nov 2026 14:00 Oslo (13:00 UTC): 2 h on Friday, 8 on Monday, 6 on Tuesday.
    timer = due_of("helpdesk", "marine", utc(2026, 11, 27, 13, 0), None, frames, BOOK)
    assert timer.frame == "helpdesk" and timer.calendar == "eu-office"
    assert timer.due_at == utc(2026, 12, 1, 13, 0)  # Tuesday 14:00 Oslo
    assert timer.escalate_at == utc(2026, 12, 2, 13, 0)  # + 8 h: Wednesday 14:00 Oslo


def test_holidays_of_the_calendar_are_not_worked(frames):
    # Opened Wednesday 23 Dec 08:00 Oslo: 8 h that day, 24 + 25 Dec are holidays, 26/27 a weekend: Monday 28 Dec.
    timer = due_of("helpdesk", "marine", utc(2026, 12, 23, 7, 0), None, frames, BOOK)
    assert timer.due_at == utc(2026, 12, 28, 15, 0)  # Monday 16:00 Oslo, the end of its working day


def test_the_gbu_picks_the_calendar_and_the_more_specific_frame(frames):
    us = due_of("helpdesk", "packaging", utc(2026, 11, 25, 14, 0), None, frames, BOOK)  # 09:00 New York
    assert us.calendar == "us-office" and us.due_at == utc(2026, 11, 26, 22, 0)  # 8 h Wednesday + 8 h Thursday, 17:00 New York
    assert due_of("claim", "marine", utc(2026, 11, 25, 7, 0), None, frames, BOOK).frame == "claim-marine"
    assert due_of("claim", "lighting", utc(2026, 11, 25, 7, 0), None, frames, BOOK).frame == "claim"


def test_a_due_date_wins_and_ends_with_its_day(frames):
    timer = due_of("helpdesk", "marine", utc(2026, 11, 25, 7, 0), date(2026, 12, 3), frames, BOOK)
    assert timer.frame == "due_date" and timer.due_at == utc(2026, 12, 3, 23, 0)  # midnight Oslo
    assert timer.escalate_at == utc(2026, 12, 4, 15, 0)  # 8 working hours later: Friday 16:00 Oslo


def test_a_case_type_without_a_time_frame_has_no_timer(frames):
    assert due_of("csr", "marine", utc(2026, 11, 25, 7, 0), None, frames, BOOK) is None


def test_fired_parts_stay_fired_unless_the_times_move(frames):
    timer = due_of("helpdesk", "marine", utc(2026, 11, 25, 7, 0), None, frames, BOOK)
    early, nothing = fire(timer, utc(2026, 11, 25, 8, 0))
    assert nothing == [] and early.next_due() == timer.due_at
    reminded, what = fire(timer, timer.due_at)
    assert what == ["reminded"] and reminded.next_due() == timer.escalate_at
    assert moved(reminded, timer).reminded  # same times: what fired stays fired
    later = due_of("helpdesk", "marine", utc(2026, 11, 25, 7, 0), date(2026, 12, 10), frames, BOOK)
    assert moved(reminded, later) is later and not later.reminded  # a changed due date starts again
    done, both = fire(timer, utc(2027, 1, 1))
    assert both == ["reminded", "escalated"] and done.next_due() is None


def test_escalation_goes_to_the_manager_else_the_queue_owner(frames):
    helpdesk = frames.frame_for("helpdesk", "marine")
    assert escalation_target(helpdesk, "carl", "helpdesk", frames, PEOPLE) == ("clara", "manager of carl")
    assert escalation_target(helpdesk, "hank", "helpdesk", frames, PEOPLE) == ("clara", "owner of queue helpdesk")
    assert escalation_target(helpdesk, None, "nowhere", frames, PEOPLE) is None
    request = frames.frame_for("customer_request", "marine")
    assert escalation_target(request, "hank", None, frames, PEOPLE) == ("peter", "named by the time-frame")


def test_a_broken_time_frame_file_is_refused_with_every_problem(tmp_path):
    bad = tmp_path / "tf.yaml"
    bad.write_text("frames:\n  - {id: a, case_type: nope, hours: 1, escalate_to: [ghost]}\n"
                   "  - {id: a, case_type: helpdesk, hours: 1}\n  - {id: b, case_type: helpdesk, hours: 2}\n"
                   "queue_owners: {helpdesk: nobody}\n")
    with pytest.raises(ValueError) as err:
        load_time_frames(PEOPLE, set(load_lifecycles()), bad)
    for part in ("unknown case type 'nope'", "unknown person 'ghost'", "unknown owner 'nobody'",
                 "more than one frame for helpdesk", "duplicate frame id 'a'"):
        assert part in str(err.value)
