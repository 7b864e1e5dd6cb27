"""Field reports: sweeps and escalation, bad input, photos, routing, duplicates, notifications, wall."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from ioc.models import Alert, Notification, Unit
from ioc.notify import send_pending
from ioc.scope import Scope, scope_for
from ioc.services import unit_upsert
from reports import services
from reports.models import Report, ReportPhoto
from reports.selectors import wall_figures
from tests.conftest import LONG_KHANH
from tests.images import jpeg, pdf_named_jpg, png

pytestmark = pytest.mark.django_db

PAST = timedelta(hours=1)


def age(report, **fields):
    """Move a report's clock into the past, as if time had passed."""
    Report.objects.filter(pk=report.pk).update(**fields)
    report.refresh_from_db()


def assigned(report, people, unit):
    services.report_accept(report_id=report.pk, user=people["operator"])
    return services.report_assign(report_id=report.pk, user=people["operator"], unit=unit)


# --- sweeps -------------------------------------------------------------------------------------


def test_overdue_raises_one_alert_and_escalates_to_the_parent_units_leader(categories, people, submit, city):
    people["leader"].email = "lanhdao@dongnai.gov.vn"
    people["leader"].save()
    report, _ = submit()
    assigned(report, people, city["long_khanh"])
    now = timezone.now()
    age(report, response_due_at=now - PAST, resolution_due_at=now - PAST)

    first = services.deadline_sweep()
    assert first["overdue"] == 2  # the answer and the resolution are both late
    alerts = Alert.objects.filter(dedup_key__startswith=f"reports:{report.pk}:")
    assert sorted(a.dedup_key.split(":")[-1] for a in alerts) == ["resolution-overdue", "response-overdue"]
    assert all(a.severity == "critical" and a.unit.code == "26080" for a in alerts)
    to_leader = Notification.objects.filter(recipient="lanhdao@dongnai.gov.vn")
    assert to_leader.count() == 2
    assert report.events.filter(action="escalated").count() == 2

    again = services.deadline_sweep()
    assert again == {"due_soon": 0, "overdue": 0, "unassigned": 0}
    assert Alert.objects.filter(dedup_key__startswith=f"reports:{report.pk}:").count() == 2
    assert all(a.count == 1 for a in Alert.objects.all())
    assert to_leader.count() == 2


def test_due_soon_warns_once_when_most_of_the_window_has_passed(categories, people, submit, city):
    report, _ = submit()
    now = timezone.now()
    # 80 % of a 10-hour window has passed.
    age(
        report,
        deadline_started_at=now - timedelta(hours=8),
        response_due_at=now + timedelta(hours=2),
        resolution_due_at=now + timedelta(days=5),
    )
    assert services.deadline_sweep()["due_soon"] == 1
    alert = Alert.objects.get(dedup_key=f"reports:{report.pk}:response-due-soon")
    assert alert.severity == "warning"
    assert services.deadline_sweep()["due_soon"] == 0


def test_an_answer_resolves_the_deadline_alerts(categories, people, submit, city):
    report, _ = submit()
    assigned(report, people, city["long_khanh"])
    age(report, response_due_at=timezone.now() - PAST)
    services.deadline_sweep()
    services.report_answer(report_id=report.pk, user=people["staff_lk"], text="Đã tiếp nhận, đang xử lý.")
    alert = Alert.objects.get(dedup_key=f"reports:{report.pk}:response-overdue")
    assert alert.state == Alert.State.RESOLVED


def test_an_urgent_report_left_unassigned_raises_a_critical_alert(categories, submit, settings):
    report, _ = submit(category="fire")
    assert services.deadline_sweep()["unassigned"] == 0
    age(report, received_at=timezone.now() - timedelta(minutes=settings.IOC_REPORTS_URGENT_ASSIGN_MINUTES + 1))
    assert services.deadline_sweep()["unassigned"] == 1
    assert Alert.objects.get(dedup_key=f"reports:{report.pk}:unassigned").severity == "critical"
    assert services.deadline_sweep()["unassigned"] == 0


def test_a_new_deadline_after_reopening_can_warn_again(categories, people, submit, city):
    report, secret = submit()
    assigned(report, people, city["long_khanh"])
    services.report_resolve(report_id=report.pk, user=people["staff_lk"], note="Đã xử lý")
    services.report_reopen(tracking_code=report.tracking_code, secret=secret, reason="Chưa xử lý xong")
    report.refresh_from_db()
    assert report.response_overdue_at is None and report.deadline_started_at > report.received_at


# --- bad input ----------------------------------------------------------------------------------


def post_report(**fields):
    body = {"category": "o-ga", "description": "Ổ gà", "latitude": LONG_KHANH[0], "longitude": LONG_KHANH[1], **fields}
    return APIClient().post("/api/v1/reports/", body, format="multipart")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latitude": 48.85, "longitude": 2.35}, "location"),  # Paris
        ({"latitude": 10.9, "longitude": ""}, "location"),  # half a location
        ({"category": "khong-co"}, "category"),
        ({"description": "x" * 4001}, "description"),
        ({"description": "<script>alert(1)</script>"}, "description"),
        ({"photos": [pdf_named_jpg()]}, "photos"),
        ({"unit": "99999", "latitude": "", "longitude": ""}, "unit"),
        ({"reporter_email": "not-an-email"}, "reporter_email"),
    ],
)
def test_bad_submissions_get_a_clear_400_and_store_nothing(categories, fields, field):
    response = post_report(**fields)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Report.objects.exists()
    assert not ReportPhoto.objects.exists()


