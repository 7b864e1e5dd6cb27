"""The citizens' portal: report, follow, rate and reopen; the public map and list; on-time figures per unit."""

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from reports import selectors, services, views
from reports.models import Report, ReportPhoto, Status
from reports.services import report_submit
from tests.conftest import LONG_KHANH
from tests.images import jpeg

pytestmark = pytest.mark.django_db

REPORTER = ("Nguyễn Văn An", "0912345678", "an@example.vn")  # what the `submit` fixture sends


def vi(text: str) -> str:
    """A message in Vietnamese, the default language (templates print their own text unescaped)."""
    with translation.override("vi"):
        return gettext(text)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The submission budget lives in Redis, which outlives each test's database transaction.
    key = "throttle_report_submit_127.0.0.1"
    cache.delete(key)
    yield
    cache.delete(key)


def form_data(**changes):
    data = {
        "category": "o-ga",
        "description": "Đèn đường trước chợ Long Khánh bị hỏng ba ngày nay",
        "latitude": str(LONG_KHANH[0]),
        "longitude": str(LONG_KHANH[1]),
        "address": "Chợ Long Khánh",
        "reporter_name": "Trần Thị Bình",
        "reporter_phone": "0987654321",
        "reporter_email": "binh@example.vn",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def shown(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}"[^>]*>([^<]+)<', html)[1].strip()


def track_url(report, secret):
    return f"/track/?code={report.tracking_code}&secret={secret}"


def handle(report, people, city, *, answer=None, unit="long_khanh"):
    """Triage the report, assign it, and let the unit answer (with a photo)."""
    services.report_accept(report_id=report.pk, user=people["operator"])
    services.report_assign(report_id=report.pk, user=people["operator"], unit=city[unit])
    if answer:
        services.report_answer(report_id=report.pk, user=people["staff_lk"], text=answer, photos=[jpeg()])
    report.refresh_from_db()
    return report


# --- the report form ---------------------------------------------------------------------------


def test_the_form_sends_a_report_with_a_photo_and_shows_the_code_and_the_secret(client, categories, city):
    page = client.get("/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'accept="image/*" capture="environment" multiple' in html
    assert '<optgroup label="Hạ tầng">' in html and 'value="o-ga"' in html
    assert 'value="26080">Phường Long Khánh' in html and 'value="75-CA"' not in html  # wards, not departments
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html

    response = client.post("/report/", form_data(photos=[jpeg()]), follow=True)
    assert response.redirect_chain == [("/report/sent/", 302)]
    html = response.content.decode()
    code, secret = shown(html, "tracking-code"), shown(html, "tracking-secret")
    assert code.startswith("PA-") and len(secret) > 16
    assert '<html lang="vi">' in html and vi("Save these: you need both to follow your report") in html
    assert f'href="/track/?code={code}&amp;secret={secret}"' in html

    report = services.report_for_citizen(tracking_code=code, secret=secret)
    assert report.channel == "web" and report.status == Status.RECEIVED
    assert report.unit == city["long_khanh"] and report.address == "Chợ Long Khánh"
    assert (report.reporter_name, report.reporter_phone) == ("Trần Thị Bình", "0987654321")
    assert report.photos.count() == 1

    tracking = client.get(f"/track/?code={code}&secret={secret}")
    assert tracking.status_code == 200 and code in tracking.content.decode()
    # The confirmation lives only in this browser: another visitor is sent to the home page.
    assert client.__class__().get("/report/sent/")["Location"] == "/"


def test_without_a_location_the_chosen_ward_places_the_report(client, categories, city):
    response = client.post("/report/", form_data(latitude="", longitude="", unit="26089"))
    assert response.status_code == 302
    assert Report.objects.get().unit == city["binh_loc"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"latitude": "48.8566", "longitude": "2.3522"}, "This location is outside the area this center serves."),
        ({"category": "khong-co-loai-nay"}, "Choose a category from the list."),
        ({"latitude": "", "longitude": ""}, "Choose the commune or ward where the problem is, or share the location."),
        ({"category": "xay-dung", "reporter_phone": "", "reporter_email": ""}, None),  # needs a way to reply
    ],
)
def test_a_refused_report_comes_back_with_the_message_and_what_was_typed(client, categories, changes, message):
    response = client.post("/report/", form_data(photos=[jpeg()], **changes))
    assert response.status_code == 200
    html = response.content.decode()
    expected = escape(vi(message or "This category needs a phone number or an email to reply to."))
    assert expected in html
    assert 'class="error-summary"' in html
    assert "Đèn đường trước chợ Long Khánh bị hỏng ba ngày nay</textarea>" in html
    assert 'value="Trần Thị Bình"' in html
    assert vi("For your safety the photos were not kept: please choose them again.") in html
    assert Report.objects.count() == 0 and ReportPhoto.objects.count() == 0


def test_submissions_are_throttled_with_the_api_setting(client, categories, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "report_submit": "2/hour"},
    }
    client.get("/report/")  # the form gives this browser its device allowance
    assert client.post("/report/", form_data()).status_code == 302
    assert client.post("/report/", form_data()).status_code == 302
    throttled = client.post("/report/", form_data())
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert "Đèn đường trước chợ Long Khánh" in throttled.content.decode()
    assert Report.objects.count() == 2


# --- tracking, rating, reopening ---------------------------------------------------------------


def test_the_tracking_page_shows_the_units_public_answer(client, people, city, submit):
    report, secret = submit()
    page = client.get(track_url(report, secret)).content.decode()
    assert vi("No answer yet. The unit's answer will appear here.") in page
    assert vi("Rate the answer") not in page

    handle(report, people, city, answer="Phường đã cử tổ công tác vá ổ gà trong hôm nay.")
    response = client.get("/track/", {"code": report.tracking_code.lower(), "secret": secret})
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    html = response.content.decode()
    assert "Phường đã cử tổ công tác vá ổ gà trong hôm nay." in html
    assert report.status == Status.ANSWERED and escape(report.get_status_display()) in html
    answer_photo = ReportPhoto.objects.get(kind=ReportPhoto.Kind.ANSWER)
    assert selectors.photo_url(answer_photo) in html
    due = timezone.localtime(report.response_due_at).strftime("%H:%M %d/%m/%Y")
    assert due in html
    assert vi("Rate the answer") in html
    for personal in REPORTER:
        assert personal not in html


def test_the_citizen_rates_and_reopens_through_the_pages(client, people, city, submit):
    report, secret = submit()
    handle(report, people, city, answer="Đã tiếp nhận, tuần này sẽ vá.")

    refused = client.post("/track/rate/", {"code": report.tracking_code, "secret": secret, "rating": "9"})
    assert refused.status_code == 200 and escape(vi("Rate from 1 to 5.")) in refused.content.decode()
    rated = client.post(
        "/track/rate/", {"code": report.tracking_code, "secret": secret, "rating": "4", "comment": "Nhanh"}, follow=True
    )
    assert rated.status_code == 200 and escape(vi("Thank you: your rating was recorded.")) in rated.content.decode()
    report.refresh_from_db()
    assert (report.rating, report.rating_comment) == (4, "Nhanh")
    assert 'action="/track/reopen/"' not in rated.content.decode()  # answered, not yet resolved

    services.report_resolve(report_id=report.pk, user=people["staff_lk"], note="Đã vá xong.")
    assert 'action="/track/reopen/"' in client.get(track_url(report, secret)).content.decode()
    reopened = client.post(
        "/track/reopen/",
        {"code": report.tracking_code, "secret": secret, "reason": "Ổ gà lại xuất hiện sau cơn mưa."},
        follow=True,
    )
    assert reopened.status_code == 200
    report.refresh_from_db()
    assert report.status == Status.ASSIGNED and report.reopen_count == 1
    assert "Ổ gà lại xuất hiện sau cơn mưa." in reopened.content.decode()  # in the public history

    # Past the reopening window the form is gone, and a stale form gets a clear refusal.
    services.report_resolve(report_id=report.pk, user=people["staff_lk"], note="Đã vá lại.")
    Report.objects.filter(pk=report.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    assert 'action="/track/reopen/"' not in client.get(track_url(report, secret)).content.decode()
    late = client.post("/track/reopen/", {"code": report.tracking_code, "secret": secret, "reason": "Vẫn còn"})
    assert late.status_code == 409
    with translation.override("vi"):
        refusal = gettext("A report can be reopened within %(days)s days of its resolution.") % {"days": 7}
    assert escape(refusal) in late.content.decode()
    report.refresh_from_db()
    assert report.status == Status.RESOLVED and report.reopen_count == 1


def test_a_wrong_code_or_secret_gets_the_same_friendly_404(client, submit):
    report, secret = submit()
    message = vi(
        "We found no report with this tracking code and secret. Check both and try again: "
        "they are written exactly as shown when you sent the report."
    )
    pages = [
        client.get("/track/", {"code": report.tracking_code, "secret": "not-the-secret"}),
        client.get("/track/", {"code": "PA-ZZZZZZZZ", "secret": secret}),
        client.post("/track/rate/", {"code": report.tracking_code, "secret": "nope", "rating": "5"}),
        client.post("/track/reopen/", {"code": report.tracking_code, "secret": "nope", "reason": "Vẫn còn"}),
    ]
    for page in pages:
        assert page.status_code == 404
        html = page.content.decode()
        assert message in html and 'lang="vi"' in html
        assert report.description not in html
    report.refresh_from_db()
    assert report.rating is None


# --- the public list and map ------------------------------------------------------------------


def test_the_public_list_and_map_show_triaged_reports_without_personal_data(client, people, city, categories, submit):
    untriaged, _secret = submit(description="Chưa phân loại")
    rejected, _secret = submit(description="Quảng cáo")
    services.report_reject(report_id=rejected.pk, user=people["operator"], reason="Không phải phản ánh")
    answered, _secret = submit()
    handle(answered, people, city, answer="Phường sẽ vá ổ gà trong tuần.")
    no_location, _secret = report_submit(
        category=categories["fire"], description="Khói ở bãi rác", unit=city["binh_loc"], reporter_name="Lê Văn Cường"
    )
    services.report_accept(report_id=no_location.pk, user=people["operator"])

    listing = client.get("/public/")
    assert listing.status_code == 200
    html = listing.content.decode()
    data = client.get("/public/reports.json").json()
    geojson = json.dumps(data, ensure_ascii=False)
    assert data["type"] == "FeatureCollection" and data["truncated"] is False

    assert answered.tracking_code in html and no_location.tracking_code in html
    assert [f["properties"]["tracking_code"] for f in data["features"]] == [answered.tracking_code]
    assert data["features"][0]["geometry"]["coordinates"] == [LONG_KHANH[1], LONG_KHANH[0]]
    for hidden in (untriaged, rejected):
        assert hidden.tracking_code not in html and hidden.tracking_code not in geojson
    assert "Phường sẽ vá ổ gà trong tuần." in html and "Phường sẽ vá ổ gà trong tuần." in geojson
    for text in (html, geojson):
        for personal in (*REPORTER, "Lê Văn Cường"):
            assert personal not in text
        assert "reporter" not in text

    # The same filters for both.
    closed = client.get("/public/", {"status": "closed"}).content.decode()
    assert answered.tracking_code not in closed
    fires = client.get("/public/reports.json", {"category": "chay-no"}).json()
    assert fires["features"] == []
    by_ward = client.get("/public/", {"unit": "26089"}).content.decode()
    assert no_location.tracking_code in by_ward and answered.tracking_code not in by_ward
    Report.objects.filter(pk=answered.pk).update(received_at=timezone.now() - timedelta(days=40))
    recent = client.get("/public/reports.json", {"period": "30"}).json()
    assert recent["features"] == []


def test_the_public_list_has_25_reports_a_page_and_the_map_at_most_its_limit(client, submit, monkeypatch):
    for _ in range(26):
        submit()
    Report.objects.update(status=Status.ACCEPTED)
    first = client.get("/public/").content.decode()
    second = client.get("/public/", {"page": 2}).content.decode()
    assert first.count('class="report-item"') == 25 and second.count('class="report-item"') == 1
    assert 'href="?page=2"' in first

    monkeypatch.setattr(views, "MAP_LIMIT", 10)
    data = client.get("/public/reports.json").json()
    assert len(data["features"]) == 10 and data["truncated"] is True


# --- on-time answers per unit ------------------------------------------------------------------


def test_unit_statistics_show_the_share_answered_on_time(client, people, city, submit):
    now = timezone.now()

    def case(unit, days_ago, answered_after_hours):
        report, _secret = submit()
        handle(report, people, city, unit=unit)
        received = now - timedelta(days=days_ago)
        answered = None if answered_after_hours is None else received + timedelta(hours=answered_after_hours)
        Report.objects.filter(pk=report.pk).update(
            received_at=received, response_due_at=received + timedelta(hours=8), first_answered_at=answered
        )

    # Long Khánh: last 30 days 2 of 3 on time; one more on time 60 days ago (3 of 4 over 90 days).
    case("long_khanh", 2, 1)
    case("long_khanh", 5, 7)
    case("long_khanh", 10, 30)
    case("long_khanh", 60, 2)
    Report.objects.filter(pk=submit()[0].pk).update(status=Status.ACCEPTED)  # not assigned: not counted
    # An assigned report whose deadline has not come yet does not count either.
    fresh, _secret = submit()
    handle(fresh, people, city)
    # Bình Lộc: one late in the last 30 days, one late 80 days ago.
    case("binh_loc", 3, 20)
    case("binh_loc", 80, None)

    response = client.get("/public/units/")
    assert response.status_code == 200
    html = response.content.decode()

    def row(name):
        return re.search(rf'<th scope="row">{name}</th>(.*?)</tr>', html, re.S)[1]

    long_khanh, binh_loc = row("Phường Long Khánh"), row("Phường Bình Lộc")
    assert "2 / 3" in long_khanh and "66,7 %" in long_khanh
    assert "3 / 4" in long_khanh and "75,0 %" in long_khanh
    assert "0 / 1" in binh_loc and "0,0 %" in binh_loc and "0 / 2" in binh_loc

    def order(sort):
        page = client.get("/public/units/", {"sort": sort}).content.decode()
        return page.index("Phường Long Khánh") < page.index("Phường Bình Lộc")

    assert order("-pct_30") is True  # best first, the default
    assert order("pct_30") is False
    assert order("name") is False  # Bình before Long
    assert order("-name") is True
    assert 'aria-sort="descending"' in html and 'href="?sort=pct_30"' in html  # click again: the other way


# --- language and routes -----------------------------------------------------------------------


def test_every_page_is_vietnamese_by_default(client, submit):
    report, secret = submit()
    for url in ["/", "/report/", "/track/", track_url(report, secret), "/public/", "/public/units/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="vi">' in response.content.decode(), url
    assert vi("Report a problem") in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    assert '<html lang="en">' in english and "Report a problem" in english


def test_the_portal_is_at_the_root_and_the_staff_home_moved(client, people):
    assert reverse("home") == "/home/" and reverse("portal:home") == "/"
    assert client.get("/").status_code == 200
    assert client.get("/home/")["Location"].startswith("/login/")
    client.force_login(people["staff_lk"])
    staff_home = client.get("/home/")  # the staff's own screen, or a redirect to their role's screen
    assert staff_home.status_code in (200, 302) and not staff_home.get("Location", "").startswith("/login/")
