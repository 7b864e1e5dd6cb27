"""The triage queue tells the truth at any size, and a report's timeline reads in people's words."""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from ioc.scope import Scope
from ioc.services import api_key_create
from reports import services
from reports.models import Channel, Level, Report, ReportEvent, Status
from reports.selectors import wall_figures

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/reports/queue/"
BASELINES = Path(__file__).with_name("query_counts.json")


def make_open_reports(categories, unit, n, *, start=0):
    """`n` reports awaiting triage, written at once (the service is what the other tests exercise)."""
    now = timezone.now()
    rows = []
    for i in range(start, start + n):
        received = now - timedelta(minutes=i % 600)
        rows.append(
            Report(
                tracking_code=f"PA-T{i:07d}",
                secret_hash="x" * 64,
                category=categories["pothole"],
                level=Level.URGENT if i % 50 == 0 else Level.NORMAL,
                description=f"Ổ gà số {i}",
                unit=unit,
                status=Status.ACCEPTED if i % 7 == 0 else Status.RECEIVED,
                channel=Channel.WEB,
                received_at=received,
                deadline_started_at=received,
                response_due_at=received + timedelta(hours=8 + i % 40),
                resolution_due_at=received + timedelta(days=5),
            )
        )
    Report.objects.bulk_create(rows, batch_size=1000)


def codes(response):
    assert response.status_code == 200, response.content[:300]
    return [r["tracking_code"] for r in response.json()["results"]]


# --- one count everywhere -------------------------------------------------------------------------


def test_the_console_the_api_and_the_wall_count_the_same_queue(people, api_as, submit, city):
    received = [submit()[0] for _ in range(3)]
    accepted, _ = submit()  # accepted, no unit yet: still the operators' to send on
    services.report_accept(report_id=accepted.pk, user=people["operator"])
    returned, _ = submit()  # handed back by the unit: waits for triage again
    services.report_accept(report_id=returned.pk, user=people["operator"])
    services.report_assign(report_id=returned.pk, user=people["operator"], unit=city["long_khanh"])
    services.report_hand_back(report_id=returned.pk, user=people["staff_lk"], reason="Không thuộc phường")
    assigned, _ = submit()
    services.report_accept(report_id=assigned.pk, user=people["operator"])
    services.report_assign(report_id=assigned.pk, user=people["operator"], unit=city["long_khanh"])

    api = api_as(people["operator"]).get(QUEUE, {"limit": 2}).json()
    kpis = {k["code"]: k["value"] for k in wall_figures(Scope(unit=city["province"]))["kpis"]}
    drill = api_as(people["leader"]).get("/api/v1/reports/", {"figure": "triage"}).json()["count"]
    assert api["count"] == kpis["triage"] == drill == len(received) + 2
    assert len(api["results"]) == 2 and api["next"]  # a page, and it says there is more
    assert kpis["handling"] == 1  # the assigned one only: nothing counts twice


# --- order ----------------------------------------------------------------------------------------


def test_the_queue_puts_first_what_needs_action_first(people, api_as, submit):
    now = timezone.now()

    def window(report, *, received_hours_ago, due_in_hours, level=Level.NORMAL):
        received = now - timedelta(hours=received_hours_ago)
        due = now + timedelta(hours=due_in_hours) if due_in_hours is not None else None
        Report.objects.filter(pk=report.pk).update(
            received_at=received, deadline_started_at=received, response_due_at=due, level=level
        )

    half, _ = submit()
    window(half, received_hours_ago=10, due_in_hours=10)  # 50 % of its window left
    tight, _ = submit()
    window(tight, received_hours_ago=9, due_in_hours=1)  # 10 % left, though received later
    long_window, _ = submit()
    window(long_window, received_hours_ago=1, due_in_hours=99)  # 99 % left
    late, _ = submit()
    window(late, received_hours_ago=5, due_in_hours=-1)  # overdue: below zero
    undated, _ = submit()
    window(undated, received_hours_ago=30, due_in_hours=None)  # no deadline: last, however old
    urgent, _ = submit()
    window(urgent, received_hours_ago=0.1, due_in_hours=2, level=Level.URGENT)
    expected = [urgent, late, tight, half, long_window, undated]
    assert codes(api_as(people["operator"]).get(QUEUE)) == [r.tracking_code for r in expected]
    # Page by page, the same order with nothing lost or repeated.
    client = api_as(people["operator"])
    paged = sum((codes(client.get(QUEUE, {"limit": 2, "offset": o})) for o in (0, 2, 4)), [])
    assert paged == [r.tracking_code for r in expected]


