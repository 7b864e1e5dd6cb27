"""Reads of field reports: scoped querysets, public views without personal data, wall figures."""

import functools
import math
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncWeek
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from ioc import geo
from ioc.models import ApiKey, Unit, User
from ioc.roles import ADMIN, LEADER, OPERATOR
from ioc.scope import Scope
from reports import triage
from reports.models import (
    FINISHED_STATUSES,
    ON_TIME_FAIR,
    ON_TIME_GOOD,
    OPEN_STATUSES,
    PUBLISHED_STATUSES,
    WORKING_STATUSES,
    Category,
    Level,
    Report,
    ReportEvent,
    ReportPhoto,
    Status,
    TriageSuggestion,
)

WALL_URGENT_LIMIT = 5
WALL_SLOWEST_UNITS = 5
# The wall's 7- and 30-day figures (on-time shares, median answer, slowest units) move slowly and
# cost a scan of a month of reports (about 80,000 rows a month in a province): they are kept this many
# seconds per scope. The figures of the moment (awaiting triage, overdue...) are read on every call.
WINDOW_CACHE_SECONDS = 60


def published_reports():
    """The reports the public may see: PUBLISHED_STATUSES, everywhere the public reads."""
    return Report.objects.filter(status__in=PUBLISHED_STATUSES)


def reports_visible_to(scope: Scope):
    """Reports located in the scope or assigned to a unit in it."""
    return scope.filter(Report.objects.select_related("category", "unit", "assigned_unit"), "unit", "assigned_unit")


def overdue_q(now=None) -> Q:
    now = now or timezone.now()
    return Q(status__in=OPEN_STATUSES) & (
        Q(first_answered_at=None, response_due_at__lt=now) | Q(resolved_at=None, resolution_due_at__lt=now)
    )


def _today_start():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


# The one definition of the triage queue: what an operator still has to triage (received, new or
# handed back by a unit) or to send on (accepted, no unit yet). The console's list and badge, the
# queue API's count and the wall's "awaiting triage" figure all read it, so they cannot disagree.
QUEUE_STATUSES = (Status.RECEIVED, Status.ACCEPTED)


def awaiting_triage_q() -> Q:
    return Q(status__in=QUEUE_STATUSES)


# The reports behind each wall figure, for leaders' drill-down (codes match the panel's KPIs).
# "handling" starts where the queue ends (assigned), so no report counts in both.
FIGURES = {
    "triage": awaiting_triage_q,
    "handling": lambda: Q(status__in=WORKING_STATUSES),
    "today": lambda: Q(received_at__gte=_today_start()),
    "overdue": lambda: overdue_q(),
    "urgent": lambda: Q(level=Level.URGENT, status__in=OPEN_STATUSES),
}


def next_due():
    """The deadline that matters now: the answer until there is one, then the resolution."""
    return Case(
        When(first_answered_at__isnull=True, then=F("response_due_at")),
        default=F("resolution_due_at"),
        output_field=DateTimeField(),
    )


def time_left_share(now=None):
    """(due - now) / (due - start) of the deadline that matters now: 1 just received, 0 at the deadline,
    negative once overdue; NULL without a deadline or with an empty window. The window starts where
    the deadlines were computed from (receipt, or the reopening)."""
    now = Value(now or timezone.now(), output_field=DateTimeField())
    start = Coalesce("deadline_started_at", "received_at")
    left = EpochSeconds(ExpressionWrapper(next_due() - now, output_field=DurationField()))
    window = EpochSeconds(ExpressionWrapper(next_due() - start, output_field=DurationField()))
    return ExpressionWrapper(left / NullIf(window, Value(0.0)), output_field=FloatField())


