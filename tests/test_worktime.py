"""The one deadline calculator: clock hours, working hours, working days on Vietnam's calendar."""

from datetime import date, datetime, timedelta

import pytest

from ioc.models import CalendarDay
from ioc.worktime import LOCAL_TZ, WorkCalendar, due_at, parse_sessions

pytestmark = pytest.mark.django_db


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


@pytest.fixture
def calendar():
    return WorkCalendar.load()


def test_urgent_two_hours_in_clock_time_across_midnight(calendar):
    assert due_at(at(2026, 3, 10, 23, 15), 2, "clock_hours", calendar) == at(2026, 3, 11, 1, 15)


def test_working_hours_skip_the_lunch_break(calendar):
    # Tuesday 10:30 + 4 working hours: 1 h before lunch, 3 h after 13:30.
    assert due_at(at(2026, 3, 10, 10, 30), 4, "working_hours", calendar) == at(2026, 3, 10, 16, 30)


def test_working_hours_skip_the_weekend(calendar):
    # Friday 16:00 + 2 h: one hour on Friday, the next on Monday morning.
    assert due_at(at(2026, 3, 13, 16), 2, "working_hours", calendar) == at(2026, 3, 16, 8, 30)


def test_working_hours_skip_tet(calendar):
    # Friday 13 Feb 2026 16:00 + 8 h: Tết runs Monday 16 to Friday 20 February.
    assert due_at(at(2026, 2, 13, 16), 8, "working_hours", calendar) == at(2026, 2, 23, 16, 30)


def test_a_make_up_saturday_entered_by_an_admin_counts(calendar):
    CalendarDay.objects.create(date=date(2026, 3, 7), kind=CalendarDay.Kind.WORKING_DAY, note="Làm bù")
    assert due_at(at(2026, 3, 6, 16), 2, "working_hours", WorkCalendar.load()) == at(2026, 3, 7, 8, 30)


def test_a_make_up_saturday_of_the_national_calendar_counts(calendar):
    # Saturday 22 August 2026 is worked in exchange for Monday 31 August.
    assert due_at(at(2026, 8, 21, 16), 2, "working_hours", calendar) == at(2026, 8, 22, 8, 30)
    assert due_at(at(2026, 8, 28, 16), 2, "working_hours", calendar) == at(2026, 9, 3, 8, 30)


def test_an_extra_day_off_entered_by_an_admin_is_skipped(calendar):
    CalendarDay.objects.create(date=date(2026, 3, 16), kind=CalendarDay.Kind.DAY_OFF, note="Nghỉ bão")
    assert due_at(at(2026, 3, 13, 16), 2, "working_hours", WorkCalendar.load()) == at(2026, 3, 17, 8, 30)


def test_a_report_received_at_night_starts_at_the_next_session(calendar):
    assert due_at(at(2026, 3, 10, 22), 1, "working_hours", calendar) == at(2026, 3, 11, 8, 30)
    assert due_at(at(2026, 3, 10, 12, 15), 1, "working_hours", calendar) == at(2026, 3, 10, 14, 30)


def test_working_days_are_whole_days_of_sessions(calendar):
    assert due_at(at(2026, 3, 9, 10), 1, "working_days", calendar) == at(2026, 3, 10, 10)
    assert due_at(at(2026, 3, 13, 10), 5, "working_days", calendar) == at(2026, 3, 20, 10)


def test_working_time_between_counts_only_sessions(calendar):
    assert calendar.working_time_between(at(2026, 3, 13, 16), at(2026, 3, 16, 8, 30)) == timedelta(hours=2)


def test_other_sessions_come_from_settings(settings):
    settings.IOC_WORK_SESSIONS = "08:00-12:00,13:00-17:00"
    assert due_at(at(2026, 3, 10, 11), 2, "working_hours", WorkCalendar.load()) == at(2026, 3, 10, 14)


@pytest.mark.parametrize("spec", ["", "7:30", "11:30-07:30", "07:30-11:30,11:00-17:00", "a-b"])
def test_malformed_sessions_are_refused(spec):
    with pytest.raises(ValueError):
        parse_sessions(spec)


def test_unknown_unit_and_negative_amounts_are_refused(calendar):
    with pytest.raises(ValueError):
        due_at(at(2026, 3, 10, 9), 1, "fortnights", calendar)
    with pytest.raises(ValueError):
        due_at(at(2026, 3, 10, 9), -1, "clock_hours", calendar)