# --- filters --------------------------------------------------------------------------------------


def test_the_queue_filters_by_unit_category_level_channel_and_overdue(people, api_as, submit):
    pothole, _ = submit()
    fire, _ = submit(category="fire")
    elsewhere, _ = submit(where=(10.9851, 107.2301), channel=Channel.APP)  # Bình Lộc, from the app
    Report.objects.filter(pk=pothole.pk).update(response_due_at=timezone.now() - timedelta(minutes=5))
    client = api_as(people["operator"])
    assert set(codes(client.get(QUEUE, {"unit": "26089"}))) == {elsewhere.tracking_code}
    assert codes(client.get(QUEUE, {"category": "chay-no"})) == [fire.tracking_code]
    assert codes(client.get(QUEUE, {"level": "urgent"})) == [fire.tracking_code]
    assert codes(client.get(QUEUE, {"channel": "app"})) == [elsewhere.tracking_code]
    assert codes(client.get(QUEUE, {"overdue": "true"})) == [pothole.tracking_code]
    assert pothole.tracking_code not in codes(client.get(QUEUE, {"overdue": "false"}))
    both = client.get(QUEUE, {"unit": "26080", "category": "o-ga"}).json()
    assert both["count"] == 1 and both["results"][0]["tracking_code"] == pothole.tracking_code


@pytest.mark.parametrize(
    "params",
    [{"unit": "nowhere"}, {"category": "nope"}, {"level": "very"}, {"channel": "fax"}, {"overdue": "maybe"}],
)
def test_a_bad_filter_is_a_400_naming_it(people, api_as, params):
    response = api_as(people["operator"]).get(QUEUE, params)
    assert response.status_code == 400
    (name,) = params
    assert name in json.dumps(response.json())


# --- at size --------------------------------------------------------------------------------------


def queue_queries(client, url=QUEUE + "?limit=200") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_first_page_of_5000_open_reports_is_quick_and_the_queries_do_not_grow(
    people, api_as, categories, city, capsys
):
    client = api_as(people["operator"])
    make_open_reports(categories, city["long_khanh"], 10)
    client.get(QUEUE)  # warm what any first read fills
    at_10 = queue_queries(client)
    make_open_reports(categories, city["long_khanh"], 990, start=10)
    at_1000 = queue_queries(client)
    assert at_10 == at_1000 == json.loads(BASELINES.read_text())["/api/v1/reports/queue/"]

    make_open_reports(categories, city["long_khanh"], 4000, start=1000)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.get(QUEUE, {"limit": 200})
        timings.append(time.perf_counter() - started)
    body = response.json()
    assert body["count"] == 5000 and len(body["results"]) == 200
    assert body["results"][0]["level"] == "urgent"
    with capsys.disabled():
        print(f"\nqueue, first page of 5,000: best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms")
    assert min(timings) < 0.3  # a generous bound: it measured about a tenth of this


# --- the timeline in people's words ---------------------------------------------------------------


@pytest.fixture
def named(people, city):
    for user, name in ((people["operator"], "Trần Thị Lan"), (people["leader"], "Phạm Văn Hùng")):
        user.first_name = name
        user.save()
    return people


def old_row(report, action, *, label, note="", public=True):
    """A row as earlier versions wrote it: the actor's internal name, the note frozen in a language."""
    return ReportEvent.objects.create(
        report=report,
        at=timezone.now(),
        action=action,
        actor_label=label,
        to_status=report.status,
        note=note,
        public=public,
    )