def triage_queue(queryset, now=None):
    """Awaiting triage or assignment (QUEUE_STATUSES), in the order it needs action: urgent first, then
    the least time left as a share of its deadline window (none last), then the oldest; the id keeps
    pages apart when all else is equal. The console's `order` repeats this rule for live arrivals."""
    urgent_first = Case(When(level=Level.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        queryset.filter(awaiting_triage_q())
        .annotate(urgent_first=urgent_first, time_left_share=time_left_share(now))
        .order_by("urgent_first", F("time_left_share").asc(nulls_last=True), "received_at", "pk")
    )


def unit_work(scope: Scope):
    """Reports assigned to a unit in scope and still being worked, the nearest deadline first."""
    return (
        scope.filter(Report.objects.select_related("category", "unit", "assigned_unit"), "assigned_unit")
        .filter(status__in=WORKING_STATUSES)
        .annotate(next_due=next_due())
        .order_by("next_due", "received_at")
    )


MAP_LIMIT = 500
# A marker's state on the wall's map, one of a fixed set its legend shows (docs/map.md).
MAP_STATES = ("open", "overdue", "urgent")


def _map_state(report: Report, overdue: bool) -> str:
    # An urgent report is the one to act on first, overdue or not; `overdue` still says which it is.
    if report.level == Level.URGENT:
        return "urgent"
    return "overdue" if overdue else "open"


def report_map(scope: Scope) -> list[dict]:
    """Open reports with a location, for the wall's map: `state` from MAP_STATES; `status` (critical when
    overdue, warning when urgent) is kept for the screens that read it."""
    now = timezone.now()
    overdue = set(reports_visible_to(scope).filter(overdue_q(now)).values_list("pk", flat=True)[:MAP_LIMIT])
    rows = (
        reports_visible_to(scope)
        .filter(status__in=OPEN_STATUSES, latitude__isnull=False)
        .order_by("-received_at")[:MAP_LIMIT]
    )
    return [
        {
            "latitude": r.latitude,
            "longitude": r.longitude,
            "label": f"{r.tracking_code} · {r.category.name} · {r.get_status_display()}",
            "status": "critical" if r.pk in overdue else "warning" if r.level == Level.URGENT else "ok",
            "state": _map_state(r, r.pk in overdue),
            "overdue": r.pk in overdue,
        }
        for r in rows
    ]


def overdue_by_area(scope: Scope, areas) -> dict[str, int]:
    """The wall map's "overdue" layer: open reports past a deadline, by where they are (one query).

    A report counts for the ward (and the province) its location unit lies in, a sub-unit's for its ward.
    """
    rows = (
        scope.filter(Report.objects.filter(overdue_q()), "unit")
        .values_list("unit__path")
        .annotate(n=Count("id"))
        .order_by()
    )
    return areas.total(rows)


DUPLICATE_LIMIT = 20


def _nearest(queryset, *, latitude, longitude, limit: int):
    """`queryset`'s reports within the duplicate radius of the point, nearest first, as (report, metres)."""
    radius = settings.IOC_REPORTS_DUPLICATE_RADIUS_M
    min_lat, min_lon, max_lat, max_lon = geo.box_around(latitude, longitude, radius)
    queryset = queryset.filter(latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon))
    # Nearest first in SQL (flat-earth distance is exact enough at tens of metres), then the true distance.
    squeeze = math.cos(math.radians(latitude))
    flat = (F("latitude") - latitude) * (F("latitude") - latitude) + ((F("longitude") - longitude) * squeeze) * (
        (F("longitude") - longitude) * squeeze
    )
    nearest = queryset.annotate(flat=ExpressionWrapper(flat, output_field=FloatField())).order_by("flat")[:limit]
    found = [(r, geo.distance_m(latitude, longitude, r.latitude, r.longitude)) for r in nearest]
    return [(r, d) for r, d in found if d <= radius]


def _open_and_recent(exclude_id, category_id=None):
    since = timezone.now() - timedelta(days=settings.IOC_REPORTS_DUPLICATE_DAYS)
    queryset = Report.objects.filter(status__in=OPEN_STATUSES, received_at__gte=since)
    if category_id is not None:
        queryset = queryset.filter(category_id=category_id)
    return queryset.exclude(pk=exclude_id) if exclude_id else queryset


@dataclass
class DuplicateCandidate:
    report: Report
    metres: float
    similarity: float  # of the texts, 0 to 1
    score: float  # text, place and category together (reports.triage.duplicate_score)
    proposed: bool = False  # the best one, when its score reaches IOC_TRIAGE_DUPLICATE_MIN_SCORE


def duplicate_candidates(report: Report, *, scope: Scope | None = None) -> list[DuplicateCandidate]:
    """Open recent reports near `report`, of any category, best first by what they say and how near
    they are; the best is proposed as the one it duplicates when its score is high enough."""
    if report.latitude is None or report.longitude is None:
        return []
    # The units' boundaries are the largest values in the database and no candidate needs them.
    queryset = _open_and_recent(report.pk).select_related("category", "unit").defer("unit__boundary", "unit__bbox")
    if scope is not None:
        queryset = scope.filter(queryset, "unit", "assigned_unit")
    near = _nearest(queryset, latitude=report.latitude, longitude=report.longitude, limit=DUPLICATE_LIMIT)
    alike = triage.similarities(report.description, [r.description for r, _ in near])
    radius = settings.IOC_REPORTS_DUPLICATE_RADIUS_M
    found = [
        DuplicateCandidate(
            r,
            d,
            sim,
            triage.duplicate_score(
                similarity=sim, metres=d, radius=radius, same_category=r.category_id == report.category_id
            ),
        )
        for (r, d), sim in zip(near, alike, strict=True)
    ]
    found.sort(key=lambda c: (-c.score, c.metres))
    if found and found[0].score >= settings.IOC_TRIAGE_DUPLICATE_MIN_SCORE:
        found[0].proposed = True
    return found


