"""A field report's handling, step by step, by role and scope, through the API."""

import json
import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from ioc.models import Alert
from reports.models import Report, ReportEvent, Status
from tests.conftest import LONG_KHANH
from tests.images import jpeg

pytestmark = pytest.mark.django_db


def url(report, step=""):
    return f"/api/v1/reports/{report.pk}/" + (f"{step}/" if step else "")


def test_citizen_submits_with_a_photo_and_follows_with_code_and_secret(categories):
    citizen = APIClient()
    response = citizen.post(
        "/api/v1/reports/",
        {
            "category": "o-ga",
            "description": "Ổ gà lớn trước chợ Long Khánh",
            "latitude": LONG_KHANH[0],
            "longitude": LONG_KHANH[1],
            "reporter_phone": "0912345678",
            "photos": [jpeg()],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tracking_code"].startswith("PA-") and body["secret"]
    report = Report.objects.get(tracking_code=body["tracking_code"])
    assert report.unit.code == "26080"  # the nearest ward centre
    assert report.status == Status.RECEIVED
    assert report.photos.count() == 1

    tracked = citizen.get(f"/api/v1/reports/track/{body['tracking_code']}/?secret={body['secret']}")
    assert tracked.status_code == 200
    assert tracked.json()["status"] == "received"
    assert tracked.json()["photos"] == []  # not public before triage
    assert citizen.get(f"/api/v1/reports/track/{body['tracking_code']}/?secret=wrong").status_code == 404


def test_the_whole_journey_by_the_people_who_do_each_step(categories, people, api_as, submit):
    report, secret = submit()
    operator, staff = api_as(people["operator"]), api_as(people["staff_lk"])

    assert operator.post(url(report, "accept"), {"level": "normal"}, format="json").status_code == 200
    response = operator.post(url(report, "assign"), {"unit": "26080"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "assigned"
    assert staff.post(url(report, "start"), {}, format="json").json()["status"] == "in_progress"
    answer = staff.post(url(report, "answer"), {"text": "Phường đã cử tổ công tác kiểm tra."}, format="multipart")
    assert answer.status_code == 200 and answer.json()["first_answered_at"]
    resolved = staff.post(url(report, "resolve"), {"note": "Đã vá ổ gà.", "photos": [jpeg()]}, format="multipart")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert operator.post(url(report, "close"), {}, format="json").json()["status"] == "closed"

    citizen = APIClient()
    rated = citizen.post(
        f"/api/v1/reports/track/{report.tracking_code}/rate/", {"secret": secret, "rating": 5}, format="json"
    )
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    public = rated.json()
    assert [a["text"] for a in public["answers"]] == ["Phường đã cử tổ công tác kiểm tra.", "Đã vá ổ gà."]
    assert len(public["answers"][1]["photos"]) == 1
    actions = list(ReportEvent.objects.filter(report=report).values_list("action", flat=True))
    assert actions == ["submitted", "accepted", "assigned", "started", "answered", "resolved", "closed", "rated"]

    reopened = citizen.post(
        f"/api/v1/reports/track/{report.tracking_code}/reopen/",
        {"secret": secret, "reason": "Ổ gà lại xuất hiện sau mưa."},
        format="json",
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "assigned"
    report.refresh_from_db()
    assert report.reopen_count == 1 and report.first_answered_at is None


def test_steps_are_refused_by_role(categories, people, api_as, submit):
    report, _ = submit()
    staff, leader = api_as(people["staff_lk"]), api_as(people["leader"])
    assert staff.post(url(report, "accept"), {}, format="json").status_code == 403
    assert leader.post(url(report, "accept"), {}, format="json").status_code == 403
    assert staff.post(url(report, "assign"), {"unit": "26080"}, format="json").status_code == 403
    # Not assigned yet: the ward cannot work it.
    assert staff.post(url(report, "answer"), {"text": "x"}, format="json").status_code == 403
    assert APIClient().get("/api/v1/reports/").status_code in (401, 403)
    report.refresh_from_db()
    assert report.status == Status.RECEIVED


def test_another_wards_staff_get_404_and_see_nothing(categories, people, api_as, submit):
    report, _ = submit()
    other = api_as(people["staff_bl"])
    assert other.get(url(report)).status_code == 404
    assert other.post(url(report, "start"), {}, format="json").status_code == 404
    assert other.get("/api/v1/reports/").json()["count"] == 0
    assert api_as(people["staff_lk"]).get("/api/v1/reports/").json()["count"] == 1
    assert api_as(people["leader"]).get(url(report)).status_code == 200


def test_a_department_sees_what_is_assigned_to_it_only(categories, people, api_as, submit, city):
    from tests.conftest import make_user

    police = api_as(make_user("police_staff", "unit_staff", city["police"]))
    report, _ = submit()
    other, _ = submit(description="Ổ gà thứ hai")
    assert police.get(url(report)).status_code == 404
    operator = api_as(people["operator"])
    operator.post(url(report, "accept"), {}, format="json")
    operator.post(url(report, "assign"), {"unit": "75-CA"}, format="json")
    assert police.get(url(report)).status_code == 200
    assert police.get(url(other)).status_code == 404
    assert police.post(url(report, "start"), {}, format="json").status_code == 200


def test_hand_back_returns_to_triage_with_the_reason(categories, people, api_as, submit):
    report, _ = submit()
    operator, staff = api_as(people["operator"]), api_as(people["staff_lk"])
    operator.post(url(report, "accept"), {}, format="json")
    operator.post(url(report, "assign"), {"unit": "26080"}, format="json")
    response = staff.post(url(report, "hand-back"), {"reason": "Thuộc thẩm quyền Sở Xây dựng"}, format="json")
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.status == Status.RECEIVED and report.returned and report.assigned_unit is None
    event = report.events.get(action="handed_back")
    assert event.note == "Thuộc thẩm quyền Sở Xây dựng" and not event.public
    assert staff.post(url(report, "hand-back"), {}, format="json").status_code == 400  # a reason is required


def test_duplicate_and_reject(categories, people, api_as, submit):
    first, _ = submit()
    second, _ = submit(description="Cùng ổ gà đó")
    spam, _ = submit(description="quảng cáo vay tiền nhanh")
    operator = api_as(people["operator"])
    suggestions = operator.get(url(second, "duplicates")).json()
    assert [s["tracking_code"] for s in suggestions] == [
        first.tracking_code,
        spam.tracking_code,
    ] or first.tracking_code in [s["tracking_code"] for s in suggestions]
    assert operator.post(url(second, "duplicate"), {"parent": first.pk}, format="json").status_code == 200
    assert operator.post(url(spam, "reject"), {"reason": "Tin rác"}, format="json").status_code == 200
    second.refresh_from_db()
    spam.refresh_from_db()
    assert second.status == Status.DUPLICATE and second.duplicate_of == first
    assert spam.status == Status.REJECTED


def test_leader_gives_a_directive_the_unit_sees(categories, people, api_as, submit):
    report, _ = submit()
    leader = api_as(people["leader"])
    assert (
        leader.post(url(report, "directive"), {"text": "Yêu cầu xử lý dứt điểm trong tuần."}, format="json").status_code
        == 200
    )
    timeline = api_as(people["staff_lk"]).get(url(report)).json()["timeline"]
    assert any(e["action"] == "directive" and "dứt điểm" in e["note"] for e in timeline)
    assert api_as(people["operator"]).post(url(report, "directive"), {"text": "x"}, format="json").status_code == 403


def test_a_finished_report_cannot_be_answered_again(categories, people, api_as, submit):
    report, _ = submit()
    operator = api_as(people["operator"])
    operator.post(url(report, "reject"), {"reason": "Không phải phản ánh"}, format="json")
    response = operator.post(url(report, "answer"), {"text": "Trả lời lại"}, format="json")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert not report.answers.exists()


@pytest.mark.django_db(transaction=True)
def test_two_operators_triaging_at_once_one_wins_and_the_other_gets_409(categories, people, submit):
    report, _ = submit()
    results = []
    barrier = threading.Barrier(2)

    def triage(level):
        client = APIClient()
        client.force_login(people["operator"])
        barrier.wait()
        results.append(client.post(url(report, "accept"), {"level": level}, format="json").status_code)
        connections.close_all()

    threads = [threading.Thread(target=triage, args=(level,)) for level in ("urgent", "complex")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    report.refresh_from_db()
    assert report.status == Status.ACCEPTED
    assert report.events.filter(action="accepted").count() == 1


def test_urgent_reports_get_a_two_hour_answer_deadline_and_an_alert(categories, submit):
    report, _ = submit(category="fire")
    assert (report.response_due_at - report.received_at).total_seconds() == 2 * 3600
    alert = Alert.objects.get(dedup_key=f"reports:{report.pk}:urgent")
    assert alert.severity == "critical" and alert.unit.code == "26080"


def test_reporter_identity_never_reaches_public_or_other_citizens(categories, people, api_as, submit):
    report, secret = submit()
    api_as(people["operator"]).post(url(report, "accept"), {}, format="json")
    citizen = APIClient()
    other = citizen.post(
        "/api/v1/reports/",
        {"category": "o-ga", "description": "Ổ gà gần đó", "latitude": LONG_KHANH[0], "longitude": LONG_KHANH[1]},
        format="json",
    )
    tracked = citizen.get(f"/api/v1/reports/track/{report.tracking_code}/?secret={secret}")
    list_for_staff = api_as(people["staff_lk"]).get("/api/v1/reports/")
    for response in (other, tracked, list_for_staff):
        text = json.dumps(response.json(), ensure_ascii=False)
        assert "Nguyễn Văn An" not in text and "0912345678" not in text and "an@example.vn" not in text
    assert other.json()["similar_reports"][0]["tracking_code"] == report.tracking_code