def test_a_ten_megabyte_description_is_refused(categories):
    response = APIClient().post(
        "/api/v1/reports/",
        {
            "category": "o-ga",
            "description": "x" * (10 * 1024 * 1024),
            "latitude": LONG_KHANH[0],
            "longitude": LONG_KHANH[1],
        },
        format="multipart",
    )
    assert 400 <= response.status_code < 500
    assert not Report.objects.exists()


def test_an_oversized_photo_is_refused(categories, settings):
    settings.IOC_PHOTO_MAX_BYTES = 2048
    response = post_report(photos=[jpeg(size=(800, 800))])
    assert response.status_code == 400
    assert "MB" in response.json()["photos"][0] or "photos" in response.json()
    assert not Report.objects.exists()


def test_a_category_that_needs_contact_refuses_an_anonymous_report(categories):
    response = post_report(category="xay-dung")
    assert response.status_code == 400 and "reporter_phone" in response.json()


def test_hotline_channel_is_for_operators_only(categories):
    assert post_report(channel="hotline").status_code == 400


def test_anonymous_submissions_are_throttled(categories, settings):
    from django.core.cache import cache

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    # Without a device token: the allowance per address (tests/test_client_address.py has the rest).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "report_submit_no_device": "2/hour"},
    }
    cache.clear()
    codes = [post_report(description=f"Ổ gà số {i}").status_code for i in range(3)]
    assert codes == [201, 201, 429]


# --- photos ---------------------------------------------------------------------------------------


def test_photos_are_reencoded_without_metadata_and_public_only_after_triage(categories, people):
    response = post_report(photos=[jpeg(), png()])
    report = Report.objects.get(tracking_code=response.json()["tracking_code"])
    photo = report.photos.order_by("pk").first()
    with photo.image.open("rb") as f:
        data = f.read()
    assert b"PhoneMaker" not in data
    assert (photo.width, photo.height) == (480, 640)  # turned upright by its orientation tag
    photo_url = f"/reports/photos/{photo.uid}"
    anonymous = APIClient()
    assert anonymous.get(photo_url).status_code == 404
    staff = APIClient()
    staff.force_login(people["staff_lk"])
    assert staff.get(photo_url).status_code == 200
    services.report_accept(report_id=report.pk, user=people["operator"])
    assert anonymous.get(photo_url).status_code == 200


def test_thumbnails_are_made_by_the_task(categories):
    from reports.tasks import thumbnail_sweep

    post_report(photos=[jpeg(size=(1600, 1200))])
    assert thumbnail_sweep() == 1
    photo = ReportPhoto.objects.get()
    assert photo.thumbnail.name
    from PIL import Image

    with photo.thumbnail.open("rb") as f, Image.open(f) as thumb:
        assert max(thumb.size) == 320


# --- routing and duplicates -------------------------------------------------------------------


def test_a_loaded_boundary_wins_over_the_nearest_centre(categories, city):
    square = {
        "type": "Polygon",
        "coordinates": [[[107.24, 10.93], [107.25, 10.93], [107.25, 10.94], [107.24, 10.94], [107.24, 10.93]]],
    }
    unit_upsert(code="26089", name="Phường Bình Lộc", kind="ward", parent=city["province"], boundary=square)
    response = post_report()
    assert Report.objects.get(tracking_code=response.json()["tracking_code"]).unit.code == "26089"


def test_without_location_the_reporters_choice_is_used(categories):
    response = post_report(latitude="", longitude="", unit="26068")
    assert response.status_code == 201
    assert Report.objects.get().unit.code == "26068"


def test_the_category_picks_the_department_suggestion_and_duplicates_within_50_m(categories, people, submit):
    first, _ = submit(where=(10.93720, 107.24310))
    near, _ = submit(where=(10.93735, 107.24320))  # about 20 m away
    far, _ = submit(where=(10.93900, 107.24310))  # about 200 m away
    client = APIClient()
    client.force_login(people["operator"])
    codes = [r["tracking_code"] for r in client.get(f"/api/v1/reports/{near.pk}/duplicates/").json()]
    assert codes == [first.tracking_code]
    assert far.tracking_code not in codes


# --- notifications ----------------------------------------------------------------------------


def test_assignment_tells_the_unit_and_an_answer_tells_the_citizen(categories, people, submit, city, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people["staff_lk"].email = "phuong.longkhanh@dongnai.gov.vn"
    people["staff_lk"].save()
    report, _ = submit()
    assigned(report, people, city["long_khanh"])
    services.report_answer(report_id=report.pk, user=people["staff_lk"], text="Đã xử lý xong.")
    assert send_pending() == 3  # the unit by email; the citizen by email and text message
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["an@example.vn", "phuong.longkhanh@dongnai.gov.vn"]
    assert Notification.objects.filter(channel="sms", recipient="0912345678", sent_at__isnull=False).exists()
    assert send_pending() == 0


# --- wall ---------------------------------------------------------------------------------------


def test_wall_figures_are_scoped(categories, people, submit, city):
    submit()
    submit(where=(10.9851, 107.2301))  # Bình Lộc
    late, _ = submit(category="fire")
    age(late, response_due_at=timezone.now() - PAST)
    province = {k["code"]: k["value"] for k in wall_figures(Scope(unit=city["province"]))["kpis"]}
    ward = wall_figures(scope_for(people["staff_bl"]))
    assert province["triage"] == 3 and province["today"] == 3 and province["overdue"] == 1
    assert {k["code"]: k["value"] for k in ward["kpis"]}["triage"] == 1
    urgent = next(lst for lst in wall_figures(Scope(unit=city["province"]))["lists"] if lst["code"] == "urgent")
    assert [row["key"] for row in urgent["rows"]] == [late.tracking_code]


def test_wall_figures_say_no_data_before_the_first_report(categories, city):
    assert wall_figures(Scope(unit=city["province"])) is None
    assert Unit.objects.exists()