# Plain SQL: this runs on every submission, and building the same query through the ORM cost more
# than running it. Same rule as `duplicate_candidates` (open, recent, same category, in the box,
# nearest first), published reports only, and only the columns the answer shows.
_SIMILAR = (
    'SELECT id, tracking_code, status, latitude, longitude FROM "reports_report" '
    "WHERE category_id = %s AND status = ANY(%s) AND received_at >= %s AND id <> %s "
    "AND latitude BETWEEN %s AND %s AND longitude BETWEEN %s AND %s "
    "ORDER BY (latitude - %s) ^ 2 + ((longitude - %s) * %s) ^ 2 LIMIT %s"
)


def similar_for_citizen(report: Report, limit: int = 5):
    """What a citizen is told after submitting: published reports of the same kind nearby, as (report, m)."""
    lat, lon = report.latitude, report.longitude
    if lat is None or lon is None:
        return []
    radius = settings.IOC_REPORTS_DUPLICATE_RADIUS_M
    min_lat, min_lon, max_lat, max_lon = geo.box_around(lat, lon, radius)
    since = timezone.now() - timedelta(days=settings.IOC_REPORTS_DUPLICATE_DAYS)
    statuses = [str(s) for s in OPEN_STATUSES if s in PUBLISHED_STATUSES]
    squeeze = math.cos(math.radians(lat))
    params = [report.category_id, statuses, since, report.pk or 0, min_lat, max_lat, min_lon, max_lon]
    nearest = Report.objects.raw(_SIMILAR, [*params, lat, lon, squeeze, limit])
    found = [(r, geo.distance_m(lat, lon, r.latitude, r.longitude)) for r in nearest]
    return [(r, d) for r, d in found if d <= radius]


def _iso(value):
    return value.isoformat() if value else None


def report_live_state(report: Report) -> dict:
    """What staff screens show of a report. Never the reporter's identity."""
    return {
        "id": report.pk,
        "tracking_code": report.tracking_code,
        "status": report.status,
        "status_label": report.get_status_display(),
        "level": report.level,
        "category": report.category.code,
        "category_name": report.category.name,
        "description": report.description[:300],
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "unit": report.unit.code,
        "unit_name": report.unit.name,
        "assigned_unit": report.assigned_unit.code if report.assigned_unit else None,
        "assigned_unit_name": report.assigned_unit.name if report.assigned_unit else None,
        "returned": report.returned,
        "received_at": _iso(report.received_at),
        "deadline_started_at": _iso(report.deadline_started_at or report.received_at),
        "response_due_at": _iso(report.response_due_at),
        "resolution_due_at": _iso(report.resolution_due_at),
        "first_answered_at": _iso(report.first_answered_at),
        "resolved_at": _iso(report.resolved_at),
    }


def photo_url(photo: ReportPhoto, *, thumbnail: bool = False) -> str:
    url = reverse("reports:photo", kwargs={"uid": photo.uid})
    return f"{url}?size=thumb" if thumbnail and photo.thumbnail else url


def public_report(report: Report) -> dict:
    """A report as anyone may see it: no name, phone or email; photos only once triaged."""
    photos = list(report.photos.all()) if report.is_triaged else []
    answers = list(report.answers.select_related("unit"))
    parent = report.duplicate_of if report.duplicate_of_id else None
    if parent is not None:
        # Merged into another report: its citizen reads the one answer given there.
        answers += list(parent.answers.select_related("unit"))
        photos += [p for p in parent.photos.all() if p.kind == ReportPhoto.Kind.ANSWER]
    return {
        "tracking_code": report.tracking_code,
        "status": report.status,
        "status_label": report.get_status_display(),
        "category": report.category.code,
        "category_name": report.category.name,
        "level": report.level,
        "description": report.description,
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "unit_name": report.unit.name,
        "assigned_unit_name": report.assigned_unit.name if report.assigned_unit else None,
        "received_at": _iso(report.received_at),
        "response_due_at": _iso(report.response_due_at),
        "resolution_due_at": _iso(report.resolution_due_at),
        "first_answered_at": _iso(report.first_answered_at),
        "resolved_at": _iso(report.resolved_at),
        "rating": report.rating,
        "duplicate_of": report.duplicate_of.tracking_code if report.duplicate_of_id else None,
        "photos": [photo_url(p) for p in photos if p.kind == ReportPhoto.Kind.REPORT],
        "answers": [
            {
                "unit_name": a.unit.name,
                "text": a.text,
                "at": _iso(a.at),
                "photos": [photo_url(p) for p in photos if p.answer_id == a.pk],
            }
            for a in answers
        ],
        "timeline": [
            {
                "action": row["event"].action,
                "label": row["event"].get_action_display(),
                "at": _iso(row["event"].at),
                "actor": row["actor"],
                "note": row["note"],
                "unit_name": row["event"].unit.name if row["event"].unit else None,
            }
            for row in timeline_in_words(
                list(
                    report.events.filter(public=True)
                    .select_related("unit", "actor", "actor__home_unit")
                    .prefetch_related("actor__groups")
                ),
                citizen=True,
            )
        ],
    }


