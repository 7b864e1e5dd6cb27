"""Camera subsystems: ingestion, idempotency, storm folding, health, incidents, scope."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ioc.models import Alert
from ioc.services import api_key_create
from tests.images import jpeg
from traffic import services
from traffic.models import Camera, CameraEvent, Incident
from traffic.selectors import security_figures, traffic_figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def cameras(city):
    return {
        "ql1a": Camera.objects.create(
            code="LK-QL1A-01",
            name="QL1A - Ngã tư Long Khánh",
            purpose="traffic",
            unit=city["long_khanh"],
            latitude=10.9412,
            longitude=107.2389,
            road="QL1A",
        ),
        "market": Camera.objects.create(
            code="BL-SEC-01",
            name="Chợ Bình Lộc",
            purpose="security",
            unit=city["binh_loc"],
            latitude=10.985,
            longitude=107.23,
        ),
    }


@pytest.fixture
def vendor(city):
    _key, plain = api_key_create(name="camera-vendor", scopes=["traffic:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def event(n, kind="red_light", camera="LK-QL1A-01", at=None, **extra):
    at = at or timezone.now() - timedelta(seconds=60 - n % 60)
    return {"camera": camera, "kind": kind, "external_id": f"evt-{n}", "occurred_at": at.isoformat()} | extra


def post(client, events):
    return client.post("/api/v1/traffic/events/", {"events": events}, format="json")


def test_a_retried_batch_creates_nothing_twice(cameras, vendor):
    batch = [event(n, plate="60A-123.45", speed_kmh=42.5) for n in range(20)]
    first = post(vendor, batch)
    assert first.status_code == 200
    assert first.json()["created"] == 20
    retry = post(vendor, batch)
    assert retry.json()["created"] == 0 and retry.json()["duplicate"] == 20
    assert CameraEvent.objects.count() == 20
    assert CameraEvent.objects.filter(plate="60A-123.45", speed_kmh=42.5).count() == 20


def test_one_bad_item_is_named_and_the_rest_are_stored(cameras, vendor):
    batch = [event(1), {"camera": "LK-QL1A-01", "kind": "teleport", "occurred_at": "yesterday"}, event(3)]
    body = post(vendor, batch).json()
    assert body["created"] == 2 and body["error"] == 1
    bad = body["results"][1]
    assert bad["index"] == 1 and bad["status"] == "error"
    assert set(bad["errors"]) == {"kind", "occurred_at"}
    assert CameraEvent.objects.count() == 2


def test_a_batch_over_the_limit_is_refused_whole(cameras, vendor, settings):
    settings.IOC_CAMERA_BATCH_MAX = 5
    response = post(vendor, [event(n) for n in range(6)])
    assert response.status_code == 400
    assert not CameraEvent.objects.exists()


def test_a_storm_of_one_kind_folds_into_one_incident_and_one_alert(cameras, vendor):
    now = timezone.now()
    storm = [
        event(n, kind="congestion", at=now - timedelta(seconds=100 - n), avg_speed_kmh=8, free_flow_kmh=60)
        for n in range(100)
    ]
    assert post(vendor, storm).json()["created"] == 100
    incident = Incident.objects.get()
    assert incident.event_count == 100 and incident.congestion_level == "queuing"
    assert Alert.objects.filter(subsystem="traffic").count() == 1
    more = [event(n, kind="congestion", at=now) for n in range(100, 150)]
    post(vendor, more)
    incident.refresh_from_db()
    assert incident.event_count == 150
    assert Incident.objects.count() == 1 and Alert.objects.get().count == 1


def test_violations_are_records_not_incidents_and_count_on_the_wall(cameras, vendor, city):
    post(vendor, [event(n, kind=k) for n, k in enumerate(["red_light", "no_helmet", "no_helmet"])])
    assert not Incident.objects.exists() and not Alert.objects.exists()
    cameras["ql1a"].refresh_from_db()
    figures = {k["code"]: k["value"] for k in traffic_figures(services_scope(city))["kpis"]}
    assert figures["violations_today"] == 3 and figures["cameras_online"] == "1/1"


def services_scope(city):
    from ioc.scope import Scope

    return Scope(unit=city["province"])


def test_a_quiet_new_incident_ends_and_a_later_repeat_opens_another(cameras, vendor):
    now = timezone.now()
    post(vendor, [event(1, kind="accident", at=now - timedelta(minutes=20))])
    post(vendor, [event(2, kind="accident", at=now)])
    assert Incident.objects.count() == 2
    assert Incident.objects.filter(status="resolved").count() == 1


def test_only_kinds_at_or_above_the_setting_raise_alerts(cameras, vendor, settings):
    settings.IOC_CAMERA_ALERT_SEVERITY = "critical"
    post(vendor, [event(1, kind="crowd", camera="BL-SEC-01"), event(2, kind="fire_smoke", camera="BL-SEC-01")])
    assert Incident.objects.count() == 2
    assert list(Alert.objects.values_list("severity", "subsystem")) == [("critical", "security")]


def test_offline_after_silence_and_back_online(cameras, vendor, settings):
    post(vendor, [event(1, kind="heartbeat")])
    camera = Camera.objects.get(code="LK-QL1A-01")
    assert camera.health == "online"
    assert services.camera_health_sweep() == 0
    later = timezone.now() + timedelta(minutes=settings.IOC_CAMERA_OFFLINE_MINUTES + 1)
    assert services.camera_health_sweep(now=later) == 1
    assert services.camera_health_sweep(now=later) == 0  # running twice raises nothing new
    camera.refresh_from_db()
    assert camera.health == "offline"
    alert = Alert.objects.get(dedup_key="camera:LK-QL1A-01:offline")
    assert alert.state == "open"
    post(vendor, [event(2, kind="heartbeat")])
    camera.refresh_from_db()
    alert.refresh_from_db()
    assert camera.health == "online" and alert.state == "resolved"


def test_tampering_is_a_critical_alert(cameras, vendor):
    post(vendor, [event(1, kind="heartbeat"), event(2, kind="tamper")])
    assert Camera.objects.get(code="LK-QL1A-01").health == "tampered"
    assert Alert.objects.get(dedup_key="camera:LK-QL1A-01:tamper").severity == "critical"


def test_a_single_event_with_a_snapshot_upload(cameras, vendor, people, api_as):
    response = vendor.post(
        "/api/v1/traffic/events/",
        {
            "camera": "LK-QL1A-01",
            "kind": "accident",
            "external_id": "acc-1",
            "occurred_at": timezone.now().isoformat(),
            "snapshot": jpeg(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    detail = api_as(people["operator"]).get(f"/api/v1/traffic/incidents/{incident.pk}/").json()
    snapshot_url = detail["events"][0]["snapshot"]
    assert api_as(people["operator"]).get(snapshot_url).status_code == 200
    assert APIClient().get(snapshot_url).status_code == 404


def test_incident_workflow_and_conflicts(cameras, vendor, people, api_as, city):
    post(vendor, [event(1, kind="accident")])
    incident = Incident.objects.get()
    url = f"/api/v1/traffic/incidents/{incident.pk}/"
    operator = api_as(people["operator"])
    assert operator.post(url + "acknowledge/").json()["status"] == "acknowledged"
    assert operator.post(url + "acknowledge/").status_code == 409
    dispatched = operator.post(url + "dispatch/", {"unit": "75-CA", "note": "CSGT đến hiện trường"}, format="json")
    assert dispatched.json()["status"] == "dispatched" and dispatched.json()["dispatched_to"] == "75-CA"
    assert api_as(people["staff_lk"]).post(url + "dispatch/", {"unit": "26080"}, format="json").status_code == 403
    assert operator.post(url + "resolve/", {"note": "Đã giải tỏa"}, format="json").json()["status"] == "resolved"
    assert operator.post(url + "false-alarm/").status_code == 409
    assert Alert.objects.get(dedup_key=f"traffic:incident:{incident.pk}").state == "resolved"


def test_one_wards_camera_events_are_invisible_to_another_wards_staff(cameras, vendor, people, api_as, city):
    post(vendor, [event(1, kind="fight", camera="BL-SEC-01"), event(2, kind="accident")])
    market = Incident.objects.get(camera__code="BL-SEC-01")
    staff_lk = api_as(people["staff_lk"])
    assert staff_lk.get(f"/api/v1/traffic/incidents/{market.pk}/").status_code == 404
    assert [i["camera"] for i in staff_lk.get("/api/v1/traffic/incidents/").json()["results"]] == ["LK-QL1A-01"]
    assert [e["camera"] for e in staff_lk.get("/api/v1/traffic/events/list/").json()["results"]] == ["LK-QL1A-01"]
    assert [c["code"] for c in staff_lk.get("/api/v1/traffic/cameras/").json()["results"]] == ["LK-QL1A-01"]
    assert api_as(people["staff_bl"]).get(f"/api/v1/traffic/incidents/{market.pk}/").status_code == 200
    assert security_figures(services_scope(city))["kpis"][0]["value"] == 1


def test_a_ward_key_cannot_send_for_another_wards_camera(cameras, city):
    _key, plain = api_key_create(name="ward-vendor", scopes=["traffic:write"], unit=city["long_khanh"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    body = post(client, [event(1, camera="BL-SEC-01", kind="crowd")]).json()
    assert body["error"] == 1 and "camera" in body["results"][0]["errors"]


def test_people_and_keys_without_the_scope_cannot_send(cameras, people, api_as, city):
    assert post(api_as(people["operator"]), [event(1)]).status_code == 403
    _key, plain = api_key_create(name="reports-only", scopes=["reports:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert post(client, [event(1)]).status_code == 403


@pytest.mark.parametrize(
    "bad",
    [{"events": "nope"}, {"events": []}, {"events": [1, 2]}],
)
def test_malformed_bodies_are_400_or_named_per_item(cameras, vendor, bad):
    response = vendor.post("/api/v1/traffic/events/", bad, format="json")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert all(r["status"] == "error" for r in response.json()["results"])
    assert not CameraEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_for_the_same_cameras_all_land(cameras, city):
    import threading

    from django.db import connections

    _key, plain = api_key_create(name="camera-vendor", scopes=["traffic:write"], unit=city["province"])
    codes, barrier = [], threading.Barrier(4)

    def send(thread):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        batch = [
            event(thread * 1000 + n, kind=kind, camera=camera, external_id=f"{kind}-{thread}-{n}")
            for n in range(50)
            for kind, camera in (("congestion", "LK-QL1A-01"), ("crowd", "BL-SEC-01"))
        ]
        barrier.wait()
        codes.append(post(client, batch).status_code)
        connections.close_all()

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 4
    assert CameraEvent.objects.count() == 400
    assert Incident.objects.count() == 2 and sum(Incident.objects.values_list("event_count", flat=True)) == 400
