"""Indicator ingestion besides the API: file import, pull sources on a schedule, and the demo feed."""

import functools
import http.server
import json
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from indicators import tasks
from indicators.demo import load_demo_indicators
from indicators.models import Indicator, Observation, PullSource
from indicators.selectors import subsystem_figures
from ioc.scope import Scope
from ioc.worktime import LOCAL_TZ

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicators(city):
    return {
        "revenue": Indicator.objects.create(
            code="budget_revenue", subsystem="socioeconomic", name="Thu ngân sách", period="monthly"
        ),
        "occupancy": Indicator.objects.create(
            code="hotel_occupancy", subsystem="tourism", name="Công suất phòng", period="daily", unit_of_measure="%"
        ),
    }


def run_import(path, *args):
    out = StringIO()
    call_command("import_observations", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


CSV_ROWS = """indicator,unit,period,value
budget_revenue,75,2026-01,5120.5
budget_revenue,75,2026-02,"4980,25"
no_such_indicator,75,2026-03,10
budget_revenue,75,2026-03,khoảng 5000
budget_revenue,99999,2026-03,5000
hotel_occupancy,26080,2026-03-01,61.5
"""


def test_import_reports_bad_rows_and_keeps_the_good_ones(indicators, tmp_path):
    path = tmp_path / "thu-ngan-sach.csv"
    path.write_text(CSV_ROWS, encoding="utf-8")
    report = run_import(path)
    # The command answers in the deployment's language, Vietnamese by default.
    assert "row 4: indicator: Chỉ tiêu không tồn tại." in report
    assert "row 5: value: Phải là số." in report
    assert "row 6: unit: Đơn vị không tồn tại" in report
    assert "3 created" in report and "3 error" in report
    assert sorted(Observation.objects.values_list("indicator__code", "value")) == [
        ("budget_revenue", Decimal("4980.25")),
        ("budget_revenue", Decimal("5120.5")),
        ("hotel_occupancy", Decimal("61.5")),
    ]
    assert set(Observation.objects.values_list("source", flat=True)) == {"import:thu-ngan-sach.csv"}
    again = run_import(path)
    assert "3 unchanged" in again and Observation.objects.count() == 3


def test_import_reads_xlsx_with_numeric_codes_and_dates(indicators, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Indicator", "Unit", "Period", "Value"])
    sheet.append(["hotel_occupancy", 26080, timezone.datetime(2026, 3, 2), 58])
    sheet.append(["hotel_occupancy", 26080, "2026-03-03", "n/a"])
    sheet.append([None, None, None, None])
    path = tmp_path / "luu-tru.xlsx"
    book.save(path)
    report = run_import(path)
    assert "row 3: value: Phải là số." in report
    observation = Observation.objects.get()
    assert observation.unit.code == "26080" and observation.value == 58
    assert timezone.localtime(observation.period_start).date().isoformat() == "2026-03-02"


def test_import_refuses_a_file_without_the_needed_columns(indicators, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "x.csv"
    path.write_text("chi_tieu,gia_tri\nbudget_revenue,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        run_import(path)


# --- pull sources -------------------------------------------------------------------------------------


@pytest.fixture
def http_files(tmp_path):
    """A local web server on 127.0.0.1 serving tmp_path; yields (base URL, directory)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def test_pull_sources_run_on_their_schedule_through_the_same_ingestion(indicators, city, http_files):
    base, folder = http_files
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    (folder / "tourism.json").write_text(
        json.dumps({"observations": [{"indicator": "hotel_occupancy", "period": yesterday, "value": 63.2}]})
    )
    (folder / "finance.csv").write_text(
        "indicator;unit;period;value\nbudget_revenue;75;2026-01;5100\nhotel_occupancy;75;2026-01-05;50\n"
    )
    tourism = PullSource.objects.create(
        name="so-du-lich", url=f"{base}/tourism.json", format="json", unit=city["long_khanh"], schedule_minutes=60
    )
    finance = PullSource.objects.create(
        name="so-tai-chinh",
        url=f"{base}/finance.csv",
        format="csv",
        unit=city["province"],
        subsystems=["socioeconomic"],
        schedule_minutes=60,
    )
    missing = PullSource.objects.create(name="gone", url=f"{base}/gone.json", format="json", unit=city["province"])

    results = {r["source"]: r for r in tasks.pull_sources()}
    assert results["so-du-lich"]["created"] == 1
    assert results["so-tai-chinh"]["created"] == 1 and results["so-tai-chinh"]["error"] == 1
    assert results["gone"]["status"] == "error"
    stored = Observation.objects.get(indicator__code="hotel_occupancy")
    assert stored.unit == city["long_khanh"] and stored.source == "pull:so-du-lich"
    finance.refresh_from_db()
    missing.refresh_from_db()
    assert finance.last_status == "ok" and "tourism" in finance.last_message  # the refused row is named
    assert missing.last_status == "error" and "404" in missing.last_message

    assert tasks.pull_sources() == []  # nothing is due again within the hour
    PullSource.objects.filter(pk=tourism.pk).update(last_run_at=timezone.now() - timedelta(minutes=61))
    again = tasks.pull_sources()
    assert [(r["source"], r["unchanged"]) for r in again] == [("so-du-lich", 1)]


def test_the_beat_schedule_runs_the_pull_task():
    from ioc.celery import app

    assert any(e["task"] == "indicators.tasks.pull_sources" for e in app.conf.beat_schedule.values())


# --- demo ----------------------------------------------------------------------------------------------


# Late in a year, with no hour turning between the two runs: early January has no figure of the new
# year yet, so no progress to its plan to show.
@time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ), tick=False)
def test_demo_feed_fills_all_five_panels_and_a_restart_changes_nothing(city):
    load_demo_indicators()
    load_demo_indicators()  # idempotent
    out = StringIO()
    call_command("indicators_demo_feed", "--rounds=1", "--interval=0", "--seed=1", stdout=out)
    assert "history" in out.getvalue() and "stopped" in out.getvalue()
    province = Scope(unit=city["province"])
    for code in ("socioeconomic", "health", "education", "tourism", "environment"):
        figures = subsystem_figures(code, province)
        assert figures and figures["kpis"], code
        assert all(len(k["spark"]) > 1 for k in figures["kpis"] if k["code"] not in ("pupils", "schools")), code
    environment = subsystem_figures("environment", province)
    assert {s["code"] for s in environment["stations"]} == {"BH-KK-01", "LK-KK-01", "BH-TV-01"}
    revenue = next(k for k in subsystem_figures("socioeconomic", province)["kpis"] if k["code"] == "budget_revenue")
    assert 0 < revenue["target"]["percent"] < 150
    count = Observation.objects.count()
    again = StringIO()
    call_command("indicators_demo_feed", "--rounds=1", "--interval=0", stdout=again)
    history = again.getvalue().splitlines()[0]
    assert "'created': 0" in history and "'replaced': 0" in history
    assert Observation.objects.count() == count


class SignalOnFirstRound(StringIO):
    """Sends the process a stop signal once the feed reports its first round."""

    def __init__(self, signum):
        super().__init__()
        self.signum, self.sent = signum, False

    def write(self, text):
        if "round:" in text and not self.sent:
            self.sent = True
            os.kill(os.getpid(), self.signum)
        return super().write(text)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_demo_feed_stops_cleanly_on_signal(city, signum):
    load_demo_indicators()
    before = signal.getsignal(signum)
    out = SignalOnFirstRound(signum)
    started = time.monotonic()
    call_command("indicators_demo_feed", "--interval=30", "--no-history", stdout=out)  # endless until the signal
    assert time.monotonic() - started < 5
    assert out.sent and out.getvalue().rstrip().endswith("stopped")
    assert signal.getsignal(signum) == before


def test_demo_feed_without_demo_data_says_what_to_run(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="load_demo"):
        call_command("indicators_demo_feed", "--rounds=1", stdout=StringIO())
