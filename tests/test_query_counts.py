"""Every list endpoint and the snapshot read in a constant number of queries (no N+1).

The counts are pinned in tests/query_counts.json (NetBox's idea): one more query per row shows up
as a failing test, not as a slow wall. Each endpoint is read with one object of every kind, then
again with more of them: the count must not move, and must equal its baseline. After a deliberate
change, update the file with `IOC_UPDATE_QUERY_COUNTS=1`.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ioc.scope import EVERYTHING
from ioc.services import alert_raise
from tests.world import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

BASELINES = Path(__file__).with_name("query_counts.json")
LISTS = [
    "/api/v1/dashboard/snapshot/",
    "/api/v1/alerts/",
    "/api/v1/units/",
    "/api/v1/subsystems/",
    "/api/v1/reports/",
    "/api/v1/reports/queue/",
    "/api/v1/reports/queue/?unit=26080&level=normal&channel=web&overdue=false",
    "/api/v1/reports/map/",
    "/api/v1/reports/workspace/",
    "/api/v1/traffic/cameras/",
    "/api/v1/traffic/cameras/map/",
    "/api/v1/traffic/incidents/",
    "/api/v1/traffic/events/list/",
    "/api/v1/onestop/dossiers/",
    "/api/v1/onestop/offices/",
    "/api/v1/onestop/counters/",
    "/api/v1/onestop/procedures/",
    "/api/v1/indicators/",
    "/api/v1/indicators/observations/",
    "/api/v1/indicators/stations/",
    "/api/v1/map/units/",
]


def draw(code: str, lat: float, lon: float) -> None:
    """A small square boundary around a ward's centre, so the map has features to read."""
    from ioc.models import Unit
    from ioc.services import unit_upsert

    unit = Unit.objects.get(code=code)
    ring = [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01], [lon - 0.01, lat + 0.01]]
    unit_upsert(
        code=code,
        name=unit.name,
        kind=unit.kind,
        parent=unit.parent,
        boundary={"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    )


def more_of_everything(world, people, submit):
    """Three more of each kind, in another ward too."""
    from onestop.services import dossiers_upsert
    from reports import services as report_services
    from traffic.models import Camera
    from traffic.services import ingest_events

    at = timezone.now() - timedelta(minutes=2)
    draw("26068", 10.95, 106.82)
    for n in range(3):
        report, _secret = submit(description=f"Ổ gà số {n}")
        report_services.report_accept(report_id=report.pk, user=people["operator"])
        report_services.report_assign(report_id=report.pk, user=people["operator"], unit=world["unit"])
        alert_raise(subsystem="traffic", severity="warning", title=f"x{n}", unit=world["unit"], dedup_key=f"more-{n}")
        camera = Camera.objects.create(
            code=f"MORE-{n}", name=f"MORE-{n}", purpose="traffic", unit=world["unit"], latitude=10.9, longitude=107.2
        )
        ingest_events(
            source="more",
            items=[{"camera": camera.code, "kind": "accident", "external_id": f"m{n}", "occurred_at": at.isoformat()}],
            scope=EVERYTHING,
        )
        dossiers_upsert(
            items=[
                {
                    "code": f"MORE-D{n}",
                    "procedure": "1.001193",
                    "unit": "26089",
                    "status": 4,
                    "channel": 1,
                    "received_at": at.isoformat(),
                    "updated_at": at.isoformat(),
                }
            ],
            scope=EVERYTHING,
        )


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries)


def test_list_endpoints_read_in_a_constant_number_of_queries(world, people, submit, api_as):
    leader = api_as(people["leader"])
    draw("26080", 10.937, 107.243)
    draw("26089", 10.985, 107.23)
    for url in LISTS:  # warm the caches that any first read fills (registry, calendar)
        leader.get(url)
    first = {url: count(leader, url) for url in LISTS}
    more_of_everything(world, people, submit)
    again = {url: count(leader, url) for url in LISTS}
    grew = {url: (first[url], again[url]) for url in LISTS if again[url] != first[url]}
    assert not grew, f"queries grow with the rows (N+1): {grew}"
    if os.environ.get("IOC_UPDATE_QUERY_COUNTS"):
        # Merged: other tests pin their own reads in the same file (tests/test_cameras_page.py).
        BASELINES.write_text(json.dumps({**json.loads(BASELINES.read_text()), **first}, indent=2) + "\n")
    baselines = json.loads(BASELINES.read_text())
    changed = {url: (baselines.get(url), first[url]) for url in LISTS if baselines.get(url) != first[url]}
    assert not changed, f"query counts changed (baseline, now): {changed}; see {BASELINES.name}"
