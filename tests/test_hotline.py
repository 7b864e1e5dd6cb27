"""Hotline intake: an operator turns a phone call into a triaged report, and the caller gets a text."""

import re

import pytest
from django.core.exceptions import ValidationError

from ioc.models import Notification
from ioc.roles import OPERATOR, UNIT_STAFF
from reports import services
from reports.models import Channel, Report, Status
from tests.conftest import LONG_KHANH, make_user

ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")

pytestmark = pytest.mark.django_db

CALL = {
    "reporter_phone": "+84 912.345.678",
    "reporter_name": "Trần Thị Bình",
    "category": "o-ga",
    "description": "Ổ gà sâu trước cổng chợ, xe máy vừa ngã",
    "latitude": LONG_KHANH[0],
    "longitude": LONG_KHANH[1],
    "address": "Trước cổng chợ Long Khánh",
    "level": "urgent",
}


def take(api_as, people, who="operator", **changes):
    return api_as(people[who]).post("/api/v1/reports/hotline/", {**CALL, **changes}, format="json")


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912.345.678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084-912-345-678", "0912345678"),
        ("(028) 3822 1234", "02838221234"),
        ("+84 28 3822 1234", "02838221234"),
    ],
)
def test_vietnamese_numbers_are_kept_in_one_form(typed, kept):
    assert services.normalise_phone(typed) == kept


@pytest.mark.parametrize("typed", ["", "12345", "0112345678", "+1 202 555 0100", "09123456789", "0912abc678"])
def test_what_is_not_a_vietnamese_number_is_refused(typed):
    with pytest.raises(ValidationError) as refused:
        services.normalise_phone(typed)
    assert "reporter_phone" in refused.value.message_dict


def test_a_call_enters_triaged_on_the_hotline_channel_and_the_caller_gets_a_text(api_as, people, categories):
    response = take(api_as, people)
    assert response.status_code == 201, response.content
    data = response.json()
    report = Report.objects.select_related("category").get(tracking_code=data["tracking_code"])
    assert report.channel == Channel.HOTLINE
    assert (report.status, report.level, report.assigned_unit) == (Status.ACCEPTED, "urgent", None)
    assert report.reporter_phone == "0912345678" and report.reporter_name == "Trần Thị Bình"
    assert report.unit.code == "26080" and report.accepted_at is not None
    assert data["sms_to"] == "0912345678" and data["assigned_unit_name"] is None
    # The text goes through the outbox, with the tracking code and the secret the portal asks for.
    sms = Notification.objects.get(channel=Notification.Channel.SMS)
    assert sms.recipient == "0912345678" and sms.sent_at is None
    text = f"{sms.subject}: {sms.body}"
    assert data["tracking_code"] in text and data["secret"] in text
    assert f"/track/?code={data['tracking_code']}&secret={data['secret']}" in text
    assert "Mã tra cứu" in text  # the caller's language, whatever the operator's screen is in
    assert services.report_for_citizen(tracking_code=data["tracking_code"], secret=data["secret"]) == report
    actions = list(report.events.values_list("action", "actor__username"))
    assert actions == [("submitted", "operator"), ("accepted", "operator")]


def test_a_call_can_be_assigned_in_the_same_form(api_as, people, city, categories):
    police = make_user("staff_ca", UNIT_STAFF, city["police"])
    police.email = "ca@dongnai.gov.vn"
    police.save()
    response = take(api_as, people, category="chay-no", level=None, assign_to="75-CA")
    assert response.status_code == 201, response.content
    report = Report.objects.get(tracking_code=response.json()["tracking_code"])
    assert report.status == Status.ASSIGNED and report.assigned_unit.code == "75-CA"
    assert report.level == "urgent"  # no level chosen: the category's own
    assert response.json()["assigned_unit_name"] == "Công an tỉnh"
    assert Notification.objects.filter(channel="email", recipient="ca@dongnai.gov.vn").exists()
    assert Notification.objects.filter(channel="sms", recipient="0912345678").count() == 1


def test_choosing_only_the_ward_is_enough(api_as, people, categories):
    call = {**CALL, "latitude": None, "longitude": None, "address": "", "unit": "26089", "level": "normal"}
    response = api_as(people["operator"]).post("/api/v1/reports/hotline/", call, format="json")
    assert response.status_code == 201, response.content
    report = Report.objects.get(tracking_code=response.json()["tracking_code"])
    assert report.unit.code == "26089" and report.latitude is None and report.level == "normal"