def timeline(report: Report) -> list[ReportEvent]:
    return list(report.events.select_related("unit", "actor", "actor__home_unit").prefetch_related("actor__groups"))


# --- a timeline in people's words ---------------------------------------------------------------
#
# An event keeps what was true when it was written: `actor_label` (a username, "apikey:<name>" for a
# machine, "Citizen"/"System" in the writer's language) and `note`. Both are put into words when read,
# in the reader's language, so old rows read as well as new ones and nothing needs migrating: the
# actor from the user's role and unit or the key's unit, and the notes the system writes itself
# (SYSTEM_NOTES) recognised in any language and said again in the reader's (docs/reports.md).

SYSTEM_NOTES = (
    gettext_noop("Same problem as report %(code)s."),
    gettext_noop("Overdue at %(unit)s; escalated to %(leaders)s."),
    gettext_noop("Photo link sent with the request (not fetched): %(url)s"),
    gettext_noop("The report was handled."),
)
# Labels the steps write for someone who is not a user, in whichever language was active.
CITIZEN_LABEL, SYSTEM_LABEL = gettext_noop("Citizen"), gettext_noop("System")
# A citizen's own steps, told to them as "You".
CITIZEN_ACTIONS = (ReportEvent.Action.SUBMITTED, ReportEvent.Action.REOPENED, ReportEvent.Action.RATED)
CAMERA_KEY_SCOPES = ("traffic:write",)


@functools.cache
def _note_patterns() -> list[tuple[str, re.Pattern]]:
    """Each system note as a pattern per language it may have been written in."""
    patterns = []
    for message in SYSTEM_NOTES:
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                written = gettext(message)
            pattern = re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(written))
            patterns.append((message, re.compile(pattern, re.DOTALL)))
    return patterns


def _said_in(language_words: str, *messages: str) -> bool:
    """Whether a stored label is one of `messages` in any of the languages."""
    for message in messages:
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                if language_words == gettext(message):
                    return True
    return False


def note_in_words(note: str) -> str:
    """A note the system wrote, in the reader's language; a person's note as they wrote it."""
    text = (note or "").strip()
    if not text:
        return note
    for message, pattern in _note_patterns():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        params = found.groupdict()
        if "leaders" in params:  # usernames when written: the leaders' names to read
            usernames = [u for u in params["leaders"].split(", ") if u != "-"]
            names = {u.username: u.get_full_name() or u.username for u in User.objects.filter(username__in=usernames)}
            params["leaders"] = ", ".join(names.get(u, u) for u in usernames) or "-"
        return gettext(message) % params
    return note


def _key_words(key: ApiKey | None) -> str:
    if key is None:
        return _("Connected system")
    if set(key.scopes) & set(CAMERA_KEY_SCOPES):
        return _("%(unit)s camera system") % {"unit": key.unit.name}
    return _("%(unit)s connected system") % {"unit": key.unit.name}


def _person_words(user, event: ReportEvent, *, public: bool) -> str:
    roles = {g.name for g in user.groups.all()} | ({ADMIN} if user.is_superuser else set())
    name = user.get_full_name() or user.username
    home = user.home_unit
    if roles & {OPERATOR, ADMIN}:
        centre = _("Operations Centre")
        return centre if public else f"{name} · {centre}"
    if LEADER in roles and home is not None:
        return _("Leader of %(unit)s") % {"unit": home.name} if public else f"{name} · {home.name}"
    unit = home or event.unit
    return _("Staff of %(unit)s") % {"unit": unit.name} if unit is not None else _("Staff")


def timeline_in_words(events: list[ReportEvent], *, citizen: bool = False) -> list[dict]:
    """Who did each step and its note, in the reader's language. For the citizen (`citizen`), their own
    steps are "You" and no official's name is given."""
    names = {e.actor_label.removeprefix("apikey:") for e in events if e.actor_label.startswith("apikey:")}
    keys = {}
    for key in ApiKey.objects.filter(name__in=names).select_related("unit").order_by("revoked_at", "pk"):
        keys.setdefault(key.name, key)  # an active key before a revoked one of the same name
    rows = []
    for event in events:
        label = event.actor_label
        if event.actor is not None:
            who = _person_words(event.actor, event, public=citizen)
        elif label.startswith("apikey:"):
            who = _key_words(keys.get(label.removeprefix("apikey:")))
        elif citizen and event.action in CITIZEN_ACTIONS and not _said_in(label, SYSTEM_LABEL):
            who = _("You")
        elif not label or _said_in(label, CITIZEN_LABEL):
            who = _("Citizen")
        elif _said_in(label, SYSTEM_LABEL):
            who = _("System")
        else:
            who = label  # a user since deleted: the name they had
        rows.append({"event": event, "actor": who, "note": note_in_words(event.note)})
    return rows


# --- wall figures -------------------------------------------------------------------------------


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class EpochSeconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def _answer_seconds():
    return EpochSeconds(ExpressionWrapper(F("first_answered_at") - F("received_at"), output_field=DurationField()))


