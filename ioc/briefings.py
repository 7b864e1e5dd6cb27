"""Briefings (giao ban): a unit's figures for a day or a week, on paper and as PDF (docs/briefings.md).

Every subsystem gives its own section through its registration (`Subsystem.briefing`), computed by
the selectors its wall panel uses, for the briefing's window instead of "the last 7 days from now":
the paper and the screen never disagree. A section is a dict:

    {"headline": [{"label", "value", "previous", "unit", "better": "up" | "down" | None}, ...],
     "tables": [{"title", "columns": [str, ...], "rows": [[cell, ...], ...], "empty": str}, ...],
     "charts": [{"title", "svg"}, ...]}

The core adds the open critical alerts and the directives. Times are local (Asia/Ho_Chi_Minh).
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ioc import notify, registry
from ioc.errors import ValidationError
from ioc.models import Briefing, BriefingSubscription, Period, Severity, Unit
from ioc.scope import Scope, scope_for, scope_for_unit
from ioc.worktime import WorkCalendar

SEND_HOUR = 7  # subscribed briefings go out at 07:00 local
ALERT_LIMIT = 30
KEEP = 12  # briefings kept per unit and period for download


@dataclass(frozen=True)
class Window:
    """What a briefing covers, [start, end), beside the window just before it, for the changes."""

    period: str
    start: datetime
    end: datetime

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    @property
    def previous(self) -> "Window":
        return Window(self.period, self.previous_start, self.start)

    @property
    def label(self) -> str:
        last = timezone.localtime(self.end) - timedelta(seconds=1)
        first = timezone.localtime(self.start)
        if self.period == Period.DAILY and first.date() == last.date():
            return first.strftime("%d/%m/%Y")
        return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


def _midnight(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def window(period: str, ending: datetime | None = None) -> Window:
    """The last whole day (daily) or the last whole week from Monday (weekly) before `ending` (now)."""
    if period not in Period.values:
        raise ValueError(period)
    end = _midnight(ending or timezone.now())
    if period == Period.WEEKLY:
        end -= timedelta(days=end.weekday())
        return Window(period, end - timedelta(days=7), end)
    return Window(period, end - timedelta(days=1), end)


def change(value, previous) -> float | None:
    """value - previous, when both are numbers."""
    if isinstance(value, int | float) and isinstance(previous, int | float):
        return round(value - previous, 1)
    return None


def sections(scope: Scope, when: Window) -> list[dict]:
    """Each enabled subsystem's section, in the wall's order; one without data is left out."""
    found = []
    for subsystem in registry.enabled():
        if subsystem.briefing is None:
            continue
        section = subsystem.briefing(scope, when)
        if section is None:
            continue
        for figure in section.get("headline", ()):
            figure["change"] = change(figure.get("value"), figure.get("previous"))
        found.append({"code": subsystem.code, "title": subsystem.name, **section})
    return found


def context(unit: Unit, when: Window, *, now: datetime | None = None) -> dict:
    """Everything the briefing page shows for `unit` (and the units under it) over `when`."""
    from ioc import selectors

    now = now or timezone.now()
    scope = scope_for_unit(unit)
    return {
        "unit": unit,
        "window": when,
        "sections": sections(scope, when),
        "alerts": list(selectors.open_alerts(scope).filter(severity=Severity.CRITICAL)[:ALERT_LIMIT]),
        "directives": selectors.directive_figures(scope, when.start, when.end, now),
        "generated_at": timezone.localtime(now),
        "title": title(unit, when),
        "footer": f"{title(unit, when)} · {_('generated at')} {timezone.localtime(now):%H:%M %d/%m/%Y}",
    }


def html(unit: Unit, when: Window, *, now=None, language: str = "vi") -> str:
    with translation.override(language):
        return render_to_string("ioc/briefing.html", {**context(unit, when, now=now), "for_print": True})


def pdf(unit: Unit, when: Window, *, now=None, language: str = "vi") -> tuple[bytes, int]:
    """The briefing as A4 PDF, and its number of pages."""
    from weasyprint import HTML

    document = HTML(string=html(unit, when, now=now, language=language)).render()
    return document.write_pdf(), len(document.pages)


# --- when subscribed briefings go out ----------------------------------------------------------


def due(period: str, today, calendar: WorkCalendar) -> bool:
    """Whether `period`'s briefing goes out on `today` at 07:00: daily ones on working days (the day
    after a holiday covers it), weekly ones on the week's first working day."""
    if not calendar.is_working_day(today):
        return False
    if period == Period.DAILY:
        return True
    monday = today - timedelta(days=today.weekday())
    first = monday
    while not calendar.is_working_day(first) and first < today:
        first += timedelta(days=1)
    return first == today


