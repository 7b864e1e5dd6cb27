"""The audit log: staff, admin and API-key writes and reads of reporters' contacts, append-only."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from ioc import services as ioc_services
from ioc.models import AuditEntry, Unit
from reports.models import Report
from traffic.models import Camera

pytestmark = pytest.mark.django_db

WARD_PC = "203.0.113.7"
CONSOLE_PC = "198.51.100.20"
VENDOR = "192.0.2.55"


def assigned_report(submit, people, api_as):
    report, _secret = submit()
    operator = api_as(people["operator"])
    url = f"/api/v1/reports/{report.pk}/"
    assert operator.post(url + "accept/", {"level": "normal"}, format="json").status_code == 200
    assert operator.post(url + "assign/", {"unit": "26080"}, format="json").status_code == 200
    return report


def test_a_ward_staff_step_names_who_what_which_report_unit_and_address(submit, people, api_as):
    report = assigned_report(submit, people, api_as)
    response = api_as(people["staff_lk"]).post(
        f"/api/v1/reports/{report.pk}/start/", {}, format="json", REMOTE_ADDR=WARD_PC
    )
    assert response.status_code == 200

    entry = AuditEntry.objects.get(action="report.started")
    assert entry.kind == AuditEntry.Kind.WRITE
    assert entry.user == people["staff_lk"] and entry.actor_label == "staff_26080" and entry.api_key is None
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        "reports.report",
        str(report.pk),
        report.tracking_code,
    )
    assert (entry.unit_code, entry.unit_name) == ("26080", "Phường Long Khánh")
    assert entry.client_address == WARD_PC
    assert entry.method == "POST" and entry.path == f"/api/v1/reports/{report.pk}/start/"
    assert abs(entry.at - timezone.now()) < timedelta(minutes=1)
    # The operator's triage steps before it are there too, one entry per step.
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "actor_label")) == [
        ("report.accepted", "operator"),
        ("report.assigned", "operator"),
        ("report.started", "staff_26080"),
    ]


def test_behind_a_trusted_proxy_the_address_is_the_forwarded_client(submit, people, api_as, settings):
    settings.IOC_TRUSTED_PROXIES = ["10.0.0.1"]
    report, _secret = submit()
    api_as(people["operator"]).get(
        f"/api/v1/reports/{report.pk}/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{WARD_PC}, 10.0.0.1"
    )
    api_as(people["operator"]).get(f"/api/v1/reports/{report.pk}/", REMOTE_ADDR=VENDOR, HTTP_X_FORWARDED_FOR=WARD_PC)
    assert list(AuditEntry.objects.order_by("pk").values_list("client_address", flat=True)) == [WARD_PC, VENDOR]


def test_an_operator_acknowledging_an_alert(city, people, api_as):
    alert, _ = ioc_services.alert_raise(
        subsystem="traffic", severity="warning", title="Ùn tắc QL1A", unit=city["long_khanh"], dedup_key="k"
    )
    assert not AuditEntry.objects.exists()  # a subsystem's own alert is no staff write
    response = api_as(people["operator"]).post(f"/api/v1/alerts/{alert.pk}/acknowledge/", REMOTE_ADDR=CONSOLE_PC)
    assert response.status_code == 200

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.object_type, entry.object_id) == (
        "alert.acknowledge",
        people["operator"],
        "ioc.alert",
        str(alert.pk),
    )
    assert entry.object_label == "Ùn tắc QL1A" and entry.unit_code == "26080" and entry.client_address == CONSOLE_PC


def test_a_camera_batch_of_an_api_key_is_one_entry_with_a_count(city):
    Camera.objects.create(code="LK-QL1A-01", name="QL1A", purpose="traffic", unit=city["long_khanh"])
    key, plain = ioc_services.api_key_create(name="camera-vendor", scopes=["traffic:write"], unit=city["province"])
    vendor = APIClient()
    vendor.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    at = timezone.now() - timedelta(seconds=30)
    events = [
        {"camera": "LK-QL1A-01", "kind": "red_light", "external_id": f"evt-{n}", "occurred_at": at.isoformat()}
        for n in range(250)
    ]
    response = vendor.post("/api/v1/traffic/events/", {"events": events}, format="json", REMOTE_ADDR=VENDOR)
    assert response.status_code in (200, 201, 207), response.content

    entry = AuditEntry.objects.get()
    assert entry.api_key == key and entry.user is None and entry.actor_label == "apikey:camera-vendor"
    assert (entry.action, entry.object_type, entry.count) == ("camera_events.ingest", "traffic.cameraevent", 250)
    assert entry.unit_code == "75" and entry.client_address == VENDOR
    assert entry.detail["events"] == 250


def test_an_admin_change_in_the_admin_site(city, people, client):
    client.force_login(people["admin"])
    unit = city["long_khanh"]
    response = client.post(
        f"/admin/ioc/unit/{unit.pk}/change/",
        {
            "code": unit.code,
            "name": "Phường Long Khánh (mới)",
            "name_en": "",
            "kind": unit.kind,
            "parent": city["province"].pk,
            "latitude": "",
            "longitude": "",
            "boundary": "",
        },
        REMOTE_ADDR=CONSOLE_PC,
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.actor_label) == ("admin.change", people["admin"], "admin")
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        "ioc.unit",
        str(unit.pk),
        "Phường Long Khánh (mới)",
    )
    assert entry.unit_code == "26080" and entry.client_address == CONSOLE_PC
    assert "name" in entry.detail["change"].lower() or "tên" in entry.detail["change"].lower()


def test_reading_a_reports_contacts_is_recorded_and_a_list_is_not(submit, people, api_as):
    report, _secret = submit()
    operator = api_as(people["operator"])
    assert operator.get("/api/v1/reports/").status_code == 200
    assert not AuditEntry.objects.exists()  # lists carry no contact details

    body = operator.get(f"/api/v1/reports/{report.pk}/", REMOTE_ADDR=CONSOLE_PC).json()
    assert body["reporter"]["phone"] == "0912345678"
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.action, entry.user) == (
        AuditEntry.Kind.CONTACTS_READ,
        "contacts.read",
        people["operator"],
    )
    assert (entry.object_type, entry.object_id, entry.unit_code) == ("reports.report", str(report.pk), "26080")
    assert entry.client_address == CONSOLE_PC


def test_an_admin_viewing_a_report_page_with_contacts_is_recorded(submit, people, client):
    report, _secret = submit()
    client.force_login(people["admin"])
    response = client.get(f"/admin/reports/report/{report.pk}/change/")
    assert response.status_code == 200 and "0912345678" in response.content.decode()
    assert AuditEntry.objects.get().kind == AuditEntry.Kind.CONTACTS_READ


def test_a_refused_write_leaves_no_write_entry(submit, people, api_as):
    report, _secret = submit()
    staff_elsewhere = api_as(people["staff_bl"])
    assert staff_elsewhere.post(f"/api/v1/reports/{report.pk}/start/", {}, format="json").status_code == 404
    # Not yet assigned: the step itself is refused inside the service, and its entry rolls back.
    assert api_as(people["operator"]).post(f"/api/v1/reports/{report.pk}/close/", {}, format="json").status_code == 409
    assert api_as(people["staff_lk"]).post(f"/api/v1/reports/{report.pk}/start/", {}, format="json").status_code in (
        403,
        404,
        409,
    )
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.WRITE).exists()


def test_a_citizen_and_a_background_task_are_not_staff_writes(submit, categories):
    report, _secret = submit()  # the service without a request: a demo feed, a Celery task
    citizen = APIClient()
    response = citizen.post(
        "/api/v1/reports/",
        {"category": "o-ga", "description": "Ổ gà trước chợ", "latitude": 10.9372, "longitude": 107.2431},
        format="json",
    )
    assert response.status_code == 201
    assert not AuditEntry.objects.exists()


def test_the_entry_outlives_the_report_and_the_user(submit, people, api_as):
    report = assigned_report(submit, people, api_as)
    api_as(people["staff_lk"]).post(f"/api/v1/reports/{report.pk}/start/", {}, format="json")
    report_id = report.pk
    Report.objects.filter(pk=report_id).delete()
    people["staff_lk"].delete()

    entry = AuditEntry.objects.get(action="report.started")
    assert entry.user is None and entry.actor_label == "staff_26080"
    assert (entry.object_id, entry.object_label) == (str(report_id), report.tracking_code)
    assert entry.unit_code == "26080"


def test_the_database_refuses_to_update_or_delete_an_entry(submit, people, api_as):
    report, _secret = submit()
    api_as(people["operator"]).get(f"/api/v1/reports/{report.pk}/")
    entry = AuditEntry.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ioc_auditentry")
    # Clearing the caller's reference (what deleting the user does) is the one change let through,
    # and only when nothing else changes with it.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(user=None, object_label="")
    AuditEntry.objects.filter(pk=entry.pk).update(user=None)
    entry.refresh_from_db()
    assert entry.actor_label == "operator" and entry.object_id == str(report.pk)


def test_admins_filter_the_log_and_cannot_change_it(submit, people, api_as, client):
    report = assigned_report(submit, people, api_as)
    api_as(people["staff_lk"]).post(f"/api/v1/reports/{report.pk}/start/", {}, format="json")
    api_as(people["operator"]).get(f"/api/v1/reports/{report.pk}/")
    client.force_login(people["admin"])
    entry = AuditEntry.objects.get(action="report.started")

    listing = client.get("/admin/ioc/auditentry/")
    assert listing.status_code == 200
    assert "report.started" in listing.content.decode() and "Add" not in listing.context["title"]

    def shown(query):
        response = client.get("/admin/ioc/auditentry/" + query)
        assert response.status_code == 200, query
        return {e.pk for e in response.context["cl"].result_list}

    everything = set(AuditEntry.objects.values_list("pk", flat=True))
    assert len(everything) == 4
    assert shown(f"?user__id__exact={people['staff_lk'].pk}") == {entry.pk}
    assert shown("?action=report.started") == {entry.pk}
    assert shown("?kind__exact=contacts_read") == set(
        AuditEntry.objects.filter(kind="contacts_read").values_list("pk", flat=True)
    )
    assert shown("?object_type=reports.report") == everything
    assert shown(f"?unit__id__exact={Unit.objects.get(code='26080').pk}") == everything
    today, tomorrow = timezone.localdate(), timezone.localdate() + timedelta(days=1)
    day = lambda d: f"?at__year={d.year}&at__month={d.month}&at__day={d.day}"  # noqa: E731 - the date hierarchy
    assert shown(day(today)) == everything
    assert shown(day(tomorrow)) == set()

    page = client.get(f"/admin/ioc/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get("/admin/ioc/auditentry/add/").status_code == 403
    assert client.post(f"/admin/ioc/auditentry/{entry.pk}/change/", {"actor_label": "x"}).status_code == 403
    assert client.post(f"/admin/ioc/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.actor_label == "staff_26080"


def test_an_admin_deletion_keeps_what_was_deleted(categories, people, client):
    from reports.models import CategoryGroup

    group = CategoryGroup.objects.create(code="moi-truong", name="Môi trường")
    client.force_login(people["admin"])
    response = client.post(f"/admin/reports/categorygroup/{group.pk}/delete/", {"post": "yes"}, REMOTE_ADDR=CONSOLE_PC)
    assert response.status_code == 302 and not CategoryGroup.objects.filter(pk=group.pk).exists()

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_label, entry.client_address) == ("admin.delete", "admin", CONSOLE_PC)
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        "reports.categorygroup",
        str(group.pk),
        "Môi trường",
    )


def test_an_admin_reading_messages_to_citizens_is_a_contacts_read(people, client):
    from ioc import notify
    from ioc.models import Notification

    notify.notify_address(email="an@example.vn", phone="0912345678", subject="Phản ánh PA-1", body="Đã xử lý.")
    client.force_login(people["admin"])
    listing = client.get("/admin/ioc/notification/")
    assert listing.status_code == 200 and "0912345678" in listing.content.decode()
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.object_type, entry.count) == ("contacts_read", "ioc.notification", 2)

    message = Notification.objects.get(channel="sms")
    assert client.get(f"/admin/ioc/notification/{message.pk}/change/").status_code == 200
    assert AuditEntry.objects.filter(kind="contacts_read", object_id=str(message.pk)).count() == 1
