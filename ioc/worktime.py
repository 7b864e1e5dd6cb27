"""Working time and deadlines: the one deadline calculator every subsystem uses.

A deadline policy is an amount in one of three units:
- clock hours: plain elapsed time, nights and holidays included (the 2-hour urgent rule);
- working hours: time inside the working sessions (default 07:30-11:30 and 13:30-17:00),
  Monday to Friday, minus public holidays, plus make-up working days;
- working days: that many full working days, counted as working hours (one working day is the
  length of a day's sessions), so a report received on Monday at 10:00 with one working day
  is due on Tuesday at 10:00, and one received at night starts at the next session.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_DAYS_AHEAD = 3 * 366  # a deadline further than this is a configuration mistake


class DurationUnit(models.TextChoices):
    CLOCK_HOURS = "clock_hours", _("hours (clock time)")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


@lru_cache(maxsize=1)
def _vietnam_holidays():
    # Built once per process: the package computes each year's (lunar) holidays on first use.
    return holidays.Vietnam()


def parse_sessions(spec: str) -> list[tuple[time, time]]:
    """'07:30-11:30,13:30-17:00' -> [(07:30, 11:30), (13:30, 17:00)], checked for order."""
    sessions = []
    for part in spec.split(","):
        try:
            start, end = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError:
            raise ValueError(f"working session {part!r} must look like 07:30-11:30") from None
        if end <= start or (sessions and start < sessions[-1][1]):
            raise ValueError(f"working sessions {spec!r} must be increasing and not overlap")
        sessions.append((start, end))
    if not sessions:
        raise ValueError("at least one working session is needed")
    return sessions


@dataclass
class WorkCalendar:
    sessions: list[tuple[time, time]]
    days_off: set[date]
    working_days: set[date]

    @classmethod
    def load(cls) -> "WorkCalendar":
        """The calendar in force: sessions from settings, exceptions from the database."""
        from ioc.models import CalendarDay

        rows = list(CalendarDay.objects.values_list("date", "kind"))
        return cls(
            sessions=parse_sessions(settings.IOC_WORK_SESSIONS),
            days_off={d for d, kind in rows if kind == CalendarDay.Kind.DAY_OFF},
            working_days={d for d, kind in rows if kind == CalendarDay.Kind.WORKING_DAY},
        )

    @property
    def _public(self):
        return _vietnam_holidays()

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        # Knows weekends, Vietnam's public holidays and the make-up Saturdays decided for them.
        return self._public.is_working_day(day)

    @property
    def hours_per_day(self) -> Decimal:
        seconds = sum(
            (datetime.combine(date.min, end) - datetime.combine(date.min, start)).seconds
            for start, end in self.sessions
        )
        return Decimal(seconds) / 3600

    def _sessions_from(self, moment: datetime):
        """Working intervals (start, end) in local time, from `moment` on."""
        day = moment.date()
        for _day in range(MAX_DAYS_AHEAD):
            if self.is_working_day(day):
                for start, end in self.sessions:
                    begin = datetime.combine(day, start, LOCAL_TZ)
                    finish = datetime.combine(day, end, LOCAL_TZ)
                    if finish > moment:
                        yield max(begin, moment), finish
            day += timedelta(days=1)
        raise ValueError("no working time within three years; check the calendar")

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when `amount` of working time has passed after `start`."""
        left = amount
        moment = start.astimezone(LOCAL_TZ)
        for begin, end in self._sessions_from(moment):
            if left <= end - begin:
                return begin + left
            left -= end - begin
        raise AssertionError("unreachable")  # _sessions_from raises first

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from `start` to `end` (zero if end is not after start)."""
        total = timedelta()
        if end <= start:
            return total
        end = end.astimezone(LOCAL_TZ)
        for begin, finish in self._sessions_from(start.astimezone(LOCAL_TZ)):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total


def due_at(start: datetime, amount: Decimal | int | float, unit: str, calendar: WorkCalendar) -> datetime:
    """The deadline for something received at `start` under a policy of `amount` `unit`."""
    amount = Decimal(str(amount))
    if amount < 0:
        raise ValueError("a deadline cannot be negative")
    if unit == DurationUnit.CLOCK_HOURS:
        return start + timedelta(hours=float(amount))
    if unit == DurationUnit.WORKING_HOURS:
        return calendar.add_working_time(start, timedelta(hours=float(amount)))
    if unit == DurationUnit.WORKING_DAYS:
        return calendar.add_working_time(start, timedelta(hours=float(amount * calendar.hours_per_day)))
    raise ValueError(f"unknown duration unit {unit!r}")
