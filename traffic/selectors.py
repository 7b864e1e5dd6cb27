"""Reads of the camera platform: scoped querysets and the wall figures of subsystems 2 and 3."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, Max, Min, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ioc.scope import Scope
from traffic.models import Camera, CameraEvent, CameraEventDaily, CongestionLevel, Incident, Purpose

OPEN = Incident.OPEN


def cameras_visible_to(scope: Scope):
    return scope.filter(Camera.objects.select_related("unit"), "unit")


def incidents_visible_to(scope: Scope):
    """Incidents of cameras in scope, and those dispatched to a unit in scope."""
    return scope.filter(
        Incident.objects.select_related("camera__unit", "kind", "unit", "dispatched_to"), "unit", "dispatched_to"
    )


def in_working_order(incidents):
    """The operator's order: most severe first, then the latest event first; ties by id so that a
    list read twice (or paged) never swaps two rows."""
    rank = Case(
        When(severity="critical", then=Value(0)),
        When(severity="warning", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return incidents.alias(severity_rank=rank).order_by("severity_rank", "-last_event_at", "-id")


def kind_name(kind, language: str | None = None) -> str:
    """The kind's name in the reader's language: the catalogue keeps Vietnamese and English."""
    language = language or get_language() or "vi"
    return kind.name_en if language.startswith("en") and kind.name_en else kind.name


def _local(moment):
    # One offset for every reader (API, live messages): the times sort and read as the city's clock.
    return timezone.localtime(moment).isoformat() if moment else None


def _hhmm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def folded_line(count: int, name: str, first, last) -> str:
    """ "12 × Ùn tắc giao thông, 02:10–02:28": how many, what, from when to when (local time)."""
    span = _hhmm(first) if _hhmm(first) == _hhmm(last) else f"{_hhmm(first)}–{_hhmm(last)}"
    return f"{count} × {name}, {span}"


RECENT_EVENT_DAYS = 31  # the events list without a lower bound of its own shows this many days


def recent_events(queryset, since=None):
    """Events from `since` on, or from RECENT_EVENT_DAYS ago: a lower bound on occurred_at lets
    PostgreSQL read only the recent monthly partitions instead of every month kept."""
    now = timezone.now()
    if since is None:
        since = now - timedelta(days=RECENT_EVENT_DAYS)
    return queryset.filter(occurred_at__gte=since, occurred_at__lte=now + timedelta(hours=1))


def _today():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _today_span():
    """Local midnight to now (and the few minutes ahead a camera clock may run): both bounds let
    PostgreSQL read only this month's partition of the events."""
    return _today(), timezone.now() + timedelta(hours=1)


def _camera_kpi(scope: Scope, purpose: str) -> tuple[int, int]:
    row = scope.filter(Camera.objects.filter(purpose=purpose, active=True), "unit").aggregate(
        total=Count("id"), online=Count("id", filter=Q(health=Camera.Health.ONLINE))
    )
    return row["online"], row["total"]


def _online_status(online, total):
    if not total:
        return None
    share = online / total
    return "ok" if share >= 0.95 else "warning" if share >= 0.8 else "critical"