def median_answer_seconds(reports, since, until) -> float | None:
    """Median time to the first answer of the reports received in [since, until) and answered by then."""
    answered = reports.filter(received_at__gte=since, received_at__lt=until, first_answered_at__lt=until)
    return answered.aggregate(m=Median(_answer_seconds()))["m"]


def slowest_units(reports, since, until, limit: int = WALL_SLOWEST_UNITS) -> list[dict]:
    """The assigned units with the longest median first answer over [since, until), slowest first."""
    answered = reports.filter(
        received_at__gte=since, received_at__lt=until, first_answered_at__lt=until, assigned_unit__isnull=False
    )
    rows = (
        answered.values("assigned_unit__code", "assigned_unit__name")
        .annotate(median=Median(_answer_seconds()), n=Count("id"))
        .order_by("-median", "assigned_unit__code")[:limit]
    )
    return list(rows)


def _on_time_share(reports, since, now) -> float | None:
    """Share answered by the answer deadline, among reports received since `since` (before `now`)
    whose deadline had come by `now` or that were answered by then."""
    judged = (
        reports.filter(received_at__gte=since, received_at__lt=now, response_due_at__isnull=False)
        .exclude(status__in=(Status.REJECTED, Status.DUPLICATE))
        .filter(Q(first_answered_at__lt=now) | Q(response_due_at__lt=now))
    )
    on_time = Q(first_answered_at__lte=F("response_due_at"), first_answered_at__lt=now)
    row = judged.aggregate(total=Count("id"), on_time=Count("id", filter=on_time))
    return round(100 * row["on_time"] / row["total"], 1) if row["total"] else None


def on_time_status(share: float | None) -> str | None:
    """ok, warning or critical for an on-time share in % (ON_TIME_GOOD, ON_TIME_FAIR); None without one."""
    if share is None:
        return None
    return "ok" if share >= ON_TIME_GOOD else "warning" if share >= ON_TIME_FAIR else "critical"


def _drilldown(figure: str) -> str:
    return f"{reverse('report-list-page')}?figure={figure}"


def _window_figures(scope: Scope, reports, now) -> dict:
    """The wall's figures over the last 7 and 30 days, kept WINDOW_CACHE_SECONDS per scope."""
    key = f"reports:wall:windows:{scope.label}:{int(scope.everything)}"
    cached = cache.get(key) if WINDOW_CACHE_SECONDS else None
    if cached is None:
        month = now - timedelta(days=30)
        cached = {
            "median": median_answer_seconds(reports, month, now),
            "on_time_7": _on_time_share(reports, now - timedelta(days=7), now),
            "on_time_30": _on_time_share(reports, month, now),
            "slowest": slowest_units(reports, month, now),
        }
        if WINDOW_CACHE_SECONDS:
            cache.set(key, cached, WINDOW_CACHE_SECONDS)
    return cached


def wall_figures(scope: Scope) -> dict | None:
    """The field-report panel for `scope`; None while the deployment holds no report at all."""
    reports = scope.filter(Report.objects.all(), "unit", "assigned_unit")
    if not Report.objects.exists():
        return None
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    by_status = dict(reports.filter(status__in=OPEN_STATUSES).values_list("status").annotate(n=Count("id")).order_by())
    overdue = reports.filter(overdue_q(now)).count()
    awaiting = sum(by_status.get(s, 0) for s in QUEUE_STATUSES)  # what the console's queue counts
    windows = _window_figures(scope, reports, now)
    on_time_7, on_time_30, slowest = windows["on_time_7"], windows["on_time_30"], windows["slowest"]
    urgent = reports.filter(level=Level.URGENT, status__in=OPEN_STATUSES).select_related("category", "unit")
    median_minutes = round(windows["median"] / 60) if windows["median"] is not None else None
    return {
        "kpis": [
            {
                "code": "triage",
                "label": _("Awaiting triage"),
                "value": awaiting,
                "unit": "",
                "status": "warning" if awaiting else "ok",
                "link": _drilldown("triage"),
            },
            {
                "code": "handling",
                "label": _("Being handled"),
                "value": sum(by_status.get(s, 0) for s in WORKING_STATUSES),
                "unit": "",
                "status": None,
                "link": _drilldown("handling"),
            },
            {
                "code": "today",
                "label": _("Received today"),
                "value": reports.filter(received_at__gte=today).count(),
                "unit": "",
                "status": None,
                "link": _drilldown("today"),
            },
            {
                "code": "overdue",
                "label": _("Overdue now"),
                "value": overdue,
                "unit": "",
                "status": "critical" if overdue else "ok",
                "link": _drilldown("overdue"),
            },
            {
                "code": "on_time_7d",
                "label": _("Answered on time, 7 days"),
                "value": on_time_7,
                "unit": "%",
                "status": on_time_status(on_time_7),
            },
            {
                "code": "on_time_30d",
                "label": _("Answered on time, 30 days"),
                "value": on_time_30,
                "unit": "%",
                "status": on_time_status(on_time_30),
            },
            {
                "code": "median_answer",
                "label": _("Median time to first answer"),
                "value": median_minutes,
                "unit": _("min"),
                "status": None,
            },
        ],
        "counts_by_status": {status: by_status.get(status, 0) for status in OPEN_STATUSES},
        "lists": [
            {
                "code": "slowest_units",
                "label": _("Slowest units (median first answer, 30 days)"),
                "rows": [
                    {
                        "key": row["assigned_unit__code"],
                        "label": row["assigned_unit__name"],
                        "value": round(row["median"] / 60),
                        "unit": _("min"),
                    }
                    for row in slowest
                ],
            },
            {
                "code": "urgent",
                "label": _("Latest urgent reports"),
                "rows": [
                    {
                        "key": r.tracking_code,
                        "label": f"{r.category.name} · {r.unit.name}",
                        "value": r.get_status_display(),
                        "unit": "",
                    }
                    for r in urgent.order_by("-received_at")[:WALL_URGENT_LIMIT]
                ],
            },
        ],
    }


