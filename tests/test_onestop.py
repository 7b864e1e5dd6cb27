"""One-stop offices: dossier sync, history, scope, queues, counter cameras, deadline sweep, wall panel."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from ioc.models import Alert
from ioc.scope import EVERYTHING, Scope
from ioc.services import api_key_create
from ioc.worktime import LOCAL_TZ
from onestop import selectors, services
from onestop.models import Counter, Dossier, DossierStatusChange, Office, Procedure
from traffic import services as camera_services
from traffic.models import Camera

pytestmark = pytest.mark.django_db


def local(text: str) -> str:
    """'2026-11-23 08:00' -> ISO 8601 with the +07:00 offset."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).isoformat()


@pytest.fixture(autouse=True)
def _live_wall_figures(monkeypatch):
    from onestop import conf

    monkeypatch.setattr(conf, "FIGURES_CACHE_SECONDS", 0)


@pytest.fixture
def offices(city):
    for code, name, days, fees in [
        ("1.001193", "Đăng ký khai sinh", Decimal("1"), False),
        ("2.000815", "Chứng thực bản sao từ bản chính", Decimal("1"), True),
    ]:
        Procedure.objects.create(code=code, name=name, field="Hộ tịch", duration_days=days, has_fees=fees)
    return {
        "lk": Office.objects.create(unit=city["long_khanh"], name="Bộ phận Một cửa phường Long Khánh"),
        "bl": Office.objects.create(unit=city["binh_loc"], name="Bộ phận Một cửa phường Bình Lộc"),
    }


