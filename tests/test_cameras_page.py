"""What the camera incidents page reads: the operator's order, names in the reader's language, events
folded into lines, the ward a dispatch defaults to, snapshots and clips; in a fixed number of queries."""

import json
import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ioc.scope import EVERYTHING
from tests.test_cameras import cameras, event, post, vendor  # noqa: F401  (fixtures)
from tests.test_query_counts import BASELINES
from traffic import services
from traffic.models import Camera, EventKind, Incident

pytestmark = pytest.mark.django_db

LIST = "/api/v1/traffic/incidents/?open=true&limit=1000"


def test_the_list_is_ordered_by_severity_then_latest_event_then_id(cameras, vendor, people, api_as, city):  # noqa: F811
    now = timezone.now().replace(microsecond=0)
    extra = [
        Camera.objects.create(code=f"LK-{n}", name=f"Cam {n}", purpose="traffic", unit=city["long_khanh"])
        for n in range(3)
    ]
    post(
        vendor,
        [
            event(1, kind="congestion", at=now - timedelta(minutes=9)),  # warning, older
            event(2, kind="accident", at=now - timedelta(minutes=20)),  # critical, oldest
            event(3, kind="crowd", camera="BL-SEC-01", at=now - timedelta(minutes=2)),  # warning, newest
            *[
                event(10 + n, kind="fire_smoke", camera=c.code, at=now - timedelta(minutes=5))
                for n, c in enumerate(extra)
            ],
        ],
    )
    rows = api_as(people["operator"]).get(LIST).json()["results"]
    ties = sorted((i["id"] for i in rows if i["kind"] == "fire_smoke"), reverse=True)
    assert [(i["kind"], i["id"] if i["kind"] == "fire_smoke" else None) for i in rows] == [
        ("fire_smoke", ties[0]),
        ("fire_smoke", ties[1]),
        ("fire_smoke", ties[2]),
        ("accident", None),
        ("crowd", None),
        ("congestion", None),
    ]
    # The times read as the city's clock, the same offset in every row and in live messages.
    assert all(i["last_event_at"].endswith("+07:00") for i in rows)


def test_names_come_in_the_readers_language_and_events_fold_into_lines(cameras, vendor, people, api_as):  # noqa: F811
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=20)
    levels = ["stationary"] * 12 + ["queuing"] * 8
    post(
        vendor,
        [
            event(n, kind="congestion", at=start + timedelta(minutes=n), congestion_level=lv)
            for n, lv in enumerate(levels)
        ],
    )
    incident = Incident.objects.get()
    operator = api_as(people["operator"])
    local = timezone.localtime
    span = f"{local(start):%H:%M}–{local(start + timedelta(minutes=19)):%H:%M}"

    vi = operator.get(LIST).json()["results"][0]
    assert vi["kind_name"] == "Ùn tắc giao thông" and vi["kind_names"] == {
        "vi": "Ùn tắc giao thông",
        "en": "Congestion",
    }
    assert vi["event_count"] == 20 and vi["summary"] == f"20 × Ùn tắc giao thông, {span}"

    detail = operator.get(f"/api/v1/traffic/incidents/{incident.pk}/").json()
    lines = [g["line"] for g in detail["folded"]]

    def hhmm(minutes):
        return f"{local(start + timedelta(minutes=minutes)):%H:%M}"

    assert lines == [
        f"8 × Ùn tắc giao thông (Ùn ứ), {hhmm(12)}–{hhmm(19)}",
        f"12 × Ùn tắc giao thông (Ùn tắc), {hhmm(0)}–{hhmm(11)}",
    ]
    assert "stationary" not in json.dumps([g["label"] for g in detail["folded"]])

    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = operator.get(f"/api/v1/traffic/incidents/{incident.pk}/").json()
    assert en["kind_name"] == "Congestion" and en["summary"] == f"20 × Congestion, {span}"
    assert [g["label"] for g in en["folded"]] == ["Congestion (Queuing)", "Congestion (Stationary)"]


def test_a_dispatch_defaults_to_the_cameras_ward_not_the_province(cameras, vendor, people, api_as, city):  # noqa: F811
    post(vendor, [event(1, kind="accident")])
    incident = Incident.objects.get()
    operator = api_as(people["operator"])
    row = operator.get(LIST).json()["results"][0]
    assert (row["dispatch_unit"], row["dispatch_unit_name"]) == ("26080", "Phường Long Khánh")
    url = f"/api/v1/traffic/incidents/{incident.pk}/"
    sent = operator.post(url + "dispatch/", {"unit": "75-CA"}, format="json").json()
    # Once sent, the default is the unit already on its way.
    assert (sent["dispatched_to"], sent["dispatch_unit"], sent["dispatched_to_name"]) == (
        "75-CA",
        "75-CA",
        "Công an tỉnh",
    )


