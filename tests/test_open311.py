"""Open311 GeoReport v2 at /open311/v2/: read with a real GeoReport client, write and fail by hand."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from georeport import GeoReport
from rest_framework.throttling import AnonRateThrottle

from ioc.services import api_key_create, api_key_revoke
from reports import services
from reports.models import Category, Channel, Report, ReportEvent, Status
from reports.open311.records import open_or_closed
from tests.conftest import LONG_KHANH
from tests.images import jpeg

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
W3C_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")
PERSONAL = ("Nguyễn Văn An", "0912345678", "an@example.vn", "Trần Thị Bình", "0987654321", "binh@example.vn")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # anonymous calls of earlier tests must not count against this one


@pytest.fixture
def client(client):
    # Messages are checked in English; Vietnamese stays the default for everyone else.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def key(city):
    _key, plain = api_key_create(name="partner-app", scopes=["reports:write"], unit=city["province"])
    return plain


@pytest.fixture
def georeport(django_db_setup, live_server, monkeypatch):
    # The test database is made before the live server starts, so it is dropped after the server stops;
    # one request per connection, so no server thread is left holding a database connection.
    headers = requests.utils.default_headers()
    headers["Connection"] = "close"
    monkeypatch.setattr(requests.sessions, "default_headers", lambda: headers.copy())

    def client(output_format="json"):
        return GeoReport(f"{live_server.url}{BASE}", output_format=output_format)

    return client


def post(client, key, fmt="json", **fields):
    body = {
        "api_key": key,
        "service_code": "o-ga",
        "lat": str(LONG_KHANH[0]),
        "long": str(LONG_KHANH[1]),
        "description": "Ổ gà sâu trước cổng trường tiểu học",
        "first_name": "Bình",
        "last_name": "Trần Thị",
        "phone": "0987654321",
        "email": "binh@example.vn",
        **fields,
    }
    return client.post(f"{BASE}/requests.{fmt}", {k: v for k, v in body.items() if v is not None})


def get(client, path, **params):
    return client.get(f"{BASE}/{path}", params)


def xml_of(response):
    return ET.fromstring(response.content)  # noqa: S314  (our own server's answer)


def errors(response, code):
    assert response.status_code == code, response.content
    body = response.json()
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and e["code"] == code and e["description"] for e in body)
    return " ".join(e["description"] for e in body)


def triaged(report, people, note=""):
    """An operator accepts the report: from then on the public sees it."""
    services.report_accept(report_id=report.pk, user=people["operator"], note=note)
    return report


def operator_handles(report, people, *, resolve=True):
    operator, staff = people["operator"], people["staff_lk"]
    report.refresh_from_db()
    if report.status == Status.RECEIVED:
        triaged(report, people, note="Đã tiếp nhận, chuyển phường xử lý.")
    services.report_assign(report_id=report.pk, user=operator, unit=report.unit)
    services.report_answer(report_id=report.pk, user=staff, text="Phường đã cử tổ công tác kiểm tra.")
    if resolve:
        services.report_resolve(report_id=report.pk, user=staff, note="Đã vá ổ gà.")


# --- through the GeoReport client, against a live server ----------------------------------------


def test_services_and_their_definitions_through_the_client(georeport, categories):
    Category.objects.create(code="cu", name="Danh mục cũ", group=categories["pothole"].group, active=False)
    Category.objects.filter(code="o-ga").update(name_en="Pothole")
    listed = {s["service_code"]: s for s in georeport().get_service_list()}
    assert set(listed) == {"o-ga", "chay-no", "xay-dung"}
    assert listed["o-ga"] == {
        "service_code": "o-ga",
        "service_name": "Ổ gà",
        "description": "",
        "metadata": True,
        "type": "realtime",
        "keywords": "Ổ gà, Pothole",
        "group": "Hạ tầng",
    }
    assert listed["xay-dung"]["description"]  # says that a phone number or an email is required

    definition = georeport().get_service_definition("o-ga")
    assert definition["service_code"] == "o-ga"
    assert [(a["code"], a["datatype"], a["required"], a["variable"]) for a in definition["attributes"]] == [
        ("address_detail", "string", False, True)
    ]

    as_xml = {s["service_code"]: s for s in georeport("xml").get_service_list()}
    assert set(as_xml) == {"o-ga", "chay-no", "xay-dung"}
    assert as_xml["o-ga"]["metadata"] == "true" and as_xml["o-ga"]["group"] == "Hạ tầng"
    xml_definition = georeport("xml").get_service_definition("xay-dung")
    assert xml_definition["attributes"]["attribute"]["code"] == "address_detail"

    with pytest.raises(requests.HTTPError) as missing:
        georeport().get_service_definition("cu")
    assert missing.value.response.status_code == 404


def test_requests_through_the_client_follow_the_lifecycle(georeport, categories, people, submit):
    pothole, _ = submit()
    fire, _ = submit(category="fire", description="Cháy bãi rác sau chợ")
    waiting, _ = submit(description="Chưa ai phân loại: không công khai")
    client = georeport()
    assert client.get_service_requests() == []  # nothing is public before triage
    triaged(pothole, people)
    triaged(fire, people)

    everything = client.get_service_requests()
    assert {r["service_request_id"] for r in everything} == {pothole.tracking_code, fire.tracking_code}
    one = client.get_service_request(pothole.tracking_code)
    assert one["status"] == "open"
    assert one["service_code"] == "o-ga" and one["service_name"] == "Ổ gà"
    assert one["agency_responsible"] == "Phường Long Khánh"
    assert one["lat"] == pytest.approx(LONG_KHANH[0]) and one["long"] == pytest.approx(LONG_KHANH[1])
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_LOCAL.match(one[field]), one[field]
    assert one["media_url"] is None and one["address_id"] is None and one["zipcode"] is None
    assert [r["service_request_id"] for r in client.get_service_requests(service_code="chay-no")] == [
        fire.tracking_code
    ]
    assert client.get_service_requests(status="closed") == []

    operator_handles(pothole, people)
    closed = client.get_service_request(pothole.tracking_code)
    assert closed["status"] == "closed" and closed["status_notes"] == "Đã vá ổ gà."
    assert [r["service_request_id"] for r in client.get_service_requests(status="closed")] == [pothole.tracking_code]
    assert [r["service_request_id"] for r in client.get_service_requests(status="open")] == [fire.tracking_code]

    in_xml = georeport("xml").get_service_request(pothole.tracking_code)
    assert in_xml["status"] == "closed" and in_xml["service_request_id"] == pothole.tracking_code
    assert in_xml["expected_datetime"] == closed["expected_datetime"]

    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("PA-NOTHERE")
    assert missing.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as too_long:
        client.get_service_requests(start_date="2026-01-01T00:00:00+07:00", end_date="2026-06-01T00:00:00+07:00")
    assert too_long.value.response.status_code == 400


# --- submitting ---------------------------------------------------------------------------------


def test_post_then_get_shows_open_with_its_deadline_then_closed_once_resolved(client, key, categories, people):
    response = post(client, key, **{"attribute[address_detail]": "Hẻm 5", "address_string": "12 Hùng Vương"})
    assert response.status_code == 201, response.content
    [answer] = response.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None and answer["service_request_id"].startswith("PA-")
    assert "answer is due by" in answer["service_notice"]
    report = Report.objects.get(tracking_code=answer["service_request_id"])
    assert report.channel == Channel.OPEN311
    assert report.address == "12 Hùng Vương, Hẻm 5"
    assert (report.reporter_name, report.reporter_phone) == ("Bình Trần Thị", "0987654321")
    assert report.events.get(action="submitted").actor_label == "apikey:partner-app"

    # Its sender follows it by id before triage: only that it exists and how it stands.
    [waiting] = get(client, f"requests/{report.tracking_code}.json").json()
    assert waiting["status"] == "open" and waiting["service_code"] == "o-ga"
    assert waiting["description"] is None and waiting["lat"] is None and waiting["address"] is None
    assert get(client, "requests.json").json() == []

    triaged(report, people)
    [shown] = get(client, f"requests/{report.tracking_code}.json").json()
    assert shown["status"] == "open"
    assert shown["expected_datetime"] == timezone.localtime(report.resolution_due_at).isoformat(timespec="seconds")
    assert shown["expected_datetime"].endswith("+07:00")
    assert shown["description"] == "Ổ gà sâu trước cổng trường tiểu học"
    assert shown["address"] == "12 Hùng Vương, Hẻm 5"

    operator_handles(report, people, resolve=False)
    [answered] = get(client, f"requests/{report.tracking_code}.json").json()
    assert answered["status"] == "open" and answered["status_notes"] == "Phường đã cử tổ công tác kiểm tra."
    services.report_resolve(report_id=report.pk, user=people["staff_lk"], note="Đã vá ổ gà.")
    services.report_close(report_id=report.pk, user=people["operator"])
    [closed] = get(client, f"requests/{report.tracking_code}.json").json()
    assert closed["status"] == "closed" and closed["status_notes"] == "Đã vá ổ gà."
    assert closed["service_notice"] is None


def test_a_rejected_request_is_closed_and_nothing_else(client, key, categories, people):
    code = post(client, key, description="Quảng cáo vay tiền nhanh").json()[0]["service_request_id"]
    report = Report.objects.get(tracking_code=code)
    services.report_reject(report_id=report.pk, user=people["operator"], reason="Tin rác, không phải phản ánh.")
    [shown] = get(client, f"requests/{code}.json").json()
    assert shown["status"] == "closed" and shown["status_notes"] is None
    assert shown["description"] is None and shown["lat"] is None and shown["address"] is None
    assert "Tin rác" not in get(client, f"requests/{code}.json", extensions="true").content.decode()
    assert get(client, "requests.json", status="closed").json() == []


def test_tokens_resolve_at_once(client, key, categories):
    code = post(client, key).json()[0]["service_request_id"]
    assert get(client, f"tokens/{code}.json").json() == [{"service_request_id": code, "token": code}]
    root = xml_of(get(client, f"tokens/{code}.xml"))
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == code and root.findtext("request/token") == code
    errors(get(client, "tokens/PA-NOTHERE.json"), 404)


def test_post_is_not_blocked_by_csrf(key, categories):
    response = post(Client(enforce_csrf_checks=True), key)
    assert response.status_code == 201, response.content


def test_a_wards_key_places_a_request_without_coordinates_in_its_ward(client, city, categories):
    _key, plain = api_key_create(name="ward-app", scopes=["reports:write"], unit=city["binh_loc"])
    response = post(client, plain, lat=None, long=None, address_string="Chợ Bình Lộc")
    assert response.status_code == 201, response.content
    assert Report.objects.get(tracking_code=response.json()[0]["service_request_id"]).unit == city["binh_loc"]
    # ... but not somewhere outside the ward.
    assert "outside the area of this API key" in errors(post(client, plain), 400)


def test_media_url_is_kept_for_staff_and_never_fetched_nor_published(client, key, categories, people, monkeypatch):
    def no_fetching(*args, **kwargs):
        raise AssertionError("media_url must not be fetched")

    monkeypatch.setattr(requests.Session, "request", no_fetching)
    response = post(client, key, media_url="https://partner.example.vn/photos/123.jpg")
    report = Report.objects.get(tracking_code=response.json()[0]["service_request_id"])
    note = report.events.get(public=False)
    assert "https://partner.example.vn/photos/123.jpg" in note.note
    [shown] = get(client, f"requests/{report.tracking_code}.json", extensions="true").json()
    assert shown["media_url"] is None
    assert "partner.example.vn" not in get(client, f"requests/{report.tracking_code}.json").content.decode()


def test_media_url_is_the_first_photo_once_triaged(client, categories, people, submit):
    report, _ = submit(photos=[jpeg()])
    assert get(client, f"requests/{report.tracking_code}.json").json()[0]["media_url"] is None
    services.report_accept(report_id=report.pk, user=people["operator"])
    url = get(client, f"requests/{report.tracking_code}.json").json()[0]["media_url"]
    assert url == f"http://testserver/reports/photos/{report.photos.get().uid}"
    assert client.get(url).status_code == 200


# --- XML ----------------------------------------------------------------------------------------


def test_everything_also_answers_in_xml(client, key, categories, people):
    response = post(client, key, fmt="xml")
    assert response.status_code == 201 and response["Content-Type"].startswith("text/xml")
    root = xml_of(response)
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert code.startswith("PA-") and root.find("request/account_id").text is None

    services.report_accept(report_id=Report.objects.get(tracking_code=code).pk, user=people["operator"], note="Ok")
    root = xml_of(get(client, f"requests/{code}.xml", extensions="true"))
    request = root.find("request")
    assert request.findtext("status") == "open"
    assert W3C_LOCAL.match(request.findtext("requested_datetime"))
    assert [n.findtext("type") for n in request.findall("notes/note")] == ["submitted", "accepted"]

    services_xml = xml_of(get(client, "services.xml"))
    assert {s.findtext("service_code") for s in services_xml.findall("service")} == {"o-ga", "chay-no", "xay-dung"}
    assert services_xml.find("service").findtext("metadata") == "true"
    definition = xml_of(get(client, "services/o-ga.xml"))
    assert definition.tag == "service_definition"
    assert definition.findtext("attributes/attribute/code") == "address_detail"
    assert definition.findtext("attributes/attribute/required") == "false"

    listed = xml_of(get(client, "requests.xml"))
    assert [r.findtext("service_request_id") for r in listed.findall("request")] == [code]

    error = xml_of(get(client, "requests/PA-NOTHERE.xml"))
    assert error.tag == "errors" and error.findtext("error/code") == "404" and error.findtext("error/description")
    forbidden = post(client, "ioc_nope_nope", fmt="xml")
    assert forbidden.status_code == 403
    assert xml_of(forbidden).findtext("error/code") == "403"


def test_discovery(client):
    [endpoint] = get(client, "discovery.json").json()["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver/open311/v2/",
        "changeset": endpoint["changeset"],
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }
    body = get(client, "discovery.json").json()
    assert body["contact"] and "reports:write" in body["key_service"] and body["changeset"]
    root = xml_of(get(client, "discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["application/json", "text/xml"]


# --- searching ----------------------------------------------------------------------------------


def test_the_window_is_the_last_90_days_and_never_longer(client, categories, submit, people):
    old = triaged(submit(description="Ổ gà cũ")[0], people)
    Report.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=100))
    new = triaged(submit()[0], people)
    assert [r["service_request_id"] for r in get(client, "requests.json").json()] == [new.tracking_code]

    start = timezone.localtime() - timedelta(days=120)
    window = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=90)).isoformat()}
    assert [r["service_request_id"] for r in get(client, "requests.json", **window).json()] == [old.tracking_code]
    only_start = get(client, "requests.json", start_date=start.isoformat()).json()
    assert [r["service_request_id"] for r in only_start] == [old.tracking_code]

    too_long = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=91)).isoformat()}
    assert "90 days" in errors(get(client, "requests.json", **too_long), 400)
    backwards = {"start_date": window["end_date"], "end_date": window["start_date"]}
    errors(get(client, "requests.json", **backwards), 400)
    # A datetime without a timezone is not W3C enough to know which day it is.
    errors(get(client, "requests.json", start_date="2026-05-01T08:00:00"), 400)
    errors(get(client, "requests.json", end_date="hôm qua"), 400)
    # "+07:00" sent without encoding arrives as " 07:00", and still means +07:00.
    unencoded = client.get(f"{BASE}/requests.json?start_date={start.isoformat().replace('+', '%20')}")
    assert [r["service_request_id"] for r in unencoded.json()] == [old.tracking_code]


def test_service_request_ids_override_every_other_filter(client, categories, submit, people):
    first, _ = submit()
    second, _ = submit(description="Ổ gà thứ hai")
    old, _ = submit(description="Ổ gà cũ")
    Report.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=400))
    ids = f"{first.tracking_code},{old.tracking_code.lower()}, PA-NOTHERE"
    found = get(client, "requests.json", service_request_id=ids, status="closed", service_code="chay-no").json()
    assert {r["service_request_id"] for r in found} == {first.tracking_code, old.tracking_code}
    assert second.tracking_code not in {r["service_request_id"] for r in found}


def test_page_and_page_size(client, categories, submit, people):
    made = [triaged(submit(description=f"Ổ gà số {i}")[0], people) for i in range(5)]
    newest_first = [r.tracking_code for r in reversed(made)]
    pages = [
        [r["service_request_id"] for r in get(client, "requests.json", page=n, page_size=2).json()] for n in (1, 2, 3)
    ]
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert get(client, "requests.json", page=4, page_size=2).json() == []
    assert len(get(client, "requests.json").json()) == 5  # default limit 1,000
    errors(get(client, "requests.json", page=0), 400)
    errors(get(client, "requests.json", page_size="mười"), 400)
    errors(get(client, "requests.json", page_size="²"), 400)
    errors(get(client, "requests.json", page=10**30), 400)
    assert len(get(client, "requests.json", page_size=5000).json()) == 5  # at most 1,000 a page


def test_extensions_add_the_public_timeline_only(client, categories, people, submit):
    report, _ = submit()
    operator, staff = people["operator"], people["staff_lk"]
    services.report_accept(report_id=report.pk, user=operator, note="Đã tiếp nhận.")
    services.report_assign(report_id=report.pk, user=operator, unit=report.unit)
    services.report_hand_back(report_id=report.pk, user=staff, reason="Lý do nội bộ của phường")
    # Handed back, it waits for triage again and leaves the public list until an operator decides.
    assert get(client, "requests.json").json() == []
    services.report_accept(report_id=report.pk, user=operator, note="Đã tiếp nhận.")
    [plain] = get(client, f"requests/{report.tracking_code}.json").json()
    assert "notes" not in plain
    [extended] = get(client, f"requests/{report.tracking_code}.json", extensions="true").json()
    notes = extended["notes"]
    assert [n["type"] for n in notes] == ["submitted", "accepted", "assigned", "accepted"]
    assert notes[1]["description"] == "Đã tiếp nhận." and notes[1]["summary"]
    assert all(W3C_LOCAL.match(n["datetime"]) for n in notes)
    assert "Lý do nội bộ" not in get(client, "requests.json", extensions="true").content.decode()
    assert extended["status"] == "open" and extended["status_notes"] == "Đã tiếp nhận."


@pytest.mark.parametrize(
    ("status", "shown"),
    [(s, "open") for s in ("received", "accepted", "assigned", "in_progress", "answered")]
    + [(s, "closed") for s in ("resolved", "closed", "rejected", "duplicate")],
)
def test_internal_statuses_map_to_open_or_closed(status, shown):
    assert open_or_closed(Status(status)) == shown


# --- errors -------------------------------------------------------------------------------------


def test_api_key_errors_are_403(client, key, city, categories):
    assert "api_key" in errors(post(client, None), 403)
    errors(post(client, "not-a-key"), 403)
    errors(post(client, key[:-2] + "xx"), 403)
    _alerts_key, alerts_only = api_key_create(name="cameras", scopes=["alerts:write"], unit=city["province"])
    assert "reports:write" in errors(post(client, alerts_only), 403)
    revoked_key, revoked = api_key_create(name="old-partner", scopes=["reports:write"], unit=city["province"])
    api_key_revoke(key=revoked_key)
    errors(post(client, revoked), 403)
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": "khong-co"}, "service_code"),
        ({"description": None}, "description"),
        ({"description": "<script>alert(1)</script>"}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"lat": "21.0", "long": "200"}, "lat/long"),
        ({"lat": "48.85", "long": "2.35"}, "lat/long"),  # Paris: outside the service area
        ({"lat": "mười"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"long": None}, "lat/long"),
        ({"lat": None, "long": None}, "lat and long"),
        ({"email": "không phải email"}, "email"),
        ({"attribute[level_hint]": "urgent"}, "level_hint"),
        ({"media_url": "file:///etc/passwd"}, "media_url"),
        ({"description": "Ổ gà\x00"}, "description"),
        ({"service_code": "xay-dung", "phone": None, "email": None}, "phone"),  # needs a contact
    ],
)
def test_bad_submissions_are_400_in_open311_format(client, key, categories, fields, says):
    assert says in errors(post(client, key, **fields), 400)
    assert not Report.objects.exists()


def test_bad_searches_are_400_and_unknown_things_404(client, categories):
    assert "khong-co" in errors(get(client, "requests.json", service_code="khong-co"), 400)
    errors(get(client, "requests.json", status="pending"), 400)
    errors(get(client, "requests/PA-NOTHERE.json"), 404)
    errors(get(client, "services/khong-co.json"), 404)
    errors(get(client, "nothing-here.json"), 404)
    errors(get(client, "services.csv"), 404)
    assert xml_of(get(client, "nothing-here.xml")).findtext("error/code") == "404"
    errors(client.delete(f"{BASE}/requests.json"), 405)
    errors(client.post(f"{BASE}/requests.json", {"api_key": "x"}, content_type="application/json"), 400)


def test_anonymous_reads_are_throttled_like_other_anonymous_calls(client, categories, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    codes = [get(client, "services.json").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    throttled = get(client, "services.json")
    assert errors(throttled, 429) and int(throttled["Retry-After"]) > 0


# --- privacy ------------------------------------------------------------------------------------


def test_no_personal_data_anywhere_in_open311_output(client, key, categories, people, submit):
    by_fixture, _ = submit()  # Nguyễn Văn An, 0912345678, an@example.vn
    by_partner = post(client, key, fmt="xml")
    code = xml_of(by_partner).findtext("request/service_request_id")
    operator_handles(by_fixture, people)
    services.report_accept(report_id=Report.objects.get(tracking_code=code).pk, user=people["operator"])
    bodies = [by_partner.content, post(client, key).content]
    for fmt in ("json", "xml"):
        for path, params in [
            (f"requests.{fmt}", {"extensions": "true"}),
            (f"requests.{fmt}", {"service_request_id": f"{code},{by_fixture.tracking_code}"}),
            (f"requests/{code}.{fmt}", {"extensions": "true"}),
            (f"requests/{by_fixture.tracking_code}.{fmt}", {"extensions": "true"}),
            (f"tokens/{code}.{fmt}", {}),
            (f"services.{fmt}", {}),
            (f"services/o-ga.{fmt}", {}),
            (f"discovery.{fmt}", {}),
        ]:
            response = get(client, path, **params)
            assert response.status_code == 200, (path, response.content)
            bodies.append(response.content)
    text = b"\n".join(bodies).decode()
    assert by_fixture.tracking_code in text and code in text
    for personal in PERSONAL + ("Bình Trần Thị", "Trần Thị"):
        assert personal not in text, personal
    # The submitting events carry the key's name internally, never in Open311 notes.
    assert ReportEvent.objects.filter(actor_label="apikey:partner-app").exists()
    assert "partner-app" not in text