def unit_on_time_stats(scope: Scope, days: int) -> list[dict]:
    """Per assigned unit: answered on time / judged, over the last `days` (public transparency), by
    unit name. Counted by unit id from the recent-window index alone (90 days of a province are about
    a quarter of a million reports), the units' codes and names read after."""
    now = timezone.now()
    since = now - timedelta(days=days)
    rows = list(
        scope.filter(Report.objects.all(), "unit", "assigned_unit")
        .filter(received_at__gte=since, assigned_unit__isnull=False, response_due_at__isnull=False)
        .exclude(status__in=FINISHED_STATUSES[2:])
        .filter(Q(first_answered_at__isnull=False) | Q(response_due_at__lt=now))
        .values("assigned_unit_id")
        .annotate(total=Count("id"), on_time=Count("id", filter=Q(first_answered_at__lte=F("response_due_at"))))
        .order_by()
    )
    units = Unit.objects.in_bulk([row["assigned_unit_id"] for row in rows])
    stats = [
        {
            "assigned_unit__code": units[row["assigned_unit_id"]].code,
            "assigned_unit__name": units[row["assigned_unit_id"]].name,
            "total": row["total"],
            "on_time": row["on_time"],
        }
        for row in rows
    ]
    return sorted(stats, key=lambda row: row["assigned_unit__name"])


# --- the hotline form's place search ------------------------------------------------------------

PLACE_LIMIT = 10
PLACE_UNIT_LIMIT = 5
# Known places are where recent reports were located: the addresses callers name again and again.
PLACE_DAYS = 180
PLACE_ROWS = 3000
PLACE_KINDS = ("ward", "commune", "special_zone")


def _place_rank(words: list[str], label: str) -> int | None:
    """None when a word is missing; else 0 when the label starts with the query, 1 when every word
    starts a word of the label, 2 when they are only inside words."""
    folded = triage.fold(label)
    if not all(word in folded for word in words):
        return None
    if folded.startswith(" ".join(words)):
        return 0
    return 1 if all(f" {word}" in f" {folded}" for word in words) else 2


def hotline_places(scope: Scope, query: str) -> list[dict]:
    """Where a caller may say the problem is: communes/wards by name, then the addresses of recent
    located reports, every word of `query` matched without diacritics, within the scope."""
    words = triage.fold(query).split()
    if not words:
        return []
    units = []
    for unit in scope.units().filter(kind__in=PLACE_KINDS).only("code", "name").order_by("name"):
        rank = _place_rank(words, unit.name)
        if rank is not None:
            units.append((rank, {"kind": "unit", "label": unit.name, "unit": unit.code, "unit_name": unit.name}))
    units.sort(key=lambda pair: pair[0])
    found = [item for _rank, item in units[:PLACE_UNIT_LIMIT]]
    since = timezone.now() - timedelta(days=PLACE_DAYS)
    rows = (
        scope.filter(Report.objects.all(), "unit", "assigned_unit")
        .filter(received_at__gte=since, latitude__isnull=False, longitude__isnull=False)
        .exclude(address="")
        .exclude(status=Status.REJECTED)
        .order_by("-received_at")
        .values_list("address", "latitude", "longitude", "unit__code", "unit__name")[:PLACE_ROWS]
    )
    seen = set()
    places = []
    for address, latitude, longitude, unit_code, unit_name in rows:
        key = triage.fold(address)
        if key in seen:
            continue  # the newest report at an address gives its point
        seen.add(key)
        rank = _place_rank(words, address)
        if rank is not None:
            places.append(
                (
                    rank,
                    {
                        "kind": "place",
                        "label": address,
                        "unit": unit_code,
                        "unit_name": unit_name,
                        "latitude": latitude,
                        "longitude": longitude,
                    },
                )
            )
    places.sort(key=lambda pair: pair[0])
    found += [item for _rank, item in places[: PLACE_LIMIT - len(found)]]
    return found