def test_the_callers_phone_is_private_like_a_citizens(api_as, people, categories, client):
    data = take(api_as, people).json()
    report = Report.objects.get(tracking_code=data["tracking_code"])
    phone, name = "0912345678", "Trần Thị Bình"
    public = [
        client.get(f"/api/v1/reports/track/{data['tracking_code']}/?secret={data['secret']}"),
        client.get(f"/track/?code={data['tracking_code']}&secret={data['secret']}"),
        client.get("/public/"),
        client.get("/public/reports.json"),
        client.get("/open311/v2/requests.json"),
    ]
    assert all(r.status_code == 200 for r in public)
    assert data["tracking_code"] in public[2].content.decode()  # triaged, so published: the check bites
    for response in public:
        text = response.content.decode()
        # Not even a piece of the number; times are left out, their microseconds may read "912".
        digits = ISO_MOMENT.sub("", text)
        assert phone not in text and name not in text and "912" not in digits
    # Staff lists and live state carry no contacts; the staff detail in scope does, to call back.
    operator = api_as(people["operator"])
    assert phone not in operator.get("/api/v1/reports/").content.decode()
    assert phone not in operator.get("/api/v1/reports/queue/").content.decode()
    assert operator.get(f"/api/v1/reports/{report.pk}/").json()["reporter"]["phone"] == phone
    assert api_as(people["staff_bl"]).get(f"/api/v1/reports/{report.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reporter_phone": ""}, "reporter_phone"),
        ({"reporter_phone": None}, "reporter_phone"),
        ({"reporter_phone": "12345"}, "reporter_phone"),
        ({"category": "khong-co"}, "category"),
        ({"category": ""}, "category"),
        ({"description": ""}, "description"),
        ({"latitude": 1.29, "longitude": 103.85}, "location"),  # Singapore: outside the service area
        ({"latitude": None, "longitude": None}, "unit"),  # neither a point nor a ward
        ({"unit": "99999"}, "unit"),
        ({"assign_to": "99999"}, "assign_to"),
        ({"level": "panic"}, "level"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(api_as, people, categories, changes, field):
    if "reporter_phone" in changes and changes["reporter_phone"] is None:
        call = {k: v for k, v in CALL.items() if k != "reporter_phone"}
        response = api_as(people["operator"]).post("/api/v1/reports/hotline/", call, format="json")
    else:
        response = take(api_as, people, **changes)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Report.objects.exists() and not Notification.objects.exists()


def test_a_refusal_after_the_report_was_written_leaves_nothing(people, city, categories):
    """The ward lies outside a ward operator's area: the report, its timeline and its text are undone."""
    operator = make_user("operator_bl", OPERATOR, city["binh_loc"])
    with pytest.raises(ValidationError):
        services.report_take_call(
            user=operator,
            category=categories["pothole"],
            description="Ổ gà",
            reporter_phone="0912345678",
            latitude=LONG_KHANH[0],
            longitude=LONG_KHANH[1],
        )
    assert not Report.objects.exists() and not Notification.objects.exists()
    with pytest.raises(ValidationError):
        services.report_take_call(
            user=operator,
            category=categories["pothole"],
            description="Ổ gà",
            reporter_phone="0912345678",
            unit=city["binh_loc"],
            assign_to=city["long_khanh"],
        )
    assert not Report.objects.exists()


def test_only_operators_and_admins_take_calls(api_as, people, categories, client):
    for who in ("staff_lk", "leader"):
        assert take(api_as, people, who=who).status_code == 403, who
        assert api_as(people[who]).get("/api/v1/reports/places/?q=long").status_code == 403, who
    assert take(api_as, people, who="admin").status_code == 201
    assert client.post("/api/v1/reports/hotline/", CALL, content_type="application/json").status_code in (401, 403)
    assert Report.objects.count() == 1


def test_the_page_and_its_menu_entry(client, people):
    assert client.get("/console/hotline/").status_code == 302
    for who in ("operator", "admin"):
        client.force_login(people[who])
        page = client.get("/console/hotline/")
        assert page.status_code == 200 and 'id="hotline-form"' in page.content.decode()
        assert 'href="/console/hotline/"' in client.get("/console/").content.decode(), who
    for who in ("leader", "staff_lk"):
        client.force_login(people[who])
        assert client.get("/console/hotline/").status_code == 403, who
    client.force_login(people["leader"])
    assert 'href="/console/hotline/"' not in client.get("/console/").content.decode()


def test_places_are_wards_and_known_addresses_found_without_diacritics(api_as, people, submit, city):
    submit(address="Trước nhà số 12 đường Hùng Vương, phường Long Khánh")
    submit(address="Trước nhà số 12 đường Hùng Vương, phường Long Khánh")  # the same place once
    submit(address="Chân cầu Hóa An", where=(10.9420, 106.8090))
    operator = api_as(people["operator"])

    def search(q):
        return operator.get("/api/v1/reports/places/", {"q": q}).json()["results"]

    assert [p["label"] for p in search("long khanh")][0] == "Phường Long Khánh"
    assert search("Long Khánh")[0] == {
        "kind": "unit",
        "label": "Phường Long Khánh",
        "unit": "26080",
        "unit_name": "Phường Long Khánh",
    }
    found = search("hung vuong")
    assert len(found) == 1 and found[0]["kind"] == "place" and found[0]["unit"] == "26080"
    assert found[0]["latitude"] == pytest.approx(LONG_KHANH[0])
    assert [p["label"] for p in search("cau hoa an")] == ["Chân cầu Hóa An"]
    assert search("") == [] and search("zzz") == []
    # A ward's operator finds only its own area.
    own = api_as(make_user("operator_bl", OPERATOR, city["binh_loc"]))
    labels = [p["label"] for p in own.get("/api/v1/reports/places/", {"q": "phuong"}).json()["results"]]
    assert labels == ["Phường Bình Lộc"]
    assert own.get("/api/v1/reports/places/", {"q": "hung vuong"}).json()["results"] == []
