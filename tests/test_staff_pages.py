"""The operator console, the unit workspace and the leaders' drill-down: pages and the API behind them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import services
from reports.models import Report

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "allowed", "refused"),
    [
        ("/console/", ["operator", "leader", "admin"], ["staff_lk"]),
        ("/workspace/", ["staff_lk", "operator", "leader"], []),
        ("/console/reports/?figure=overdue", ["leader", "staff_lk"], []),
    ],
)
def test_pages_by_role(client, people, path, allowed, refused):
    assert client.get(path).status_code == 302  # login first
    for who in allowed:
        client.force_login(people[who])
        assert client.get(path).status_code == 200, who
    for who in refused:
        client.force_login(people[who])
        assert client.get(path).status_code == 403, who


def test_each_role_lands_on_its_screen(client, people):
    for who, target in [("leader", "/wall/"), ("operator", "/console/"), ("staff_lk", "/workspace/")]:
        client.force_login(people[who])
        assert client.get("/home/")["Location"] == target


def test_leaders_get_a_directive_form_on_a_report_page(client, people, submit):
    report, _ = submit()
    client.force_login(people["leader"])
    assert 'id="directive-form"' in client.get(f"/console/reports/{report.pk}/").content.decode()
    client.force_login(people["staff_lk"])
    assert 'id="directive-form"' not in client.get(f"/console/reports/{report.pk}/").content.decode()


def test_queue_is_urgent_first_then_oldest_and_keeps_accepted_until_assigned(people, api_as, submit, city):
    old, _ = submit(description="cũ nhất")
    Report.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(hours=3))
    newer, _ = submit(description="mới hơn")
    urgent, _ = submit(category="fire")
    done, _ = submit(description="đã giao")
    services.report_accept(report_id=done.pk, user=people["operator"])
    services.report_assign(report_id=done.pk, user=people["operator"], unit=city["long_khanh"])
    services.report_accept(report_id=newer.pk, user=people["operator"])
    codes = [r["tracking_code"] for r in api_as(people["operator"]).get("/api/v1/reports/queue/").json()["results"]]
    assert codes == [urgent.tracking_code, old.tracking_code, newer.tracking_code]


def test_workspace_lists_what_is_assigned_to_my_unit_by_nearest_deadline(people, api_as, submit, city):
    later, _ = submit(description="hạn sau")
    sooner, _ = submit(description="hạn trước")
    to_police, _ = submit(description="giao công an")
    for report, unit in [(later, city["long_khanh"]), (sooner, city["long_khanh"]), (to_police, city["police"])]:
        services.report_accept(report_id=report.pk, user=people["operator"])
        services.report_assign(report_id=report.pk, user=people["operator"], unit=unit)
    Report.objects.filter(pk=sooner.pk).update(response_due_at=timezone.now() + timedelta(minutes=30))
    codes = [r["tracking_code"] for r in api_as(people["staff_lk"]).get("/api/v1/reports/workspace/").json()["results"]]
    assert codes == [sooner.tracking_code, later.tracking_code]  # not the one the police handle


def test_drill_down_by_figure(people, api_as, submit):
    late, _ = submit()
    submit()
    Report.objects.filter(pk=late.pk).update(response_due_at=timezone.now() - timedelta(minutes=5))
    results = api_as(people["leader"]).get("/api/v1/reports/?figure=overdue").json()["results"]
    assert [r["tracking_code"] for r in results] == [late.tracking_code]
    assert api_as(people["leader"]).get("/api/v1/reports/?figure=triage").json()["count"] == 2
    assert api_as(people["leader"]).get("/api/v1/reports/?figure=bogus").status_code == 400


def test_detail_suggests_the_categorys_department_else_the_ward(people, api_as, submit):
    fire, _ = submit(category="fire")
    pothole, _ = submit()
    operator = api_as(people["operator"])
    assert operator.get(f"/api/v1/reports/{fire.pk}/").json()["suggested_unit"] == "75-CA"
    assert operator.get(f"/api/v1/reports/{pothole.pk}/").json()["suggested_unit"] == "26080"


def test_camera_incidents_page(client, people):
    client.force_login(people["operator"])
    assert client.get("/console/cameras/").status_code == 200
    client.force_login(people["staff_lk"])
    assert client.get("/console/cameras/").status_code == 200
