"""No server error on any input: every hostile input is a clear 4xx in the API's error shape, and
changes nothing (docs/security.md, "Hostile input")."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from ioc.models import Alert
from ioc.services import api_key_create
from onestop.models import Counter, Dossier, Office, Procedure, QueueFigure
from reports.models import Report
from traffic.models import Camera, CameraEvent

pytestmark = pytest.mark.django_db

LONG_KHANH = ("10.9372", "107.2431")


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def key_client(city, *scopes):
    _key, plain = api_key_create(name="vendor", scopes=list(scopes), unit=city["province"])
    client = english(APIClient())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


@pytest.fixture
def machines(city):
    """A province-wide key with every write scope, a camera, an office with a counter, a procedure."""
    camera = Camera.objects.create(code="LK-QL1A-01", name="QL1A", purpose="traffic", unit=city["long_khanh"])
    office = Office.objects.create(unit=city["long_khanh"], name="Bộ phận Một cửa phường Long Khánh")
    Procedure.objects.create(code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch", duration_days=1)
    Counter.objects.create(office=office, code="LK-MC-01", name="Quầy 1")
    client = key_client(city, "alerts:write", "traffic:write", "onestop:write", "reports:write", "indicators:write")
    return {"client": client, "camera": camera}


def detail_of(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, dict) and body, body
    return str(body)


def open311_errors(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and e["code"] == status and e["description"] for e in body)
    return " ".join(e["description"] for e in body)


def stored():
    return (
        Alert.objects.count(),
        CameraEvent.objects.count(),
        Dossier.objects.count(),
        QueueFigure.objects.count(),
        Report.objects.count(),
    )


def alert(**extra):
    return {
        "subsystem": "traffic",
        "severity": "warning",
        "title": "Ùn tắc QL1A",
        "unit": "75",
        "dedup_key": "hostile",
        **extra,
    }


def nested(depth):
    return "[" * depth + "]" * depth


# --- JSON nesting -------------------------------------------------------------------------------

JSON_ENDPOINTS = [
    "/api/v1/alerts/",
    "/api/v1/traffic/events/",
    "/api/v1/onestop/dossiers/",
    "/api/v1/onestop/queues/",
    "/api/v1/reports/",
    "/api/v1/indicators/observations/",
]


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
@pytest.mark.parametrize("depth", [65, 100_000])
def test_json_nested_too_deep_is_a_400_on_every_json_endpoint(machines, url, depth):
    before = stored()
    body = '{"events": ' + nested(depth) + "}"
    response = machines["client"].post(url, body, content_type="application/json")
    assert "nested deeper than 64 levels" in detail_of(response, 400)
    assert stored() == before


def test_json_nested_64_deep_is_read(machines):
    response = machines["client"].post("/api/v1/alerts/", '{"a": ' + nested(63) + "}", content_type="application/json")
    assert response.status_code == 400
    assert "nested" not in str(response.json())  # read, then refused for its missing fields


def test_the_mqtt_bridge_refuses_deep_json_and_nul():
    from ioc import ingest

    with pytest.raises(ValueError, match="nested deeper"):
        ingest.loads(nested(10_000))
    with pytest.raises(ValueError, match="NUL"):
        ingest.loads('{"plate": "60A\\u0000"}')


# --- impossible dates in batches ----------------------------------------------------------------


def test_an_impossible_date_in_a_camera_batch_names_the_event_and_the_good_ones_are_stored(machines):
    at = (timezone.now() - timedelta(minutes=5)).isoformat()
    events = [
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "e-1", "occurred_at": at},
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "e-2", "occurred_at": "2026-02-30T08:00:00+07:00"},
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "e-3", "occurred_at": "2026-13-01T08:00:00+07:00"},
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "e-4", "occurred_at": "1254-01-01T08:00:00+07:00"},
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "e-5", "occurred_at": at},
    ]
    response = machines["client"].post("/api/v1/traffic/events/", {"events": events}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["error"]) == (2, 3)
    bad = {r["index"]: r["errors"] for r in body["results"] if r["status"] == "error"}
    assert set(bad) == {1, 2, 3}
    assert "does not exist" in bad[1]["occurred_at"] and "does not exist" in bad[2]["occurred_at"]
    assert "between the years 1900 and 2100" in bad[3]["occurred_at"]
    assert set(CameraEvent.objects.values_list("external_id", flat=True)) == {"e-1", "e-5"}


def test_an_impossible_date_in_a_dossier_batch_names_the_dossier_and_the_good_ones_are_stored(machines):
    def dossier(code, updated):
        return {
            "code": code,
            "procedure": "1.001193",
            "unit": "26080",
            "status": 2,
            "channel": 2,
            "updated_at": updated,
        }

    good = (timezone.now() - timedelta(hours=1)).isoformat()
    items = [dossier("D-1", good), dossier("D-2", "2026-02-30T08:00:00+07:00"), dossier("D-3", good)]
    items[2]["received_at"] = "2026-11-31T08:00:00+07:00"
    items.append(dossier("D-4", good))
    response = machines["client"].post("/api/v1/onestop/dossiers/", {"dossiers": items}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["error"]) == (2, 2)
    bad = {r["code"]: r["errors"] for r in body["results"] if r["status"] == "error"}
    assert "does not exist" in bad["D-2"]["updated_at"]
    assert "does not exist" in bad["D-3"]["received_at"]
    assert set(Dossier.objects.values_list("code", flat=True)) == {"D-1", "D-4"}


def test_an_impossible_date_in_queue_figures_names_the_figure_and_the_good_ones_are_stored(machines):
    good = (timezone.now() - timedelta(minutes=1)).isoformat()
    figures = [
        {"counter": "LK-MC-01", "waiting": 3, "at": good},
        {"counter": "LK-MC-01", "waiting": 4, "at": "2026-02-30T08:00:00+07:00"},
        {"counter": "LK-MC-01", "waiting": 5, "at": "99999-01-01T08:00:00+07:00"},
    ]
    response = machines["client"].post("/api/v1/onestop/queues/", {"figures": figures}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["error"]) == (1, 2)
    assert [r["index"] for r in body["results"] if r["status"] == "error"] == [1, 2]
    assert "does not exist" in body["results"][1]["errors"]["at"]
    assert "ISO 8601" in body["results"][2]["errors"]["at"]
    assert list(QueueFigure.objects.values_list("waiting", flat=True)) == [3]


# --- NUL characters -----------------------------------------------------------------------------


def test_nul_in_a_json_body_is_a_400(machines):
    before = stored()
    response = machines["client"].post("/api/v1/alerts/", alert(title="Ùn tắc\x00"), format="json")
    assert "title: text may not contain the NUL character" in detail_of(response, 400)
    response = machines["client"].post("/api/v1/alerts/", {**alert(), "x\x00": 1}, format="json")
    assert "NUL character" in detail_of(response, 400)
    assert stored() == before


def test_nul_in_a_batch_is_refused_by_the_parser_naming_the_item_and_field(machines):
    # The JSON parser refuses a NUL anywhere in a body, before any item is read: nothing is stored.
    at = (timezone.now() - timedelta(minutes=5)).isoformat()
    events = [
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "n-1", "occurred_at": at},
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "n-2", "occurred_at": at, "plate": "60A\x00"},
    ]
    response = machines["client"].post("/api/v1/traffic/events/", {"events": events}, format="json")
    assert "events[1].plate: text may not contain the NUL character" in detail_of(response, 400)
    assert CameraEvent.objects.count() == 0


def test_nul_in_an_item_read_without_the_json_parser_is_named_per_field():
    from ioc.ingest import text_field

    errors = {}
    assert text_field({"plate": "60A\x00"}, "plate", 20, errors) == ""
    assert "NUL character" in errors["plate"]


def test_nul_in_a_form_field_is_a_400(categories, client):
    english(client)
    before = stored()
    fields = {"category": "o-ga", "description": "Ổ gà\x00", "latitude": LONG_KHANH[0], "longitude": LONG_KHANH[1]}
    response = client.post("/api/v1/reports/", fields)  # multipart
    assert "description: text may not contain the NUL character" in detail_of(response, 400)
    response = client.post("/api/v1/reports/", fields, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert stored() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/?q=%00",
        "/api/v1/reports/?q\x00=1",
        "/api/v1/reports/track/ABC%00/",
        "/api/v1/reports/%00/",
        "/reports/track/?code=%00",
    ],
)
def test_nul_in_the_query_or_the_path_is_a_400(people, api_as, path):
    client = english(api_as(people["operator"]))
    assert "NUL character" in detail_of(client.get(path), 400)


def test_nul_under_open311_answers_in_its_own_shape(categories, client):
    english(client)
    assert "NUL character" in open311_errors(client.get("/open311/v2/requests.json?status=%00"), 400)


# --- ids, paging and dates in filters -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/abc/",
        "/api/v1/reports/99999999999999999999999/",
        "/api/v1/alerts/abc/",
        "/api/v1/traffic/incidents/1e3/",
    ],
)
def test_an_id_that_is_not_a_number_is_not_found(people, api_as, path):
    response = english(api_as(people["operator"])).get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("limit=-1", "at least 1"),
        ("limit=0", "at least 1"),
        ("limit=abc", "whole number"),
        ("limit=99999999999999999999999", "whole number"),
        ("offset=-5", "from 0 to"),
        ("offset=9223372036854775808", "from 0 to"),
        ("offset=99999999999999999999999", "whole number"),
    ],
)
def test_paging_outside_its_bounds_is_a_400(people, api_as, query, words):
    response = english(api_as(people["operator"])).get(f"/api/v1/reports/?{query}")
    assert words in detail_of(response, 400)


def test_a_limit_above_the_maximum_is_lowered_to_it(people, api_as, submit):
    submit()
    response = api_as(people["operator"]).get("/api/v1/reports/?limit=100000")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert "limit=1000" in (response.json()["next"] or "limit=1000")


@pytest.mark.parametrize("moment", ["1254-01-01T00:00:00Z", "0312-05-01T00:00:00+07:00", "0001-01-01T00:00:00+07:00"])
def test_a_date_in_a_list_filter_outside_the_years_is_a_400(people, api_as, moment):
    client = english(api_as(people["operator"]))
    for url in ("/api/v1/reports/", "/api/v1/traffic/events/list/", "/api/v1/onestop/dossiers/"):
        field = {"/api/v1/reports/": "received_after", "/api/v1/onestop/dossiers/": "received_from"}.get(
            url, "occurred_at__gte"
        )
        response = client.get(url, {field: moment})
        assert "between the years 1900 and 2100" in detail_of(response, 400), url


def test_an_offset_postgresql_does_not_take_is_read_as_the_same_instant(people, api_as, machines):
    client = api_as(people["operator"])
    response = client.get("/api/v1/onestop/dossiers/", {"received_before": "2026-05-02T00:32:43-19:58"})
    assert response.status_code == 200, response.content
    at = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    odd = at.astimezone(timezone.get_fixed_timezone(-(19 * 60 + 58))).isoformat()
    event = {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": "odd", "occurred_at": odd}
    response = machines["client"].post("/api/v1/traffic/events/", event, format="json")
    assert response.status_code == 201, response.content
    assert CameraEvent.objects.get(external_id="odd").occurred_at == at


@pytest.mark.parametrize(
    "period",
    [{"period": "0312"}, {"period": "9999-12"}, {"period": "custom", "start": "0001-01-01", "end": "9999-12-31"}],
)
def test_a_one_stop_period_outside_the_years_is_a_400(people, api_as, period):
    response = english(api_as(people["leader"])).get("/api/v1/onestop/indicators/", period)
    assert "period" in detail_of(response, 400)


def test_a_date_that_cannot_be_written_in_a_list_filter_is_a_400(people, api_as):
    response = english(api_as(people["operator"])).get("/api/v1/reports/", {"received_after": "99999-01-01"})
    assert "received_after" in detail_of(response, 400)


@pytest.mark.parametrize("moment", ["1254-01-01T00:00:00+07:00", "0312-01-01T00:00:00+07:00", "99999-01-01T00:00:00Z"])
def test_a_date_outside_the_years_in_open311_is_its_400(categories, client, moment):
    english(client)
    response = client.get("/open311/v2/requests.json", {"start_date": moment})
    assert "start_date" in open311_errors(response, 400)


# --- too long, or not UTF-8 ---------------------------------------------------------------------


def test_an_alert_detail_of_a_megabyte_is_refused(machines):
    response = machines["client"].post("/api/v1/alerts/", alert(detail="x" * 1_000_000), format="json")
    assert "no more than 4000 characters" in detail_of(response, 400)
    assert Alert.objects.count() == 0


def test_an_open311_first_name_longer_than_the_record_is_refused_not_cut(categories, client, city):
    english(client)
    _key, plain = api_key_create(name="partner", scopes=["reports:write"], unit=city["province"])
    body = {
        "api_key": plain,
        "service_code": "o-ga",
        "lat": LONG_KHANH[0],
        "long": LONG_KHANH[1],
        "description": "Ổ gà sâu",
        "first_name": "A" * 10_000,
    }
    response = client.post("/open311/v2/requests.json", body)
    assert "first_name/last_name: At most 120 characters" in open311_errors(response, 400)
    assert Report.objects.count() == 0


def test_invalid_utf8_in_a_multipart_field_is_refused(categories, client):
    english(client)
    boundary = "xyz"
    parts = [("category", b"o-ga"), ("description", b"O ga \xff\xfe sau"), ("latitude", b"10.9372")]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
            for name, value in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    response = client.generic(
        "POST", "/api/v1/reports/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert "description: not valid UTF-8" in detail_of(response, 400)
    assert Report.objects.count() == 0


def test_a_query_string_that_is_not_utf8_is_refused(people, api_as):
    response = english(api_as(people["operator"])).get("/api/v1/reports/?q=%ff%fe")
    assert "not valid UTF-8" in detail_of(response, 400)


# --- body sizes ---------------------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_a_json_413_that_says_the_limit(machines, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    response = machines["client"].post("/api/v1/alerts/", alert(detail="x" * 2_000_000), format="json")
    assert "larger than 1 MB" in detail_of(response, 413)
    assert Alert.objects.count() == 0


def test_form_fields_over_the_limit_are_a_json_413(categories, client, settings):
    english(client)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    fields = {"category": "o-ga", "description": "x" * 2_000_000}
    response = client.post("/api/v1/reports/", fields)
    assert "larger than 1 MB" in detail_of(response, 413)
    response = client.post("/api/v1/reports/", fields, content_type="application/x-www-form-urlencoded")
    assert "larger than 1 MB" in detail_of(response, 413)
    assert Report.objects.count() == 0


def test_too_many_form_fields_are_a_json_413(categories, client, settings):
    english(client)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post("/api/v1/reports/", {f"f{n}": "x" for n in range(20)})
    assert "at most 10 fields" in detail_of(response, 413)


def test_a_body_announced_over_the_largest_upload_is_a_413_before_it_is_read(client, settings):
    english(client)
    settings.IOC_MAX_REQUEST_BODY = 1000
    response = client.post("/api/v1/reports/", "x" * 2000, content_type="application/json")
    assert "larger than" in detail_of(response, 413)
    response = client.post("/open311/v2/requests.json", "x" * 2000, content_type="application/octet-stream")
    assert "larger than" in open311_errors(response, 413)
