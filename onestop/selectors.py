"""Reads of the one-stop subsystem: scoped querysets, the Decision 766 indicators, the late-rate
ranking and the wall figures. See docs/onestop.md for every formula."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ioc import ingest
from ioc.errors import ValidationError
from ioc.models import Unit
from ioc.scope import Scope
from ioc.worktime import LOCAL_TZ
from onestop import conf
from onestop.models import (
    NOT_COUNTED_STATUSES,
    OPEN_STATUSES,
    Channel,
    Counter,
    Dossier,
    DossierMonth,
    DossierStatus,
    Office,
)
from onestop.services import effective_due, open_dossiers, overdue_at

# (code, label, full points, rate it is computed from, rate at which it earns full points, estimated)
GROUPS = [
    ("transparency", "Công khai, minh bạch", 18, "due_date_rate", 100.0, True),
    ("progress", "Tiến độ giải quyết", 20, "on_time_rate", 100.0, False),
    ("online_services", "Dịch vụ công trực tuyến", 12, "online_rate", 50.0, False),
    ("online_payment", "Thanh toán trực tuyến", 10, "online_payment_rate", 80.0, False),
    ("satisfaction", "Mức độ hài lòng", 18, "satisfaction_rate", 90.0, False),
    ("digitization", "Số hóa hồ sơ", 22, "digitization_rate", 80.0, False),
]


def dossiers_visible_to(scope: Scope):
    return scope.filter(Dossier.objects.select_related("procedure", "unit"), "unit")


def offices_visible_to(scope: Scope):
    return scope.filter(Office.objects.select_related("unit"), "unit")


def counters_visible_to(scope: Scope):
    return scope.filter(Counter.objects.select_related("office__unit", "camera"), "office__unit")


def status_history(dossier: Dossier) -> list[tuple[int, datetime]]:
    """The dossier's status changes in time order: every status reported, repeats of the one before dropped."""
    changes = []
    for status, at in dossier.history.order_by("at", "pk").values_list("status", "at"):
        if not changes or changes[-1][0] != status:
            changes.append((status, at))
    return changes


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in local time; `label` names it ("2026-11", "2026-Q4", "2026", "2026-11-01..2026-11-15")."""

    start: datetime
    end: datetime
    label: str


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TZ)


def _month(year: int, month: int) -> Period:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(_midnight(date(year, month, 1)), _midnight(following), f"{year}-{month:02d}")


def _quarter(year: int, quarter: int) -> Period:
    first = _month(year, 3 * quarter - 2)
    return Period(first.start, _month(year, 3 * quarter).end, f"{year}-Q{quarter}")


def _year(year: int) -> Period:
    return Period(_midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1)), str(year))


def parse_period(value: str | None = None, *, start: str | None = None, end: str | None = None, today=None) -> Period:
    """month | quarter | year (the current one), 2026-11 | 2026-Q4 | 2026, or custom with start and end
    dates (both days included)."""
    today = today or timezone.localdate()
    value = (value or "month").strip()
    try:
        if value == "month":
            return _month(today.year, today.month)
        if value == "quarter":
            return _quarter(today.year, (today.month - 1) // 3 + 1)
        if value == "year":
            return _year(today.year)
        if value == "custom":
            first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
            if last < first or not ingest.FIRST_YEAR <= first.year <= last.year <= ingest.LAST_YEAR:
                raise ValueError
            return Period(_midnight(first), _midnight(last + timedelta(days=1)), f"{first}..{last}")
        year = int(value[:4]) if value[:4].isascii() and value[:4].isdigit() else None
        if year is not None and not ingest.FIRST_YEAR <= year <= ingest.LAST_YEAR:
            raise ValueError
        if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
            return _month(int(match[1]), int(match[2]))
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", value, re.IGNORECASE):
            return _quarter(int(match[1]), int(match[2]))
        if re.fullmatch(r"\d{4}", value):
            return _year(int(value))
    except (ValueError, OverflowError):  # no such day, or a year outside FIRST_YEAR..LAST_YEAR
        pass
    raise ValidationError(
        {
            "period": _(
                "Use month, quarter, year, 2026-11, 2026-Q4, 2026, or custom with start and end dates (YYYY-MM-DD)."
            )
        }
    )


# --- Decision 766 indicators --------------------------------------------------------------------


def _handled(period: Period) -> Q:
    """Handled in the period: received before its end, and finished in it or still open at its end."""
    return (
        Q(received_at__lt=period.end)
        & ~Q(status__in=NOT_COUNTED_STATUSES)
        & (Q(finished_at__isnull=True) | Q(finished_at__gte=period.start))
    )


def _received(period: Period) -> Q:
    return Q(received_at__gte=period.start, received_at__lt=period.end) & ~Q(
        status__in=(DossierStatus.REGISTERED, DossierStatus.NOT_ACCEPTED)
    )


def _on_time(period: Period, judged_at: datetime) -> Case:
    """1 if the dossier is on time as judged at min(period end, now), else 0."""
    end, at = period.end, judged_at
    waiting_on_citizen = Q(supplement_requested_at__lte=at) & (
        Q(supplement_supplied_at__isnull=True) | Q(supplement_supplied_at__gt=at)
    )
    return Case(
        When(second_supplement_requested_at__lte=at, then=Value(0)),  # a second request is late by rule
        When(due_at__isnull=True, then=Value(1)),
        When(Q(finished_at__lt=end) & Q(finished_at__lte=Coalesce(F("extended_due_at"), F("due_at"))), then=Value(1)),
        When(finished_at__lt=end, then=Value(0)),
        # Open at the end of the period, the clock stopped at the request: on time if asked in time.
        When(waiting_on_citizen & Q(supplement_requested_at__lte=F("due_at")), then=Value(1)),
        When(waiting_on_citizen, then=Value(0)),
        When(Q(supplement_supplied_at__lte=at) & Q(extended_due_at__gte=at), then=Value(1)),
        When(supplement_supplied_at__lte=at, then=Value(0)),
        When(due_at__gte=at, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _touching(period: Period) -> Q:
    """Rows that can count in the period at all: a WHERE clause the indexes can serve."""
    return Q(received_at__lt=period.end) & (
        Q(finished_at__isnull=True) | Q(finished_at__gte=period.start) | Q(received_at__gte=period.start)
    )


COUNT_NAMES = ("handled", "on_time", "complaints", "received", "with_due_date", "online", "digitized", "with_fees",
               "paid_online")  # fmt: skip


def whole_months(period: Period) -> bool:
    """Whether the period runs from a first of the month to a first of the month (local midnights):
    the roll-ups answer it."""
    start, end = period.start.astimezone(LOCAL_TZ), period.end.astimezone(LOCAL_TZ)
    return all(m.day == 1 and m.time() == time.min for m in (start, end))


def figures_by_unit(scope: Scope, period: Period, now: datetime, by: str = "unit_id") -> dict:
    """Per receiving unit (its id, or `by`: "unit__path"): the counts every indicator is computed from.
    Whole months read the monthly roll-ups and judge only what they leave out from the dossiers (two
    queries, whatever the number of dossiers); any other period scans the dossiers (one query)."""
    if whole_months(period):
        return _figures_from_rollups(scope, period, now, by)
    return scanned_figures_by_unit(scope, period, now, by)


def _figures_from_rollups(scope: Scope, period: Period, now: datetime, by: str) -> dict:
    first, last = period.start.astimezone(LOCAL_TZ).date(), period.end.astimezone(LOCAL_TZ).date()
    finished = Q(finished_month__gte=first, finished_month__lt=last, received_month__lt=last)
    received = Q(received_month__gte=first, received_month__lt=last)
    sums = {name: Coalesce(Sum(name, filter=finished), 0) for name in ("handled", "on_time", "complaints")}
    sums |= {name: Coalesce(Sum(name, filter=received), 0) for name in COUNT_NAMES if name not in sums}
    rows = scope.filter(DossierMonth.objects.filter(finished | received), "unit").values(by).annotate(**sums).order_by()
    figures = {row.pop(by): row for row in rows}
    # Left to judge from the dossiers, handled in the period: the open ones (a partial index holds
    # them with what judging needs), and those finished after the period or before a second
    # supplement request (few). Two queries, each on an index of its own.
    handled = _handled(period)
    open_now = Q(finished_at__isnull=True) & ~Q(status__in=NOT_COUNTED_STATUSES) & Q(received_at__lt=period.end)
    rest = handled & (Q(second_supplement_requested_at__gt=F("finished_at")) | Q(finished_at__gte=period.end))
    judged = []
    for left in (open_now, rest):
        judged += (
            scope.filter(Dossier.objects.filter(left), "unit")
            .values(by)
            .annotate(
                handled=Count("pk"),
                on_time=Coalesce(Sum(_on_time(period, min(period.end, now))), 0),
                complaints=Count("pk", filter=Q(complaint=True) | Q(satisfaction=1)),
            )
            .order_by()
        )
    for row in judged:
        counts = figures.setdefault(row.pop(by), dict.fromkeys(COUNT_NAMES, 0))
        for name, value in row.items():
            counts[name] += value
    return {key: counts for key, counts in figures.items() if any(counts.values())}


def scanned_figures_by_unit(scope: Scope, period: Period, now: datetime, by: str = "unit_id") -> dict:
    """figures_by_unit from the dossiers themselves, in one query (any period)."""
    handled, received = _handled(period), _received(period)
    rows = (
        scope.filter(Dossier.objects.filter(_touching(period)), "unit")
        .values(by)
        .annotate(
            handled=Count("pk", filter=handled),
            on_time=Coalesce(Sum(_on_time(period, min(period.end, now)), filter=handled), 0),
            complaints=Count("pk", filter=handled & (Q(complaint=True) | Q(satisfaction=1))),
            received=Count("pk", filter=received),
            with_due_date=Count("pk", filter=received & Q(due_at__isnull=False)),
            online=Count("pk", filter=received & Q(channel=Channel.ONLINE)),
            digitized=Count("pk", filter=received & Q(digitized=True, electronic_result=True)),
            with_fees=Count("pk", filter=received & Q(has_fees=True)),
            paid_online=Count("pk", filter=received & Q(has_fees=True, paid_online=True)),
        )
        .order_by()
    )
    return {row.pop(by): row for row in rows}


def _total(per_unit: dict[int, dict]) -> dict:
    return {name: sum(row[name] for row in per_unit.values()) for name in COUNT_NAMES}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def rates_from(counts: dict) -> dict:
    handled = counts["handled"]
    on_time = _percent(counts["on_time"], handled)
    complaint = _percent(counts["complaints"], handled)
    satisfaction = None
    if handled:
        late = handled - counts["on_time"]
        satisfaction = round(max(0.0, 100 - 100 * (late + counts["complaints"]) / handled), 2)
    return {
        "on_time_rate": on_time,
        "overdue_rate": round(100 - on_time, 2) if on_time is not None else None,
        "complaint_rate": complaint,
        "satisfaction_rate": satisfaction,
        "online_rate": _percent(counts["online"], counts["received"]),
        "digitization_rate": _percent(counts["digitized"], counts["received"]),
        "online_payment_rate": _percent(counts["paid_online"], counts["with_fees"]),
        "due_date_rate": _percent(counts["with_due_date"], counts["received"]),
    }


def group_scores(rates: dict) -> list[dict]:
    """Each group's points: full points times rate / full-points rate, capped at full points."""
    groups = []
    for code, label, full, rate_code, full_at, estimated in GROUPS:
        rate = rates[rate_code]
        points = None if rate is None else round(full * min(rate / full_at, 1.0), 2)
        groups.append(
            {
                "code": code,
                "label": label,
                "max": full,
                "points": points,
                "rate": rate_code,
                "full_at": full_at,
                "estimated": estimated,
            }
        )
    return groups