def traffic_figures(scope: Scope) -> dict | None:
    online, total = _camera_kpi(scope, Purpose.TRAFFIC)
    if not total:
        return None
    events = scope.filter(CameraEvent.objects.filter(occurred_at__range=_today_span(), kind__is_violation=True), "unit")
    by_kind = list(events.values("kind__code", "kind__name").annotate(n=Count("id")).order_by("-n"))
    incidents = scope.filter(Incident.objects.filter(status__in=OPEN, camera__purpose=Purpose.TRAFFIC), "unit")
    counts = incidents.aggregate(
        accidents=Count("id", filter=Q(kind__code="accident")),
        congestion=Count("id", filter=Q(kind__code="congestion")),
    )
    congested = incidents.filter(kind__code="congestion").select_related("camera").order_by("-last_event_at")[:5]
    return {
        "kpis": [
            {
                "code": "violations_today",
                "label": _("Violations today"),
                "value": sum(r["n"] for r in by_kind),
                "unit": "",
                "status": None,
            },
            {
                "code": "open_accidents",
                "label": _("Open accidents"),
                "value": counts["accidents"],
                "unit": "",
                "status": "critical" if counts["accidents"] else "ok",
            },
            {
                "code": "congestion",
                "label": _("Congestion points"),
                "value": counts["congestion"],
                "unit": "",
                "status": "warning" if counts["congestion"] else "ok",
            },
            {
                "code": "cameras_online",
                "label": _("Cameras online"),
                "value": f"{online}/{total}",
                "unit": "",
                "status": _online_status(online, total),
            },
        ],
        "lists": [
            {
                "code": "violations_by_kind",
                "label": _("Violations today by kind"),
                "rows": [
                    {"key": r["kind__code"], "label": r["kind__name"], "value": r["n"], "unit": ""} for r in by_kind
                ],
            },
            {
                "code": "congestion",
                "label": _("Congestion now"),
                "rows": [
                    {
                        "key": i.camera.code,
                        "label": i.camera.road or i.camera.name,
                        "value": i.get_congestion_level_display() if i.congestion_level else "",
                        "unit": "",
                    }
                    for i in congested
                ],
            },
        ],
    }


def security_figures(scope: Scope) -> dict | None:
    online, total = _camera_kpi(scope, Purpose.SECURITY)
    if not total:
        return None
    incidents = scope.filter(Incident.objects.filter(status__in=OPEN, camera__purpose=Purpose.SECURITY), "unit")
    open_count = incidents.count()
    latest = incidents.select_related("camera", "kind").order_by("-last_event_at")[:5]
    return {
        "kpis": [
            {
                "code": "open_incidents",
                "label": _("Open incidents"),
                "value": open_count,
                "unit": "",
                "status": "warning" if open_count else "ok",
            },
            {
                "code": "events_today",
                "label": _("Events today"),
                "value": scope.filter(
                    CameraEvent.objects.filter(occurred_at__range=_today_span(), camera__purpose=Purpose.SECURITY),
                    "unit",
                ).count(),
                "unit": "",
                "status": None,
            },
            {
                "code": "cameras_online",
                "label": _("Cameras online"),
                "value": f"{online}/{total}",
                "unit": "",
                "status": _online_status(online, total),
            },
        ],
        "lists": [
            {
                "code": "incidents",
                "label": _("Latest incidents"),
                "rows": [
                    {"key": str(i.pk), "label": f"{i.kind.name} · {i.camera.name}", "value": i.event_count, "unit": "×"}
                    for i in latest
                ],
            },
        ],
    }


# A camera's state on the wall's map, one of a fixed set its legend shows (docs/map.md).
MAP_STATES = ("ok", "offline", "incident")


def _map_state(camera, incident) -> str:
    # An open incident needs someone whatever the camera does now; a tampered camera is one itself.
    if incident is not None or camera.health == Camera.Health.TAMPERED:
        return "incident"
    return "ok" if camera.health == Camera.Health.ONLINE else "offline"


def camera_map(scope: Scope, purpose: str | None = None) -> list[dict]:
    """Cameras with their status and latest open incident, for the wall's map layer."""
    cameras = cameras_visible_to(scope).filter(active=True, latitude__isnull=False)
    if purpose:
        cameras = cameras.filter(purpose=purpose)
    latest = {}
    for incident in incidents_visible_to(scope).filter(status__in=OPEN).order_by("camera_id", "-last_event_at"):
        latest.setdefault(incident.camera_id, incident)
    return [
        {
            "code": c.code,
            "name": c.name,
            "purpose": c.purpose,
            "health": c.health,
            "state": _map_state(c, latest.get(c.pk)),
            "latitude": c.latitude,
            "longitude": c.longitude,
            "road": c.road,
            "last_event_at": c.last_event_at.isoformat() if c.last_event_at else None,
            "open_incident": {
                "kind": kind_name(latest[c.pk].kind),
                "severity": latest[c.pk].severity,
                "count": latest[c.pk].event_count,
            }
            if c.pk in latest
            else None,
        }
        for c in cameras
    ]


