"""One object of every kind in Long Khánh (26080), for the tests that walk every URL.

Each object carries a marker that appears nowhere else, so "no data" can be checked on any answer:
a page, a JSON list, an error message.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from ioc.scope import EVERYTHING
from ioc.services import alert_raise, api_key_create
from tests.images import jpeg

MARKERS = {
    "report": "PROBE-LK-REPORT",
    "waiting": "PROBE-LK-WAITING",
    "alert": "PROBE-LK-ALERT",
    "camera": "PROBE-LK-CAM",
    "dossier": "PROBE-LK-DOSSIER",
    "office": "PROBE-LK-OFFICE",
    "counter": "PROBE-LK-COUNTER",
    "station": "PROBE-LK-STATION",
}


def routes(patterns=None, prefix=""):
    """(route, pattern) for every URL the project answers, admin and static files aside."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if not route.startswith(("admin/", "static/", "media/")):
                yield route, pattern


def key_client(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


@pytest.fixture
def world(city, people, categories, submit):
    """Long Khánh's objects of every kind; the report is assigned to the ward and not yet public."""
    from indicators.models import Indicator, Station
    from indicators.services import observation_upsert
    from onestop.models import Counter, Office, Procedure
    from onestop.services import dossiers_upsert
    from reports import services as report_services
    from traffic.models import Camera, CameraEvent, Incident
    from traffic.services import ingest_events

    lk = city["long_khanh"]
    report, secret = submit(description=f"Ổ gà {MARKERS['report']}", photos=[jpeg()])
    report_services.report_accept(report_id=report.pk, user=people["operator"])
    report_services.report_assign(report_id=report.pk, user=people["operator"], unit=lk)
    # A second report waits for triage: the public must not see it.
    waiting, _secret = submit(description=f"Chưa phân loại {MARKERS['waiting']}", photos=[jpeg()])
    alert, _created = alert_raise(
        subsystem="environment", severity="critical", title=MARKERS["alert"], unit=lk, dedup_key="probe"
    )
    camera = Camera.objects.create(
        code=MARKERS["camera"], name=MARKERS["camera"], purpose="traffic", unit=lk, latitude=10.94, longitude=107.24
    )
    at = timezone.now() - timedelta(minutes=1)
    ingest_events(
        source="probe",
        items=[{"camera": camera.code, "kind": "accident", "external_id": "probe-1", "occurred_at": at.isoformat()}],
        scope=EVERYTHING,
        snapshots={0: jpeg("probe-1.jpg")},
    )
    event = CameraEvent.objects.get(camera=camera)
    incident = Incident.objects.get(camera=camera)
    procedure = Procedure.objects.create(code="1.001193", name="Đăng ký khai sinh", duration_days=Decimal("1"))
    office = Office.objects.create(unit=lk, name=MARKERS["office"])
    counter = Counter.objects.create(office=office, code=MARKERS["counter"].lower(), name=MARKERS["counter"])
    dossiers_upsert(
        items=[
            {
                "code": MARKERS["dossier"],
                "procedure": procedure.code,
                "unit": lk.code,
                "status": 4,
                "channel": 2,
                "received_at": at.isoformat(),
                "updated_at": at.isoformat(),
            }
        ],
        scope=EVERYTHING,
    )
    indicator = Indicator.objects.create(code="pm25-probe", subsystem="environment", name="PM2.5", period="hourly")
    station = Station.objects.create(
        code=MARKERS["station"].lower(), name=MARKERS["station"], unit=lk, latitude=10.94, longitude=107.24
    )
    observation_upsert(indicator=indicator, unit=lk, station=station, period=at, value=Decimal("42"), source="probe")
    return {
        "report": report,
        "secret": secret,
        "waiting": waiting,
        "photo": waiting.photos.first(),
        "alert": alert,
        "camera": camera,
        "event": event,
        "incident": incident,
        "office": office,
        "counter": counter,
        "indicator": indicator,
        "station": station,
        "unit": lk,
    }


@pytest.fixture
def outsiders(city, people, api_as):
    """Bình Lộc's staff and a Bình Lộc key with every scope: neither may see Long Khánh's objects."""
    from ioc.services import API_KEY_SCOPES

    _key, plain = api_key_create(name="binh-loc-app", scopes=list(API_KEY_SCOPES), unit=city["binh_loc"])
    return {"staff of another ward": api_as(people["staff_bl"]), "key of another ward": key_client(plain)}
