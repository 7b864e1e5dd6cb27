"""Periods: parse what senders write ("2026-11", "2026-Q3", "2026-11-26T08:00+07:00") into the start
of the indicator's period, in the deployment's time zone."""

import re
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from indicators.models import Period

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return timezone.localtime(moment)


def period_start(period: str, moment: datetime) -> datetime:
    """The start of the `period` that holds `moment` (aware, local time)."""
    moment = _local(moment)
    if period == Period.HOURLY:
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Period.DAILY:
        return day
    if period == Period.MONTHLY:
        return day.replace(day=1)
    if period == Period.QUARTERLY:
        return day.replace(day=1, month=(moment.month - 1) // 3 * 3 + 1)
    return day.replace(day=1, month=1)


def parse_period(period: str, text) -> datetime | None:
    """The start of the period `text` names, or None when `text` is no period."""
    if isinstance(text, datetime):
        return period_start(period, text)
    if isinstance(text, date):
        return period_start(period, datetime(text.year, text.month, text.day))
    if not isinstance(text, str):
        return None
    text = text.strip()
    try:
        if m := _YEAR.match(text):
            return period_start(period, datetime(int(m[1]), 1, 1))
        if m := _QUARTER.match(text):
            return period_start(period, datetime(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
        if m := _MONTH.match(text):
            return period_start(period, datetime(int(m[1]), int(m[2]), 1))
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    return period_start(period, moment) if moment else None


def step_back(period: str, start: datetime, n: int) -> datetime:
    """The start of the period `n` periods before `start`."""
    if period == Period.HOURLY:
        return start - timedelta(hours=n)
    if period == Period.DAILY:
        return _local(start - timedelta(days=n)).replace(hour=0)
    months = {Period.MONTHLY: 1, Period.QUARTERLY: 3, Period.YEARLY: 12}[period] * n
    index = start.year * 12 + start.month - 1 - months
    return start.replace(year=index // 12, month=index % 12 + 1, day=1)


def label(period: str, start: datetime) -> str:
    start = _local(start)
    if period == Period.HOURLY:
        return f"{start:%d/%m %H:00}"
    if period == Period.DAILY:
        return f"{start:%d/%m/%Y}"
    if period == Period.MONTHLY:
        return f"{start:%m/%Y}"
    if period == Period.QUARTERLY:
        return f"Q{(start.month - 1) // 3 + 1}/{start.year}"
    return str(start.year)
