"""Reads of the camera platform: scoped querysets and the wall figures of subsystems 2 and 3."""

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ioc.scope import Scope
from traffic.models import Camera, CameraEvent, Incident, Purpose

OPEN = Incident.OPEN


def cameras_visible_to(scope: Scope):
    return scope.filter(Camera.objects.select_related("unit"), "unit")


def incidents_visible_to(scope: Scope):
    """Incidents of cameras in scope, and those dispatched to a unit in scope."""
    return scope.filter(
        Incident.objects.select_related("camera__unit", "kind", "unit", "dispatched_to"), "unit", "dispatched_to"
    )


def _today():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


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
    events = scope.filter(CameraEvent.objects.filter(occurred_at__gte=_today(), kind__is_violation=True), "unit")
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
                    CameraEvent.objects.filter(occurred_at__gte=_today(), camera__purpose=Purpose.SECURITY), "unit"
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
                "kind": latest[c.pk].kind.name,
                "severity": latest[c.pk].severity,
                "count": latest[c.pk].event_count,
            }
            if c.pk in latest
            else None,
        }
        for c in cameras
    ]


def incident_state(incident: Incident) -> dict:
    """An incident's absolute state, as screens and the API show it and live messages carry it."""
    return {
        "id": incident.pk,
        "camera": incident.camera.code,
        "camera_name": incident.camera.name,
        "purpose": incident.camera.purpose,
        "kind": incident.kind.code,
        "kind_name": incident.kind.name,
        "severity": incident.severity,
        "status": incident.status,
        "status_label": incident.get_status_display(),
        "unit": incident.unit.code if incident.unit_id else None,
        "unit_name": incident.camera.unit.name,
        "event_count": incident.event_count,
        "first_event_at": incident.first_event_at.isoformat(),
        "last_event_at": incident.last_event_at.isoformat(),
        "congestion_level": incident.congestion_level,
        "dispatched_to": incident.dispatched_to.code if incident.dispatched_to_id else None,
        "latitude": incident.camera.latitude,
        "longitude": incident.camera.longitude,
    }