def covering(period: str, today, calendar: WorkCalendar) -> Window:
    """What a briefing sent on `today` covers, up to this morning's midnight: the last whole week
    (weekly), or the days since the previous working day (daily: the morning after a holiday or a
    weekend covers those days too)."""
    end = _midnight(timezone.make_aware(datetime.combine(today, datetime.min.time())))
    if period == Period.WEEKLY:
        return window(period, end)
    start = end - timedelta(days=1)
    for _day in range(30):  # the longest run of days off (Tết) is well under a month
        if calendar.is_working_day(timezone.localtime(start).date()):
            break
        start -= timedelta(days=1)
    return Window(period, start, end)


def timed(build, *args, **kwargs):
    started = time.perf_counter()
    result = build(*args, **kwargs)
    return result, time.perf_counter() - started


def title(unit: Unit, when: Window) -> str:
    kind = _("Daily briefing") if when.period == Period.DAILY else _("Weekly briefing")
    return f"{kind} {unit.name} {when.label}"


# --- subscriptions and the briefings kept (reads and writes of this feature) --------------------


def subscriptions_of(user):
    return BriefingSubscription.objects.filter(user=user).select_related("unit").order_by("unit__name", "period")


def kept(scope: Scope, *, limit: int | None = KEEP * 4):
    """The briefings generated for units in `scope`, newest first."""
    rows = scope.filter(Briefing.objects.select_related("unit"), "unit").order_by("-ends_at", "-pk")
    return rows[:limit] if limit else rows


def subscribe(*, user, unit: Unit, period: str) -> BriefingSubscription:
    if period not in Period.values:
        raise ValidationError({"period": _("The period is daily or weekly.")})
    if not scope_for(user).contains(unit):
        raise ValidationError({"unit": _("That unit is outside your area.")})
    if not user.email:
        raise ValidationError({"email": _("Add an e-mail address to your account to receive briefings.")})
    subscription, _created = BriefingSubscription.objects.get_or_create(user=user, unit=unit, period=period)
    return subscription


def unsubscribe(*, user, unit: Unit, period: str) -> int:
    return BriefingSubscription.objects.filter(user=user, unit=unit, period=period).delete()[0]


def generate(unit: Unit, when: Window, *, now=None) -> Briefing:
    """The briefing of `unit` for `when` as PDF, stored once (a second call returns the first); the
    unit keeps the last KEEP of each period."""
    existing = Briefing.objects.filter(unit=unit, period=when.period, ends_at=when.end).first()
    if existing is not None:
        return existing
    (content, pages), seconds = timed(pdf, unit, when, now=now)
    briefing = Briefing(
        unit=unit,
        period=when.period,
        starts_at=when.start,
        ends_at=when.end,
        generated_at=now or timezone.now(),
        seconds=round(seconds, 2),
        pages=pages,
    )
    briefing.pdf.save(f"giao-ban-{unit.code}-{when.period}-{when.end:%Y%m%d}.pdf", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            briefing.save()
    except IntegrityError:  # another worker made it meanwhile
        briefing.pdf.delete(save=False)
        return Briefing.objects.get(unit=unit, period=when.period, ends_at=when.end)
    for old in Briefing.objects.filter(unit=unit, period=when.period).order_by("-ends_at")[KEEP:]:
        old.pdf.delete(save=False)
        old.delete()
    return briefing


def send_due(now=None) -> int:
    """At 07:00 local: generate each subscribed briefing due today and e-mail its subscribers a link
    through the notification outbox. Safe to run again (a briefing is made once per unit and period,
    and a subscriber is told once)."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < SEND_HOUR:
        return 0
    calendar = WorkCalendar.load()
    today = now.date()
    told = 0
    for period in Period.values:
        if not due(period, today, calendar):
            continue
        when = covering(period, today, calendar)
        subscriptions = BriefingSubscription.objects.filter(period=period).select_related("unit", "user")
        by_unit: dict[int, list] = {}
        for subscription in subscriptions:
            if subscription.user.is_active and scope_for(subscription.user).contains(subscription.unit):
                by_unit.setdefault(subscription.unit_id, []).append(subscription)
        for group in by_unit.values():
            unit = group[0].unit
            briefing = generate(unit, when, now=now)
            with transaction.atomic():
                fresh = Briefing.objects.select_for_update().get(pk=briefing.pk)
                sent_to = set(fresh.sent_to or [])
                users = [s.user for s in group if s.user_id not in sent_to]
                if not users:
                    continue
                link = settings.IOC_PUBLIC_URL.rstrip("/") + reverse("briefing-download", args=[briefing.pk])
                with translation.override("vi"):
                    told += notify.notify_users(
                        users,
                        subject=title(unit, when),
                        body=_("The briefing is ready (%(pages)s pages): %(link)s")
                        % {"pages": briefing.pages, "link": link},
                    )
                fresh.sent_to = sorted(sent_to | {u.pk for u in users})
                fresh.save(update_fields=["sent_to"])
    return told