def test_the_staff_timeline_names_people_and_units_and_says_system_notes_in_the_readers_language(
    named, api_as, submit, city
):
    people = named
    api_key_create(name="hold-open311", scopes=["traffic:write"], unit=city["long_khanh"])
    parent, _ = submit()
    report, _ = submit()
    old_row(report, ReportEvent.Action.SUBMITTED, label="apikey:hold-open311")
    services.report_accept(report_id=report.pk, user=people["operator"])
    services.report_assign(report_id=report.pk, user=people["operator"], unit=city["long_khanh"])
    services.report_start(report_id=report.pk, user=people["staff_lk"])
    with translation.override("en"):  # written while the system spoke English
        old_row(
            report,
            ReportEvent.Action.ESCALATED,
            label="System",
            note=f"Overdue at {city['long_khanh'].name}; escalated to leader.",
            public=False,
        )
    other, _ = submit()
    with translation.override("en"):
        services.report_mark_duplicate(report_id=other.pk, user=people["operator"], parent_id=parent.pk)

    timeline = api_as(people["operator"]).get(f"/api/v1/reports/{report.pk}/").json()["timeline"]
    who = [e["actor_label"] for e in timeline]
    assert who[1:] == [
        "Hệ thống camera Phường Long Khánh",
        "Trần Thị Lan · Trung tâm điều hành",
        "Trần Thị Lan · Trung tâm điều hành",
        "Cán bộ Phường Long Khánh",
        "Hệ thống",
    ]
    assert who[0] == "Người dân"  # the citizen's own submission, as staff see it
    assert not any("apikey:" in w or "staff_" in w for w in who)
    assert timeline[-1]["note"] == "Quá hạn tại Phường Long Khánh; đã báo cáo Phạm Văn Hùng."

    duplicate = api_as(people["operator"]).get(f"/api/v1/reports/{other.pk}/").json()["timeline"][-1]
    assert duplicate["note"] == f"Cùng sự việc với phản ánh {parent.tracking_code}."
    reader = api_as(people["operator"])
    reader.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = reader.get(f"/api/v1/reports/{other.pk}/")
    assert english.json()["timeline"][-1]["note"] == f"Same problem as report {parent.tracking_code}."
    # What a person typed stays as they typed it, and the stored row is untouched.
    assert ReportEvent.objects.filter(actor_label="apikey:hold-open311").exists()


def test_the_citizen_reads_you_for_their_own_steps_and_no_officials_name(named, client, submit, city):
    people = named
    report, secret = submit()
    services.report_accept(report_id=report.pk, user=people["operator"])
    services.report_assign(report_id=report.pk, user=people["operator"], unit=city["long_khanh"])
    services.report_answer(report_id=report.pk, user=people["staff_lk"], text="Đã vá xong ổ gà.")
    services.report_resolve(report_id=report.pk, user=people["staff_lk"])
    services.report_rate(tracking_code=report.tracking_code, secret=secret, rating=2, comment="Vá chưa kỹ")
    services.report_reopen(tracking_code=report.tracking_code, secret=secret, reason="Ổ gà lại vỡ")

    tracked = client.get(f"/api/v1/reports/track/{report.tracking_code}/", {"secret": secret}).json()
    who = {e["action"]: e["actor"] for e in tracked["timeline"]}
    assert who["submitted"] == who["rated"] == who["reopened"] == "Bạn"
    assert who["accepted"] == who["assigned"] == "Trung tâm điều hành"
    assert who["answered"] == who["resolved"] == "Cán bộ Phường Long Khánh"
    assert "Trần Thị Lan" not in json.dumps(tracked, ensure_ascii=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(f"/api/v1/reports/track/{report.tracking_code}/", {"secret": secret})
    assert {e["action"]: e["actor"] for e in english.json()["timeline"]}["submitted"] == "You"
    # The tracking page says the same, in words, beside each step.
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    page = client.get("/track/", {"code": report.tracking_code, "secret": secret}).content.decode()
    assert "· Bạn" in page and "· Cán bộ Phường Long Khánh" in page and "Trần Thị Lan" not in page


def test_an_open311_photo_link_note_reads_in_the_readers_language(people, api_as, submit):
    report, _ = submit()
    with translation.override("en"):
        old_row(
            report,
            ReportEvent.Action.SUBMITTED,
            label="apikey:gone",
            note="Photo link sent with the request (not fetched): https://example.vn/a.jpg",
            public=False,
        )
    last = api_as(people["operator"]).get(f"/api/v1/reports/{report.pk}/").json()["timeline"][-1]
    assert last["note"] == "Liên kết ảnh gửi kèm yêu cầu (chưa được tải về): https://example.vn/a.jpg"
    assert last["actor_label"] == "Hệ thống kết nối"  # its key since deleted: still no internal name