def incident_state(incident: Incident) -> dict:
    """An incident's absolute state, as screens and the API show it and live messages carry it.

    Names come in the request's language, and both languages under `kind_names`: a live message is
    built once, for readers of either. `dispatch_unit` is the unit a dispatch goes to unless the
    operator picks another: the one already sent, else the camera's own ward (never the province).
    """
    kind = incident.kind
    dispatched = incident.dispatched_to if incident.dispatched_to_id else None
    name = kind_name(kind)
    return {
        "id": incident.pk,
        "camera": incident.camera.code,
        "camera_name": incident.camera.name,
        "road": incident.camera.road,
        "purpose": incident.camera.purpose,
        "kind": kind.code,
        "kind_name": name,
        "kind_names": {"vi": kind.name, "en": kind.name_en or kind.name},
        "severity": incident.severity,
        "status": incident.status,
        "status_label": incident.get_status_display(),
        "unit": incident.unit.code if incident.unit_id else None,
        "unit_name": incident.unit.name if incident.unit_id else incident.camera.unit.name,
        "event_count": incident.event_count,
        "first_event_at": _local(incident.first_event_at),
        "last_event_at": _local(incident.last_event_at),
        "summary": folded_line(incident.event_count, name, incident.first_event_at, incident.last_event_at),
        "congestion_level": incident.congestion_level,
        "congestion_label": incident.get_congestion_level_display() if incident.congestion_level else "",
        "dispatched_to": dispatched.code if dispatched else None,
        "dispatched_to_name": dispatched.name if dispatched else None,
        "dispatch_unit": dispatched.code if dispatched else incident.unit.code,
        "dispatch_unit_name": dispatched.name if dispatched else incident.unit.name,
        "latitude": incident.camera.latitude,
        "longitude": incident.camera.longitude,
    }


def _media(event) -> str | None:
    if event.snapshot:
        return reverse("traffic:snapshot", args=[event.pk])
    return event.snapshot_url or None


def incident_detail(incident: Incident, latest: int = 20) -> dict:
    """An incident with its latest events (snapshot, clip) and its events folded by level: one line
    per congestion level (or one for the kind), never the same line repeated per event."""
    # Bounded by the incident's own times: the events table is partitioned by month of occurred_at
    # and only the months of the incident are read (docs/partitions.md).
    own = incident.events.filter(occurred_at__gte=incident.first_event_at, occurred_at__lte=incident.last_event_at)
    events = list(own.order_by("-occurred_at", "-id")[:latest])
    data = incident_state(incident)
    data["note"] = incident.note
    data["events"] = [
        {
            "id": e.pk,
            "occurred_at": _local(e.occurred_at),
            "plate": e.plate,
            "speed_kmh": e.speed_kmh,
            "congestion_level": e.congestion_level,
            "congestion_label": e.get_congestion_level_display() if e.congestion_level else "",
            "score": e.score,
            "snapshot": _media(e),
            "clip_url": e.clip_url or None,
        }
        for e in events
    ]
    data["snapshot"] = next((e["snapshot"] for e in data["events"] if e["snapshot"]), None)
    data["clip_url"] = next((e["clip_url"] for e in data["events"] if e["clip_url"]), None)
    labels = dict(CongestionLevel.choices)
    groups = (
        own.order_by()
        .values("congestion_level")
        .annotate(n=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-last", "congestion_level")
    )
    data["folded"] = []
    for g in groups:
        level = g["congestion_level"]
        label = f"{data['kind_name']} ({labels[level]})" if level in labels else data["kind_name"]
        data["folded"].append(
            {
                "count": g["n"],
                "label": label,
                "congestion_level": level,
                "first": _local(g["first"]),
                "last": _local(g["last"]),
                "line": folded_line(g["n"], label, g["first"], g["last"]),
            }
        )
    return data


def events_by_day(scope: Scope, first: date, last: date) -> dict[tuple[date, str], dict]:
    """Events per local day and kind code from `first` to `last` (inclusive), for a year's chart:
    {(day, kind): {"count", "vehicles"}}. Days whose month retention has dropped come from their
    roll-ups (CameraEventDaily), the others from the events; archiving and dropping happen in one
    transaction, so no day is counted twice."""
    totals: dict[tuple[date, str], dict] = defaultdict(lambda: {"count": 0, "vehicles": 0})
    archived = (
        scope.filter(CameraEventDaily.objects.filter(day__gte=first, day__lte=last), "unit")
        .values_list("day", "kind__code")
        .annotate(n=Sum("count"), v=Sum("vehicles"))
    )
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    live = (
        scope.filter(CameraEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end), "unit")
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "kind__code")
        .annotate(n=Count("id"), v=Sum("vehicle_count"))
    )
    for rows in (archived, live):
        for day, kind, count, vehicles in rows:
            totals[(day, kind)]["count"] += count
            totals[(day, kind)]["vehicles"] += vehicles or 0
    return dict(totals)


