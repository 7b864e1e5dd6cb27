"""The shared alert stream through /api/v1/alerts/: scope, dedup, acknowledge, resolve."""

import pytest

from ioc import services
from ioc.models import Alert

pytestmark = pytest.mark.django_db


def raise_alert(unit, key="k", severity="warning", subsystem="traffic", title="Ùn tắc QL1A"):
    alert, _ = services.alert_raise(subsystem=subsystem, severity=severity, title=title, unit=unit, dedup_key=key)
    return alert


def test_ward_staff_get_404_for_another_wards_alert_and_the_leader_gets_it(city, people, api_as):
    alert = raise_alert(city["binh_loc"])
    url = f"/api/v1/alerts/{alert.pk}/"
    assert api_as(people["staff_lk"]).get(url).status_code == 404
    assert api_as(people["staff_bl"]).get(url).status_code == 200
    response = api_as(people["leader"]).get(url)
    assert response.status_code == 200
    assert response.json()["unit"] == "26089"


def test_list_shows_only_the_callers_scope(city, people, api_as):
    raise_alert(city["binh_loc"], key="a")
    raise_alert(city["long_khanh"], key="b")
    raise_alert(city["police"], key="c")
    codes = lambda user: sorted(a["unit"] for a in api_as(user).get("/api/v1/alerts/").json()["results"])  # noqa: E731
    assert codes(people["staff_lk"]) == ["26080"]
    assert codes(people["leader"]) == ["26080", "26089", "75-CA"]
    assert codes(people["admin"]) == ["26080", "26089", "75-CA"]


def test_staff_cannot_acknowledge_outside_their_scope(city, people, api_as):
    alert = raise_alert(city["binh_loc"])
    response = api_as(people["staff_lk"]).post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN


def test_a_repeat_counts_onto_the_open_alert_and_a_resolved_key_opens_a_new_one(city, people):
    first = raise_alert(city["long_khanh"], key="cam-7-offline", severity="warning")
    again, created = services.alert_raise(
        subsystem="traffic",
        severity="critical",
        title="Camera mất kết nối",
        unit=city["long_khanh"],
        dedup_key="cam-7-offline",
    )
    assert not created and again.pk == first.pk
    assert again.count == 2
    assert again.severity == "critical"  # a worse repeat raises the severity
    services.alert_resolve_by_key(dedup_key="cam-7-offline", note="camera back online")
    fresh = raise_alert(city["long_khanh"], key="cam-7-offline")
    assert fresh.pk != first.pk and fresh.count == 1
    assert Alert.objects.filter(dedup_key="cam-7-offline").count() == 2


def test_acknowledge_then_resolve_and_the_second_operator_gets_409(city, people, api_as):
    alert = raise_alert(city["long_khanh"])
    operator = api_as(people["operator"])
    response = operator.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    second = api_as(people["staff_lk"]).post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert second.status_code == 409
    assert "acknowledged" in second.json()["detail"].lower() or "tiếp nhận" in second.json()["detail"].lower()

    response = operator.post(f"/api/v1/alerts/{alert.pk}/resolve/", {"note": "Đã phân luồng"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "resolved"
    assert response.json()["resolution_note"] == "Đã phân luồng"
    assert operator.post(f"/api/v1/alerts/{alert.pk}/resolve/").status_code == 409


def test_open_filter_and_severity_filter(city, people, api_as):
    raise_alert(city["long_khanh"], key="a", severity="critical")
    raise_alert(city["long_khanh"], key="b", severity="info")
    services.alert_resolve_by_key(dedup_key="b")
    client = api_as(people["leader"])
    assert client.get("/api/v1/alerts/?open=true").json()["count"] == 1
    assert client.get("/api/v1/alerts/?severity=info").json()["count"] == 1


def test_operator_raises_an_alert_by_api(city, people, api_as):
    body = {
        "subsystem": "security",
        "severity": "critical",
        "title": "Cháy ở chợ Long Khánh",
        "unit": "26080",
        "dedup_key": "fire-market",
    }
    client = api_as(people["operator"])
    assert client.post("/api/v1/alerts/", body, format="json").status_code == 201
    repeat = client.post("/api/v1/alerts/", body, format="json")
    assert repeat.status_code == 200
    assert repeat.json()["count"] == 2


def test_ward_staff_may_not_raise_alerts(city, people, api_as):
    body = {"subsystem": "security", "severity": "info", "title": "x", "unit": "26080", "dedup_key": "x"}
    response = api_as(people["staff_lk"]).post("/api/v1/alerts/", body, format="json")
    assert response.status_code == 403
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": "apocalyptic"}, "severity"),
        ({"subsystem": "weather"}, "detail"),
        ({"title": ""}, "title"),
        ({"dedup_key": ""}, "dedup_key"),
    ],
)
def test_bad_input_is_a_clear_400_and_changes_nothing(city, people, api_as, change, field):
    body = {
        "subsystem": "security",
        "severity": "info",
        "title": "Tụ tập đông người",
        "unit": "26080",
        "dedup_key": "crowd",
        **change,
    }
    response = api_as(people["operator"]).post("/api/v1/alerts/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Alert.objects.exists()


def test_unknown_or_out_of_scope_unit_is_404(city, people, api_as):
    body = {"subsystem": "security", "severity": "info", "title": "x", "unit": "99999", "dedup_key": "x"}
    assert api_as(people["operator"]).post("/api/v1/alerts/", body, format="json").status_code == 404


def test_non_numeric_alert_id_is_404(people, api_as):
    assert api_as(people["leader"]).post("/api/v1/alerts/abc/acknowledge/").status_code == 404


def test_anonymous_is_refused(city, client):
    assert client.get("/api/v1/alerts/").status_code in (401, 403)