def indicators(scope: Scope, period: Period, now: datetime | None = None, per_unit: dict | None = None) -> dict:
    """The Decision 766 indicators of the dossiers received by units in `scope`, for `period`."""
    now = now or timezone.now()
    counts = _total(per_unit if per_unit is not None else figures_by_unit(scope, period, now))
    rates = rates_from(counts)
    groups = group_scores(rates)
    return {
        "unit": scope.unit.code if scope.unit else None,
        "period": {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "counts": counts,
        "rates": rates,
        "groups": groups,
        "score": round(sum(g["points"] or 0 for g in groups), 2),
        "score_is_estimate": True,
    }


def late_ranking(
    scope: Scope, period: Period, now: datetime | None = None, limit: int | None = None, per_unit: dict | None = None
) -> list[dict]:
    """Receiving units by late rate in the period, worst first (units with nothing handled left out)."""
    now = now or timezone.now()
    per_unit = per_unit if per_unit is not None else figures_by_unit(scope, period, now)
    units = {
        pk: (code, name) for pk, code, name in Unit.objects.filter(pk__in=per_unit).values_list("pk", "code", "name")
    }
    ranking = [
        {
            "unit": units[unit_id][0],
            "name": units[unit_id][1],
            "handled": row["handled"],
            "late": row["handled"] - row["on_time"],
            "late_rate": round(100 * (row["handled"] - row["on_time"]) / row["handled"], 2),
        }
        for unit_id, row in per_unit.items()
        if row["handled"]
    ]
    ranking.sort(key=lambda r: (-r["late_rate"], -r["late"], r["unit"]))
    return ranking[:limit] if limit else ranking


def late_rate_by_area(scope: Scope, areas) -> dict[str, float | None]:
    """The wall map's "late rate" layer: % of this month's handled dossiers finished late or still open
    past their due time, by receiving unit, as the wall's "Most late" list counts them (one query).
    None where nothing was handled."""
    now = timezone.now()
    per_path = figures_by_unit(scope, parse_period("month"), now, by="unit__path")
    handled = areas.total((path, row["handled"]) for path, row in per_path.items())
    on_time = areas.total((path, row["on_time"]) for path, row in per_path.items())
    return {code: round(100 * (n - on_time[code]) / n, 1) if n else None for code, n in handled.items()}


# --- wall ---------------------------------------------------------------------------------------


def _status(value, good, fair):
    if value is None:
        return None
    return "ok" if value >= good else "warning" if value >= fair else "critical"


def _month_figures(scope: Scope, period: Period, now: datetime) -> tuple[dict, list]:
    """This month's indicators and worst units for the wall, kept FIGURES_CACHE_SECONDS per scope."""
    key = f"onestop:wall:{scope.label}:{period.label}"
    cached = cache.get(key) if conf.FIGURES_CACHE_SECONDS else None
    if cached is None:
        per_unit = figures_by_unit(scope, period, now)
        cached = (indicators(scope, period, now, per_unit=per_unit), late_ranking(scope, period, now, 5, per_unit))
        if conf.FIGURES_CACHE_SECONDS:
            cache.set(key, cached, conf.FIGURES_CACHE_SECONDS)
    return cached


def onestop_figures(scope: Scope) -> dict | None:
    """The wall panel: today's intake, open and overdue dossiers, this month's rates and 766 estimate."""
    if not offices_visible_to(scope).exists():
        return None
    now = timezone.now()
    today = _midnight(timezone.localdate())
    dossiers = scope.filter(Dossier.objects.all(), "unit")
    # One pass over the open dossiers (a partial index) for both counts.
    live = dossiers.filter(status__in=OPEN_STATUSES, finished_at__isnull=True).aggregate(
        in_process=Count("pk"),
        overdue=Count(
            "pk", filter=~Q(status=DossierStatus.SUPPLEMENT_REQUESTED) & Q(due_at__isnull=False) & overdue_at(now)
        ),
    )
    live["received_today"] = dossiers.filter(received_at__gte=today).count()
    overdue = live["overdue"]
    period = parse_period("month")
    month, worst = _month_figures(scope, period, now)
    rates = month["rates"]
    queues = counters_visible_to(scope).filter(active=True).order_by("-waiting", "code")[:6]
    return {
        "kpis": [
            {
                "code": "received_today",
                "label": _("Dossiers received today"),
                "value": live["received_today"],
                "unit": "",
                "status": None,
            },
            {"code": "in_process", "label": _("In process"), "value": live["in_process"], "unit": "", "status": None},
            {
                "code": "overdue",
                "label": _("Overdue"),
                "value": overdue,
                "unit": "",
                "status": "critical" if overdue else "ok",
                "link": reverse("onestop:offices"),
            },
            {
                "code": "on_time_rate",
                "label": _("On time (this month)"),
                "value": rates["on_time_rate"],
                "unit": "%",
                "status": _status(rates["on_time_rate"], 95, 85),
            },
            {
                "code": "online_rate",
                "label": _("Online (this month)"),
                "value": rates["online_rate"],
                "unit": "%",
                "status": _status(rates["online_rate"], 50, 30),
            },
            {
                "code": "score_766",
                "label": _("Decision 766 score (estimate)"),
                "value": month["score"] if month["counts"]["received"] or month["counts"]["handled"] else None,
                "unit": "/100",
                "status": _status(month["score"], 80, 65),
                "link": reverse("onestop:offices"),
            },
        ],
        "lists": [
            {
                "code": "score_766_by_group",
                "label": _("Decision 766 by group (this month)"),
                "rows": [
                    {
                        "key": g["code"],
                        "label": g["label"] + (" *" if g["estimated"] else ""),
                        "value": g["points"],
                        "unit": f"/{g['max']}",
                    }
                    # The groups losing the most points first: the wall shows the first rows.
                    for g in sorted(month["groups"], key=lambda g: -(g["max"] - (g["points"] or 0)))
                ],
            },
            {
                "code": "worst_units",
                "label": _("Most late (this month)"),
                "rows": [
                    {"key": r["unit"], "label": r["name"], "value": r["late_rate"], "unit": "%"}
                    for r in worst
                    if r["late"]
                ],
            },
            {
                "code": "queues",
                "label": _("Waiting at the counters"),
                "rows": [
                    {
                        "key": c.code,
                        "label": f"{c.office.unit.name} · {c.name}" + (" ⚠" if c.unattended_since else ""),
                        "value": c.waiting,
                        "unit": "",
                    }
                    for c in queues
                    if c.figures_at is not None
                ],
            },
        ],
    }


def office_page(scope: Scope, unit_code: str, period: Period) -> dict | None:
    """What the office drill-down page shows; None when the office is not in scope."""
    office = offices_visible_to(scope).filter(unit__code=unit_code).first()
    if office is None:
        return None
    unit_scope = Scope(unit=office.unit)
    now = timezone.now()
    running = (
        open_dossiers()
        .filter(unit=office.unit)
        .annotate(due_moment=effective_due())
        .select_related("procedure")
        .order_by("due_moment")
    )
    return {
        "office": office,
        "period": period,
        "indicators": indicators(unit_scope, period, now),
        "counters": list(office.counters.filter(active=True).select_related("camera")),
        "overdue": list(running.filter(due_moment__lte=now)[:50]),
        "due_soon": list(running.filter(due_moment__gt=now)[:20]),
        "by_procedure": list(
            Dossier.objects.filter(unit=office.unit)
            .filter(_handled(period))
            .values("procedure__code", "procedure__name")
            .annotate(n=Count("pk"))
            .order_by("-n")[:10]
        ),
    }


# --- the briefing (ioc.briefings) ---------------------------------------------------------------


def briefing(scope: Scope, when) -> dict | None:
    """Decision 766 over the briefing's window, by the wall's own counts (`figures_by_unit`,
    `indicators`, `group_scores`): the scope's figures beside the window before, and each receiving
    unit's score and groups, lowest score first."""
    if not Dossier.objects.exists():
        return None
    now = min(timezone.now(), when.end)
    period = Period(when.start, when.end, when.label)
    before = Period(when.previous_start, when.start, "")
    per_unit = figures_by_unit(scope, period, now)
    this = indicators(scope, period, now, per_unit=per_unit)
    previous = indicators(scope, before, when.start)
    headline = [
        {
            "code": "received",
            "label": _("Dossiers received"),
            "value": this["counts"]["received"],
            "previous": previous["counts"]["received"],
        },
        {
            "code": "handled",
            "label": _("Dossiers handled"),
            "value": this["counts"]["handled"],
            "previous": previous["counts"]["handled"],
        },
        {
            "code": "on_time",
            "label": _("Handled on time"),
            "value": this["rates"]["on_time_rate"],
            "previous": previous["rates"]["on_time_rate"],
            "unit": "%",
            "better": "up",
        },
        {
            "code": "score",
            "label": _("Decision 766 score (estimate)"),
            "value": this["score"],
            "previous": previous["score"],
            "better": "up",
        },
    ]
    names = dict(Unit.objects.filter(pk__in=per_unit).values_list("pk", "name"))
    rows = []
    for unit_id, counts in per_unit.items():
        if not counts["received"] and not counts["handled"]:
            continue
        groups = group_scores(rates_from(counts))
        score = round(sum(g["points"] or 0 for g in groups), 2)
        rows.append(
            [
                names[unit_id],
                counts["handled"],
                rates_from(counts)["on_time_rate"],
                score,
                *[g["points"] for g in groups],
            ]
        )
    rows.sort(key=lambda row: (row[3], row[0]))
    return {
        "headline": headline,
        "tables": [
            {
                "title": _("Decision 766 by receiving unit, lowest score first"),
                "columns": [
                    _("Unit"),
                    _("Handled"),
                    _("On time (%)"),
                    _("Score"),
                    *[g["label"] for g in this["groups"]],
                ],
                "rows": rows,
                "empty": _("No dossier in this period."),
            },
            {
                "title": _("Groups of indicators"),
                "columns": [_("Group"), _("Points"), _("Of"), _("Points before")],
                "rows": [
                    [g["label"], g["points"], g["max"], p["points"]]
                    for g, p in zip(this["groups"], previous["groups"], strict=True)
                ],
                "empty": "",
            },
        ],
    }