def test_the_detail_has_the_latest_snapshot_first_and_the_clip(cameras, vendor, people, api_as):  # noqa: F811
    now = timezone.now()
    batch = [
        event(
            1, kind="fight", camera="BL-SEC-01", at=now - timedelta(minutes=3), snapshot_url="https://cam.example/1.jpg"
        ),
        event(
            2,
            kind="fight",
            camera="BL-SEC-01",
            at=now - timedelta(minutes=1),
            snapshot_url="https://cam.example/2.jpg",
            clip_url="https://cam.example/2.mp4",
        ),
    ]
    assert post(vendor, batch).json()["created"] == 2
    detail = api_as(people["operator"]).get(f"/api/v1/traffic/incidents/{Incident.objects.get().pk}/").json()
    assert detail["snapshot"] == "https://cam.example/2.jpg" and detail["clip_url"] == "https://cam.example/2.mp4"
    assert [e["snapshot"] for e in detail["events"]] == ["https://cam.example/2.jpg", "https://cam.example/1.jpg"]
    listed = api_as(people["operator"]).get("/api/v1/traffic/events/list/").json()["results"]
    assert {e["clip_url"] for e in listed} == {"https://cam.example/2.mp4", ""}


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "file:///etc/passwd", "https://", "ftp://x/y.mp4", 7])
def test_a_clip_that_is_not_a_web_address_is_refused(cameras, vendor, bad):  # noqa: F811
    result = post(vendor, [event(1, kind="fight", camera="BL-SEC-01", clip_url=bad)]).json()["results"][0]
    assert result["status"] == "error" and "clip_url" in result["errors"]


def many_incidents(city, n: int) -> None:
    """n open incidents on n cameras in two wards, written in bulk (the read is what is measured)."""
    now = timezone.now()
    kind = EventKind.objects.get(code="accident")
    wards = [city["long_khanh"], city["binh_loc"]]
    start = Camera.objects.count()
    made = Camera.objects.bulk_create(
        Camera(
            code=f"Q-{start + i}", name=f"Q {i}", purpose="traffic", unit=wards[i % 2], latitude=10.9, longitude=107.2
        )
        for i in range(n)
    )
    Incident.objects.bulk_create(
        Incident(
            camera=c,
            kind=kind,
            unit=c.unit,
            severity=("critical", "warning", "info")[i % 3],
            first_event_at=now - timedelta(minutes=i % 50),
            last_event_at=now - timedelta(minutes=i % 7),
            event_count=1 + i % 9,
            dispatched_to=city["police"] if i % 4 == 0 else None,
            status="dispatched" if i % 4 == 0 else "new",
        )
        for i, c in enumerate(made)
    )


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_incident_list_reads_in_the_same_queries_at_10_and_1000_rows(city, people, api_as):
    leader = api_as(people["leader"])
    many_incidents(city, 10)
    leader.get(LIST)  # warm what any first read fills
    at_10, rows = count(leader, LIST)
    assert rows == 10
    many_incidents(city, 990)
    at_1000, rows = count(leader, LIST)
    assert rows == 1000
    assert at_10 == at_1000, f"queries grow with the rows: {at_10} at 10, {at_1000} at 1,000"
    baselines = json.loads(BASELINES.read_text())
    if os.environ.get("IOC_UPDATE_QUERY_COUNTS"):
        BASELINES.write_text(json.dumps({**baselines, LIST: at_10}, indent=2) + "\n")
        baselines[LIST] = at_10
    assert baselines.get(LIST) == at_10, f"query count changed ({baselines.get(LIST)} pinned, {at_10} now)"


def test_a_live_message_carries_both_names_and_the_default_unit(cameras, city):  # noqa: F811
    services.ingest_events(source="t", items=[event(1, kind="accident")], scope=EVERYTHING)
    from traffic.selectors import incident_state

    state = incident_state(Incident.objects.select_related("camera__unit", "kind", "unit").get())
    assert state["kind_names"] == {"vi": "Tai nạn giao thông", "en": "Accident"}
    assert state["dispatch_unit"] == "26080"


def test_the_demo_feed_draws_a_snapshot_marked_demo():
    import io
    import random

    from PIL import Image

    from traffic.demo import demo_frame

    frame = Image.open(io.BytesIO(demo_frame(random.Random(1), "LK-QL1A-01", "accident").read()))
    assert frame.format == "JPEG" and frame.size == (640, 360)