@pytest.fixture
def software(city):
    """The province's one-stop software, with its API key."""
    _key, plain = api_key_create(name="one-stop-software", scopes=["onestop:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def dossier(code="H19-0001", status=2, updated="2026-11-23 08:00", unit="26080", **extra):
    return {
        "code": code,
        "procedure": "1.001193",
        "unit": unit,
        "applicant": {"name": "Nguyễn Văn An", "id_number": "075090001234", "phone": "0912345678"},
        "status": status,
        "channel": 2,
        "received_at": local("2026-11-23 08:00"),
        "updated_at": local(updated),
        **extra,
    }


def push(client, *items):
    return client.post("/api/v1/onestop/dossiers/", {"dossiers": list(items)}, format="json")


# --- sync ---------------------------------------------------------------------------------------


def test_out_of_order_and_repeated_updates_leave_the_newest_state(offices, software):
    received = dossier(status=2, updated="2026-11-23 08:00")
    processing = dossier(status=4, updated="2026-11-23 09:00")
    still_processing = dossier(status=4, updated="2026-11-23 11:00", digitized=True)
    done = dossier(
        status=9, updated="2026-11-23 15:00", processing_ended_at=local("2026-11-23 15:00"), electronic_result=True
    )
    assert push(software, received).json()["results"][0]["status"] == "created"
    assert push(software, done).json()["results"][0]["status"] == "updated"
    late = push(software, still_processing, processing).json()  # both arrive after the newer one
    assert [r["status"] for r in late["results"]] == ["stale", "stale"]
    again = push(software, done, done).json()  # a retried batch, with a repeat inside it
    assert [r["status"] for r in again["results"]] == ["unchanged", "unchanged"]

    stored = Dossier.objects.get(code="H19-0001")
    assert stored.status == 9 and stored.electronic_result and stored.finished_at is not None
    assert not stored.digitized  # the stale item did not overwrite
    assert Dossier.objects.count() == 1
    # Every status reported is in the history, in the source's order, once; a repeat is no change.
    assert DossierStatusChange.objects.count() == 4
    assert [status for status, _at in selectors.status_history(stored)] == [2, 4, 9]


def test_a_batch_applies_its_items_in_source_order(offices, software):
    body = push(
        software,
        dossier(status=10, updated="2026-11-23 16:00", returned_at=local("2026-11-23 16:00")),
        dossier(status=4, updated="2026-11-23 09:00"),
    ).json()
    assert [r["status"] for r in body["results"]] == ["updated", "created"]
    assert Dossier.objects.get().status == 10


def test_bad_items_are_named_and_good_ones_stored(offices, software):
    body = push(
        software,
        dossier(code="OK-1"),
        dossier(code="BAD-1", procedure="9.999999", status=11, updated_at="yesterday"),
        dossier(code="OK-2", supplements=[{"requested_at": local("2026-11-23 09:00")}]),
    ).json()
    assert (body["created"], body["error"]) == (2, 1)
    assert set(body["results"][1]["errors"]) == {"procedure", "status", "updated_at"}
    assert set(Dossier.objects.values_list("code", flat=True)) == {"OK-1", "OK-2"}


def test_the_due_date_comes_from_the_procedure_when_none_is_sent(offices, software):
    # One working day from Monday 10:00 is Tuesday 10:00.
    push(software, dossier(received_at=local("2026-11-16 10:00")))
    assert Dossier.objects.get().due_at == datetime(2026, 11, 17, 10, 0, tzinfo=LOCAL_TZ)


def test_a_key_without_the_scope_or_outside_its_area_changes_nothing(offices, city):
    _k, plain = api_key_create(name="cameras", scopes=["traffic:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert push(client, dossier()).status_code == 403
    _k, ward_plain = api_key_create(name="bl-software", scopes=["onestop:write"], unit=city["binh_loc"])
    ward = APIClient()
    ward.credentials(HTTP_AUTHORIZATION=f"Bearer {ward_plain}")
    body = push(ward, dossier(unit="26080")).json()
    assert body["error"] == 1 and "unit" in body["results"][0]["errors"]
    assert not Dossier.objects.exists()


def test_the_applicant_is_never_in_the_api(offices, software, people, api_as):
    push(software, dossier())
    client = api_as(people["staff_lk"])
    text = (
        client.get("/api/v1/onestop/dossiers/").content.decode()
        + client.get("/api/v1/onestop/dossiers/H19-0001/").content.decode()
    )
    assert "Nguyễn Văn An" not in text and "075090001234" not in text and "0912345678" not in text


# --- scope --------------------------------------------------------------------------------------


def test_one_wards_dossiers_are_invisible_to_another_wards_staff(offices, software, people, api_as):
    push(software, dossier(code="LK-1", unit="26080"), dossier(code="BL-1", unit="26089"))
    long_khanh, binh_loc = api_as(people["staff_lk"]), api_as(people["staff_bl"])

    assert [d["code"] for d in binh_loc.get("/api/v1/onestop/dossiers/").json()["results"]] == ["BL-1"]
    assert binh_loc.get("/api/v1/onestop/dossiers/LK-1/").status_code == 404
    assert binh_loc.get("/api/v1/onestop/indicators/?unit=26080").status_code == 404
    assert binh_loc.get("/onestop/offices/26080/").status_code == 404
    detail = long_khanh.get("/api/v1/onestop/dossiers/LK-1/")
    assert detail.status_code == 200 and [h["status"] for h in detail.json()["history"]] == [2]
    assert long_khanh.get("/onestop/offices/26080/").status_code == 200
    leader = api_as(people["leader"])
    assert {d["code"] for d in leader.get("/api/v1/onestop/dossiers/").json()["results"]} == {"LK-1", "BL-1"}
    assert leader.get("/onestop/").status_code == 200


# --- queues and counters ------------------------------------------------------------------------


@pytest.fixture
def counter(offices, city):
    camera = Camera.objects.create(code="CAM-LK-MC-01", name="Quầy 1", purpose="counter", unit=city["long_khanh"])
    return Counter.objects.create(office=offices["lk"], code="LK-MC-01", name="Quầy 1 - Hộ tịch", camera=camera)


def test_queue_figures_come_in_by_api_and_an_older_one_does_not_replace_the_latest(counter, software):
    url = "/api/v1/onestop/queues/"
    newer = {"counter": "LK-MC-01", "waiting": 7, "average_wait_minutes": 12.5, "at": local("2026-11-23 09:30")}
    older = {"counter": "LK-MC-01", "waiting": 2, "at": local("2026-11-23 08:00")}
    bad = {"counter": "NOPE", "waiting": -1}
    body = software.post(url, {"figures": [newer, older, bad]}, format="json").json()
    assert (body["created"], body["error"]) == (2, 1)
    assert software.post(url, {"figures": [newer]}, format="json").json()["duplicate"] == 1
    counter.refresh_from_db()
    assert (counter.waiting, counter.average_wait_minutes) == (7, 12.5)


def counter_event(n, kind, at):
    return {"camera": "CAM-LK-MC-01", "kind": kind, "external_id": f"c-{n}", "occurred_at": local(at)}


def test_an_unattended_counter_in_working_hours_is_an_alert_and_attended_resolves_it(counter):
    # Wednesday 25 November 2026, 09:10: inside the morning session.
    camera_services.ingest_events(
        source="t", items=[counter_event(1, "unattended", "2026-11-25 09:10")], scope=EVERYTHING
    )
    alert = Alert.objects.get(subsystem="onestop")
    assert alert.state == "open" and alert.unit.code == "26080" and "Quầy 1" in alert.title
    counter.refresh_from_db()
    assert counter.unattended_since is not None
    camera_services.ingest_events(
        source="t", items=[counter_event(2, "unattended", "2026-11-25 09:12")], scope=EVERYTHING
    )
    alert.refresh_from_db()
    assert alert.count == 2 and Alert.objects.count() == 1
    camera_services.ingest_events(
        source="t", items=[counter_event(3, "attended", "2026-11-25 09:20")], scope=EVERYTHING
    )
    alert.refresh_from_db()
    counter.refresh_from_db()
    assert alert.state == "resolved" and counter.unattended_since is None


@pytest.mark.parametrize(
    "moment",
    ["2026-11-25 12:15", "2026-11-25 19:00", "2026-11-25 06:00", "2026-11-22 09:10"],
    ids=["lunch break", "evening", "early morning", "sunday"],
)
def test_an_unattended_counter_outside_working_hours_is_no_alert(counter, moment):
    camera_services.ingest_events(source="t", items=[counter_event(1, "unattended", moment)], scope=EVERYTHING)
    assert not Alert.objects.exists()


def test_counter_events_through_the_camera_api(counter, city):
    _k, plain = api_key_create(name="counter-cams", scopes=["traffic:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    body = client.post(
        "/api/v1/traffic/events/", {"events": [counter_event(9, "unattended", "2026-11-25 14:00")]}, format="json"
    ).json()
    assert body["created"] == 1
    assert Alert.objects.filter(subsystem="onestop", state="open").count() == 1


# --- deadline warnings --------------------------------------------------------------------------


def test_the_sweep_raises_one_alert_per_unit_and_kind_and_is_idempotent(offices, software):
    now = datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ)
    push(
        software,
        dossier(code="LATE-1", status=4, due_at=local("2026-11-24 17:00"), updated="2026-11-25 08:00"),
        dossier(code="LATE-2", status=4, due_at=local("2026-11-25 09:00"), updated="2026-11-25 08:00"),
        dossier(code="SOON-1", status=4, due_at=local("2026-11-25 15:00"), updated="2026-11-25 08:00"),
        dossier(code="LATER-1", status=4, due_at=local("2026-12-10 15:00"), updated="2026-11-25 08:00"),
        dossier(code="WAIT-1", status=5, due_at=local("2026-11-24 17:00"), updated="2026-11-25 08:00"),
    )
    assert services.deadline_sweep(now=now) == {"due_soon": 1, "overdue": 2, "resolved": 0}
    overdue = Alert.objects.get(dedup_key="onestop:26080:dossiers:overdue")
    soon = Alert.objects.get(dedup_key="onestop:26080:dossiers:due_soon")
    assert overdue.severity == "critical" and "2" in overdue.title and soon.severity == "warning"
    assert services.deadline_sweep(now=now) == {"due_soon": 0, "overdue": 0, "resolved": 0}
    overdue.refresh_from_db()
    assert overdue.count == 1 and Alert.objects.count() == 2

    # Both late dossiers are done: the unit's overdue alert resolves itself.
    finished = {"status": 9, "processing_ended_at": local("2026-11-25 10:30"), "updated": "2026-11-25 10:30"}
    push(software, dossier(code="LATE-1", **finished), dossier(code="LATE-2", **finished))
    counts = services.deadline_sweep(now=now + timedelta(minutes=1))
    overdue.refresh_from_db()
    assert overdue.state == "resolved" and counts["resolved"] == 1


# --- wall ---------------------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=LOCAL_TZ))
def test_the_wall_panel(offices, software, city):
    push(
        software,
        dossier(code="A", status=4, due_at=local("2026-11-24 17:00"), updated="2026-11-25 08:00"),
        dossier(code="B", status=4, due_at=local("2026-12-24 17:00"), updated="2026-11-25 08:00", channel=1),
    )
    panel = selectors.onestop_figures(Scope(unit=city["province"]))
    kpis = {k["code"]: k["value"] for k in panel["kpis"]}
    assert kpis["in_process"] == 2 and kpis["overdue"] == 1
    assert kpis["online_rate"] == 50.0
    lists = {entry["code"]: entry for entry in panel["lists"]}
    assert {r["key"] for r in lists["score_766_by_group"]["rows"]} == {
        "transparency",
        "progress",
        "online_services",
        "online_payment",
        "satisfaction",
        "digitization",
    }
    assert lists["worst_units"]["rows"][0]["key"] == "26080"
    assert selectors.onestop_figures(Scope(unit=city["police"])) is None


def test_the_wall_keeps_the_months_rates_for_a_minute(offices, software, city, monkeypatch):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onestop import conf

    monkeypatch.setattr(conf, "FIGURES_CACHE_SECONDS", 60)
    scope = Scope(unit=city["province"])
    cache.delete(f"onestop:wall:75:{selectors.parse_period('month').label}")
    with CaptureQueriesContext(connection) as first:
        selectors.onestop_figures(scope)
    with CaptureQueriesContext(connection) as second:
        figures = selectors.onestop_figures(scope)
    assert len(second) < len(first)
    push(software, dossier(code="NEW", status=4, received_at=local("2026-11-25 08:00"), updated="2026-11-25 08:00"))
    assert {k["code"]: k["value"] for k in selectors.onestop_figures(scope)["kpis"]}["in_process"] == 1
    assert figures["kpis"][0]["code"] == "received_today"


def test_demo_offices_load_twice_without_change(city):
    from onestop.demo import load_demo_offices

    load_demo_offices()
    load_demo_offices()
    assert Office.objects.count() == 3
    assert Counter.objects.filter(camera__purpose="counter").count() == Counter.objects.count() > 0
    assert Procedure.objects.filter(name__icontains="khai sinh").exists()


# --- import -------------------------------------------------------------------------------------

CSV_HEADER = (
    "code,procedure,unit,applicant_name,status,channel,received_at,due_at,processing_ended_at,"
    "paid_online,digitized,supplement1_requested_at,supplement1_supplied_at\n"
)
CSV_ROWS = (
    CSV_HEADER
    + """IMP-1,1.001193,26080,Trần Thị Hoa,10,2,2026-11-16 08:00,2026-11-17 08:00,2026-11-16 15:00,có,1,,
IMP-2,9.999999,26080,Lê Văn Nam,4,1,2026-11-16 09:00,,,,,,
IMP-3,2.000815,26089,Phạm Minh,4,1,16/11/2026 09:30,,,0,x,17/11/2026 08:00,
IMP-4,1.001193,26080,Võ Lan,4,7,not a date,,,maybe,,,
"""
)


def test_import_reports_bad_rows_and_keeps_the_good_ones(offices, tmp_path):
    import io

    from django.core.management import call_command

    path = tmp_path / "dossiers.csv"
    path.write_text(CSV_ROWS, encoding="utf-8")
    report = tmp_path / "errors.csv"
    out, err = io.StringIO(), io.StringIO()
    call_command("onestop_import", str(path), "--errors", str(report), "--no-progress", stdout=out, stderr=err)

    assert set(Dossier.objects.values_list("code", flat=True)) == {"IMP-1", "IMP-3"}
    first = Dossier.objects.get(code="IMP-1")
    assert first.paid_online and first.digitized and first.status == 10 and first.applicant_name == "Trần Thị Hoa"
    third = Dossier.objects.get(code="IMP-3")
    assert third.received_at == datetime(2026, 11, 16, 9, 30, tzinfo=LOCAL_TZ)
    assert third.supplements.get().requested_at == datetime(2026, 11, 17, 8, 0, tzinfo=LOCAL_TZ)
    assert "2 new" in out.getvalue() and "2 bad row(s)" in out.getvalue()
    lines = err.getvalue().splitlines()
    assert "row 3 (IMP-2): procedure: Mã thủ tục hành chính không tồn tại." in lines  # Vietnamese by default
    assert {line.split(":")[1].strip() for line in lines if line.startswith("row 5")} == {
        "channel",
        "received_at",
        "paid_online",
        "updated_at",  # no stamp, and no readable time in the row to take it from
    }
    assert report.read_text(encoding="utf-8").startswith("row,code,field,message")

    # The same file again changes nothing.
    out = io.StringIO()
    call_command("onestop_import", str(path), "--no-progress", stdout=out, stderr=io.StringIO())
    assert "0 new, 0 updated, 2 unchanged" in out.getvalue()


def test_import_reads_xlsx_with_a_progress_bar(offices, tmp_path):
    import io

    from django.core.management import call_command
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "procedure", "unit", "status", "channel", "received_at", "due_at", "has_fees"])
    sheet.append(["X-1", "2.000815", "26080", 4, 2, datetime(2026, 11, 16, 8, 0), datetime(2026, 11, 17, 8, 0), 1])
    sheet.append(["X-2", "2.000815", "26080", 99, 2, datetime(2026, 11, 16, 8, 0), None, None])
    path = tmp_path / "dossiers.xlsx"
    book.save(path)
    out, err = io.StringIO(), io.StringIO()
    call_command("onestop_import", str(path), stdout=out, stderr=err)
    stored = Dossier.objects.get()
    assert stored.code == "X-1" and stored.has_fees and stored.channel == 2
    assert stored.received_at == datetime(2026, 11, 16, 8, 0, tzinfo=LOCAL_TZ)
    assert "row 3 (X-2): status:" in err.getvalue()


def test_the_dossier_list_costs_the_same_queries_for_3_or_30_dossiers(offices, software, people, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(people["leader"])
    push(software, *[dossier(code=f"Q-{n}") for n in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/onestop/dossiers/").json()["results"]) == 3
    push(software, *[dossier(code=f"Q-{n}") for n in range(3, 30)])
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/onestop/dossiers/").json()["results"]) == 30
    assert len(many) == len(few)