# --- the briefing (ioc.briefings) ---------------------------------------------------------------

BRIEFING_PLACES = 10


def _incidents_between(scope: Scope, purpose: str, start, end):
    return scope.filter(
        Incident.objects.filter(camera__purpose=purpose, first_event_at__gte=start, first_event_at__lt=end), "unit"
    )


def _by_kind(incidents) -> dict[str, tuple[str, int]]:
    return {
        row["kind__code"]: (row["kind__name"], row["n"])
        for row in incidents.values("kind__code", "kind__name").annotate(n=Count("id")).order_by()
    }


def _briefing(scope: Scope, when, purpose: str) -> dict | None:
    """Camera incidents opened in the window, by kind (beside the window before) and by place (the
    commune or ward), as the wall's panels count incidents and events, over the window."""
    if not cameras_visible_to(scope).filter(purpose=purpose).exists():
        return None
    incidents = _incidents_between(scope, purpose, when.start, when.end)
    before = _incidents_between(scope, purpose, when.previous_start, when.start)
    kinds, kinds_before = _by_kind(incidents), _by_kind(before)
    events = scope.filter(
        CameraEvent.objects.filter(camera__purpose=purpose, occurred_at__gte=when.start, occurred_at__lt=when.end),
        "unit",
    )
    events_before = scope.filter(
        CameraEvent.objects.filter(
            camera__purpose=purpose, occurred_at__gte=when.previous_start, occurred_at__lt=when.start
        ),
        "unit",
    )
    headline = [
        {
            "code": "incidents",
            "label": _("Incidents"),
            "value": incidents.count(),
            "previous": before.count(),
            "better": "down",
        },
    ]
    if purpose == Purpose.TRAFFIC:
        violations, violations_before = (q.filter(kind__is_violation=True).count() for q in (events, events_before))
        headline.append(
            {"code": "violations", "label": _("Violations"), "value": violations, "previous": violations_before}
        )
    else:
        headline.append(
            {"code": "events", "label": _("Events"), "value": events.count(), "previous": events_before.count()}
        )
    by_kind = sorted(kinds.items(), key=lambda item: (-item[1][1], item[0]))
    places = (
        incidents.values("unit__name")
        .annotate(n=Count("id"), events=Sum("event_count"))
        .order_by("-n", "unit__name")[:BRIEFING_PLACES]
    )
    return {
        "headline": headline,
        "tables": [
            {
                "title": _("Incidents by kind"),
                "columns": [_("Kind"), _("Incidents"), _("The period before")],
                "rows": [[name, n, kinds_before.get(code, (name, 0))[1]] for code, (name, n) in by_kind],
                "empty": _("No incident in this period."),
            },
            {
                "title": _("Incidents by place"),
                "columns": [_("Commune / ward"), _("Incidents"), _("Events")],
                "rows": [[p["unit__name"], p["n"], p["events"]] for p in places],
                "empty": _("No incident in this period."),
            },
        ],
    }


def traffic_briefing(scope: Scope, when) -> dict | None:
    return _briefing(scope, when, Purpose.TRAFFIC)


def security_briefing(scope: Scope, when) -> dict | None:
    return _briefing(scope, when, Purpose.SECURITY)
