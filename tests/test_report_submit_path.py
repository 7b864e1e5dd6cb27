"""The submission path, made lean for bursts (docs/scaling.md): each shortcut keeps the rule it stands for."""

import pytest
from rest_framework.test import APIClient

from ioc import geo
from ioc.models import BoundarySource, Unit
from ioc.worktime import DurationUnit
from reports import services
from reports.models import DeadlinePolicy, Level, Status
from tests.conftest import LONG_KHANH

pytestmark = pytest.mark.django_db


def square(lat, lon, half=0.01):
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def draw(code, geometry, source=BoundarySource.IMPORTED):
    unit = Unit.objects.get(code=code)
    unit.boundary, unit.boundary_source = geometry, source
    unit.bbox = geo.bbox_of(geometry)
    unit.save()


def test_a_redrawn_boundary_decides_the_very_next_report_in_the_same_process(categories, submit):
    draw("26080", square(*LONG_KHANH))
    draw("26089", square(*LONG_KHANH, half=0.005))
    first = Unit.objects.filter(code__in=["26080", "26089"]).order_by("id").first().code
    second = "26089" if first == "26080" else "26080"
    assert submit()[0].unit.code == first  # both hold the point: the first in order decides
    # The first one's outline moves away while its box still holds the point: the shape read for the
    # last report must not decide the next one.
    far = square(LONG_KHANH[0] + 0.5, LONG_KHANH[1] + 0.5)
    Unit.objects.filter(code=first).update(boundary=far, bbox=[10.0, 107.0, 12.0, 108.0])
    assert submit()[0].unit.code == second
    assert geo.locate_unit(*LONG_KHANH).code == second


def test_a_located_unit_is_the_callers_own_copy(categories):
    draw("26080", square(*LONG_KHANH))
    first = geo.locate_unit(*LONG_KHANH)
    first.name = "changed by a caller"
    assert geo.locate_unit(*LONG_KHANH).name != "changed by a caller"


def test_the_submitting_citizen_is_shown_only_published_reports_nearby(categories, submit, people, api_as):
    waiting, _ = submit()  # received, not yet triaged: not public
    accepted, _ = submit()
    api_as(people["operator"]).post(f"/api/v1/reports/{accepted.pk}/accept/", {}, format="json")
    body = {"category": "o-ga", "description": "Ổ gà nữa", "latitude": LONG_KHANH[0], "longitude": LONG_KHANH[1]}
    answer = APIClient().post("/api/v1/reports/", body, format="json")
    assert answer.status_code == 201
    shown = [r["tracking_code"] for r in answer.json()["similar_reports"]]
    assert shown == [accepted.tracking_code]
    assert waiting.tracking_code not in shown


def test_a_categorys_own_deadline_policy_wins_over_the_levels_default(categories, submit):
    DeadlinePolicy.objects.create(
        category=None,
        level=Level.NORMAL,
        response_amount=8,
        response_unit=DurationUnit.WORKING_HOURS,
        resolution_amount=5,
        resolution_unit=DurationUnit.WORKING_DAYS,
    )
    assert services._policy(categories["pothole"], Level.NORMAL) == (
        8,
        DurationUnit.WORKING_HOURS,
        5,
        DurationUnit.WORKING_DAYS,
    )
    DeadlinePolicy.objects.create(
        category=categories["pothole"],
        level=Level.NORMAL,
        response_amount=3,
        response_unit=DurationUnit.CLOCK_HOURS,
        resolution_amount=2,
        resolution_unit=DurationUnit.WORKING_DAYS,
    )
    report, _ = submit()
    assert (report.response_due_at - report.received_at).total_seconds() == 3 * 3600
    assert report.status == Status.RECEIVED