# --- triage suggestions (reports.triage) --------------------------------------------------------


def triage_example(report: Report, **labels):
    """What the suggestion model reads of a report: its words, the citizen's pick, place and time."""
    picked = report.submitted_category.code if report.submitted_category_id else ""
    return triage.Example(
        text=report.description,
        ward=report.unit.code,
        received_at=report.received_at,
        citizen_category=picked,
        latitude=report.latitude,
        longitude=report.longitude,
        **labels,
    )


def triage_examples(*, limit: int) -> list:
    """The newest `limit` reports an operator decided, with the decision as labels: accepted ones by
    their category, level and assigned unit; rejected ones as fitting no category. Duplicates are
    left out (marking one says nothing of its category). No reporter's identity is read."""
    decided = (
        Report.objects.filter(Q(accepted_at__isnull=False) | Q(status=Status.REJECTED))
        .exclude(status=Status.DUPLICATE)
        .select_related("category", "submitted_category", "unit", "assigned_unit")
        .only(
            "description",
            "received_at",
            "latitude",
            "longitude",
            "status",
            "level",
            "category__code",
            "submitted_category__code",
            "unit__code",
            "assigned_unit__code",
        )
        .order_by("-received_at")[:limit]
    )
    examples = []
    for report in decided:
        if report.status == Status.REJECTED:
            labels = {"category": triage.NONE, "level": "", "unit": ""}
        else:
            assigned = report.assigned_unit.code if report.assigned_unit_id else ""
            labels = {
                "category": report.category.code,
                "level": report.level,
                "unit": triage.WARD if assigned and assigned == report.unit.code else assigned,
            }
        examples.append(triage_example(report, **labels))
    return examples


def suggestion_state(suggestion) -> dict | None:
    """The suggestion as the console shows it, or None below the confidence threshold."""
    if suggestion is None or not suggestion.shown or suggestion.category is None:
        return None
    codes = [code for code, _ in suggestion.alternatives]
    names = {c.code: _category_name(c) for c in Category.objects.filter(code__in=codes, active=True)}
    return {
        "source": suggestion.source,
        "model": suggestion.model_id,
        "category": suggestion.category.code,
        "category_name": _category_name(suggestion.category),
        "confidence": suggestion.category_confidence,
        "alternatives": [
            {"category": code, "name": names.get(code, ""), "confidence": p}
            for code, p in suggestion.alternatives[1:]
            if code in names
        ],
        "level": suggestion.level,
        "level_label": Level(suggestion.level).label if suggestion.level in Level.values else "",
        "level_confidence": suggestion.level_confidence,
        "unit": suggestion.unit.code if suggestion.unit_id else None,
        "unit_name": suggestion.unit.name if suggestion.unit_id else None,
        "unit_confidence": suggestion.unit_confidence,
        "words": suggestion.words,
        "taken": suggestion.taken,
    }


def _category_name(category) -> str:
    english = translation.get_language() == "en" and category.name_en
    return category.name_en if english else category.name


def _right_category() -> Q:
    """The suggested category was the operator's (a report rejected as fitting none: none suggested)."""
    return Q(category=F("final_category")) | Q(rejected=True, category__isnull=True)


def _share(part, whole):
    return part / whole if whole else None


