"""A citizen following a report: codes and secrets as people type them, their own photos before
triage, their browser's language, the site icon, the out-of-area message and Vietnamese order."""

import re

import pytest
from django.test import override_settings
from django.utils import translation

from ioc import collation, geo
from ioc.errors import ValidationError
from ioc.models import Unit
from ioc.services import unit_upsert
from reports import services
from reports.models import Report, Status
from tests.images import jpeg

pytestmark = pytest.mark.django_db

GROUPED = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){3}")


def test_a_secret_is_four_groups_of_letters_nobody_confuses(submit):
    report, secret = submit()
    assert GROUPED.fullmatch(secret), secret
    assert not set(secret) & set("0O1IL")
    assert secrets_differ(submit)


def secrets_differ(submit) -> bool:
    return len({submit()[1] for _ in range(5)}) == 5


@pytest.mark.parametrize(
    "typed_code, typed_secret",
    [
        (lambda c: c.lower(), lambda s: s),
        (lambda c: "  " + c.lower().replace("-", " ") + " ", lambda s: s.lower()),
        (lambda c: c.replace("-", ""), lambda s: s.replace("-", " ")),
        (lambda c: "- " + c + " -", lambda s: " " + s.replace("-", "").lower() + " "),
    ],
)
def test_codes_and_secrets_are_read_as_people_type_them(client, submit, typed_code, typed_secret):
    report, secret = submit()
    response = client.get("/track/", {"code": typed_code(report.tracking_code), "secret": typed_secret(secret)})
    assert response.status_code == 200
    assert report.tracking_code in response.content.decode()


def test_a_secret_given_before_the_grouped_form_still_opens_the_report(client, submit):
    report, _secret = submit()
    old = "aB3-x_9ZqLm0Oo1Il"  # a URL-safe secret as the first version issued them: exactly as given
    Report.objects.filter(pk=report.pk).update(secret_hash=services._hash_secret(old))
    assert client.get("/track/", {"code": report.tracking_code.lower(), "secret": old}).status_code == 200
    assert client.get("/track/", {"code": report.tracking_code, "secret": old.upper()}).status_code == 404
    assert client.get("/track/", {"code": report.tracking_code, "secret": "WRONG-WRONG"}).status_code == 404


def test_the_citizen_sees_their_own_photo_before_triage_and_nobody_else_does(client, submit):
    report, secret = submit(photos=[jpeg()])
    assert report.status == Status.RECEIVED
    page = client.get("/track/", {"code": report.tracking_code.lower(), "secret": secret}).content.decode()
    links = re.findall(r'<a href="(/reports/photos/[^"]+)"', page)
    assert len(links) == 1, page
    own = links[0].replace("&amp;", "&")
    answer = client.get(own)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    # The photo's address without the page's token, or with a token forged or made for another photo:
    # still not public before triage.
    bare = own.split("?")[0]
    assert client.get(bare).status_code == 404
    assert client.get(bare + "?own=forged").status_code == 404
    other, other_secret = submit(photos=[jpeg()])
    other_page = client.get("/track/", {"code": other.tracking_code, "secret": other_secret}).content.decode()
    other_token = re.search(r"own=([^\"&]+)", other_page)[1]
    assert client.get(bare + "?own=" + other_token).status_code == 404


def test_public_pages_follow_the_browser_language_until_the_person_chooses(client):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert english["Content-Language"] == "en" and 'lang="en"' in english.content.decode()
    assert "Accept-Language" in english["Vary"]
    vietnamese = client.get("/", HTTP_ACCEPT_LANGUAGE="vi-VN,vi;q=0.9,en;q=0.5")
    assert vietnamese["Content-Language"] == "vi"
    assert client.get("/").get("Content-Language") == "vi"  # nothing said: Vietnamese
    # The person picks Vietnamese on an English phone: the cookie wins from then on.
    client.post("/i18n/setlang/", {"language": "vi", "next": "/"})
    chosen = client.get("/track/", HTTP_ACCEPT_LANGUAGE="en")
    assert chosen["Content-Language"] == "vi" and 'lang="vi"' in chosen.content.decode()


def test_staff_screens_stay_vietnamese_on_an_english_system(client, people):
    client.force_login(people["staff_lk"])
    response = client.get("/workspace/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "vi"
    assert client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US").get("Content-Language") == "vi"


def test_the_site_has_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    for page in ("/", "/login/"):
        assert 'rel="icon" href="/static/ioc/favicon.ico"' in client.get(page).content.decode()


@override_settings(IOC_SERVICE_AREA=(10.5, 106.7, 11.6, 107.6))
def test_a_location_outside_names_the_area_served(city, client):
    with pytest.raises(ValidationError) as refused:
        geo.check_in_service_area(21.03, 105.85)  # Hà Nội
    assert "Tỉnh Đồng Nai" in refused.value.message_dict["location"][0]
    Unit.objects.filter(pk=city["province"].pk).update(name_en="Dong Nai Province")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        geo.check_in_service_area(21.03, 105.85)
    assert refused.value.message_dict["location"][0].endswith("It serves Dong Nai Province.")


def test_vietnamese_order_in_python_matches_the_alphabet():
    names = ["Phường Bình Phước", "Phường Bảo Vinh", "Xã Đắk Lua", "Xã Dầu Giây", "Phường Bà Rịa", "Phường An Bình"]
    assert sorted(names, key=collation.vi_key) == [
        "Phường An Bình",
        "Phường Bà Rịa",
        "Phường Bảo Vinh",
        "Phường Bình Phước",
        "Xã Dầu Giây",
        "Xã Đắk Lua",
    ]
    # Tones after letters: a à ả ã á ạ, then ă, then â.
    assert sorted(["ạ", "ă", "á", "a", "â", "ã", "à", "ả"], key=collation.vi_key) == list("aàảãáạăâ")


@pytest.fixture
def wards_to_sort(city):
    for code, name in (("26110", "Phường Bình Phước"), ("26111", "Phường Bảo Vinh"), ("26112", "Xã Đắk Lua")):
        unit_upsert(code=code, name=name, kind=Unit.Kind.WARD, parent=city["province"])


@pytest.mark.parametrize("icu", [True, False], ids=["server-icu", "python-key"])
def test_public_unit_lists_are_in_vietnamese_order(client, categories, wards_to_sort, monkeypatch, icu):
    if icu and not collation.has_icu():
        pytest.skip("this PostgreSQL has no ICU collations: the Python key serves")
    monkeypatch.setitem(collation._icu, "default", icu)
    for page in ("/public/", "/report/"):
        html = client.get(page).content.decode()
        bao, binh, dak = (html.index(n) for n in ("Phường Bảo Vinh", "Phường Bình Phước", "Xã Đắk Lua"))
        assert bao < binh < dak, page