def triage_figures(*, weeks: int = 12, now=None) -> dict:
    """Whether suggestions help, per week of decision (local Monday to Sunday) and per category:
    how many decisions had a suggestion shown, how many took it whole with the one key, and how often
    the suggested category, level and unit were the ones the operator chose."""
    now = timezone.localtime(now or timezone.now())
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    since = monday - timedelta(weeks=weeks - 1)
    decided = TriageSuggestion.objects.filter(decided_at__gte=since)
    counts = {
        "n_decided": Count("pk"),
        "n_shown": Count("pk", filter=Q(shown=True)),
        "n_taken": Count("pk", filter=Q(taken=True)),
        "n_category_right": Count("pk", filter=_right_category()),
        "n_shown_right": Count("pk", filter=Q(shown=True) & _right_category()),
        "n_level_judged": Count("pk", filter=Q(rejected=False) & ~Q(level="")),
        "n_level_right": Count("pk", filter=Q(rejected=False, level=F("final_level")) & ~Q(level="")),
        "n_unit_judged": Count("pk", filter=Q(final_unit__isnull=False)),
        "n_unit_right": Count("pk", filter=Q(final_unit__isnull=False, unit=F("final_unit"))),
    }

    def figures(row: dict) -> dict:
        return {
            "decided": row["n_decided"],
            "shown": _share(row["n_shown"], row["n_decided"]),
            "acceptance": _share(row["n_taken"], row["n_shown"]),
            "category": _share(row["n_category_right"], row["n_decided"]),
            "category_when_shown": _share(row["n_shown_right"], row["n_shown"]),
            "level": _share(row["n_level_right"], row["n_level_judged"]),
            "unit": _share(row["n_unit_right"], row["n_unit_judged"]),
        }

    by_week = {
        timezone.localtime(row["week"]).date(): row
        for row in decided.annotate(week=TruncWeek("decided_at", tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(**counts)
    }
    weeks_rows = []
    for i in range(weeks):
        start = (monday - timedelta(weeks=i)).date()
        row = by_week.get(start)
        weeks_rows.append({"week": start, **(figures(row) if row else figures(dict.fromkeys(counts, 0)))})
    by_category = [
        {"name": row["final_category__name"] or gettext("Rejected (fits no category)"), **figures(row)}
        for row in decided.values("final_category__name").annotate(**counts).order_by("-n_decided")
    ]
    total = decided.aggregate(**counts)
    return {"since": since.date(), "weeks": weeks_rows, "categories": by_category, "total": figures(total)}


# --- the briefing (ioc.briefings) ---------------------------------------------------------------

BRIEFING_SLOWEST = 10


def _minutes(seconds):
    return round(seconds / 60) if seconds is not None else None


def briefing(scope: Scope, when) -> dict | None:
    """Field reports over the briefing's window, by the wall's own measures (on-time share, median
    first answer, slowest units) for that window, and each ward ranked, worst on-time share first."""
    if not Report.objects.exists():
        return None
    reports = scope.filter(Report.objects.all(), "unit", "assigned_unit")
    now = min(timezone.now(), when.end)
    start, end, before = when.start, when.end, when.previous_start

    def received(since, until):
        return reports.filter(received_at__gte=since, received_at__lt=until).count()

    headline = [
        {
            "code": "received",
            "label": gettext("Reports received"),
            "value": received(start, end),
            "previous": received(before, start),
        },
        {
            "code": "on_time",
            "label": gettext("Answered on time"),
            "value": _on_time_share(reports, start, end),
            "previous": _on_time_share(reports, before, start),
            "unit": "%",
            "better": "up",
        },
        {
            "code": "median_answer",
            "label": gettext("Median time to first answer"),
            "value": _minutes(median_answer_seconds(reports, start, end)),
            "previous": _minutes(median_answer_seconds(reports, before, start)),
            "unit": gettext("min"),
            "better": "down",
        },
        {
            "code": "overdue",
            "label": gettext("Overdue now"),
            "value": reports.filter(overdue_q(now)).count(),
            "previous": None,
        },
    ]
    in_window = reports.filter(received_at__gte=start, received_at__lt=end)
    by_ward = {
        row["unit_id"]: row
        for row in in_window.values("unit_id")
        .annotate(
            n=Count("id"),
            judged=Count(
                "id",
                filter=Q(response_due_at__isnull=False)
                & ~Q(status__in=(Status.REJECTED, Status.DUPLICATE))
                & (Q(first_answered_at__lt=end) | Q(response_due_at__lt=end)),
            ),
            on_time=Count(
                "id",
                filter=Q(first_answered_at__lte=F("response_due_at"), first_answered_at__lt=end)
                & ~Q(status__in=(Status.REJECTED, Status.DUPLICATE)),
            ),
            rating=Avg("rating"),
        )
        .order_by()
    }
    overdue = dict(reports.filter(overdue_q(now)).values_list("unit_id").annotate(n=Count("id")).order_by())
    names = dict(Unit.objects.filter(pk__in=set(by_ward) | set(overdue)).values_list("pk", "name"))
    wards = []
    for unit_id in set(by_ward) | set(overdue):
        row = by_ward.get(unit_id, {"n": 0, "judged": 0, "on_time": 0, "rating": None})
        share = round(100 * row["on_time"] / row["judged"], 1) if row["judged"] else None
        rating = round(row["rating"], 1) if row["rating"] is not None else None
        wards.append([names[unit_id], row["n"], share, overdue.get(unit_id, 0), rating])
    wards.sort(key=lambda w: (w[2] if w[2] is not None else 101, -w[3], w[0]))
    slowest = slowest_units(reports, start, end, BRIEFING_SLOWEST)
    return {
        "headline": headline,
        "tables": [
            {
                "title": gettext("Commune and ward: answered on time, worst first"),
                "columns": [
                    gettext("Commune / ward"),
                    gettext("Received"),
                    gettext("On time (%)"),
                    gettext("Overdue now"),
                    gettext("Satisfaction (1-5)"),
                ],
                "rows": wards,
                "empty": gettext("No report in this period."),
            },
            {
                "title": gettext("Slowest units (median first answer)"),
                "columns": [gettext("Unit"), gettext("Answered"), gettext("Median (min)")],
                "rows": [[r["assigned_unit__name"], r["n"], _minutes(r["median"])] for r in slowest],
                "empty": gettext("No answer in this period."),
            },
        ],
    }
