"""The field reports demo feed: plausible reports in Đồng Nai, handled through the services, clean stop."""

import io
import os
import re
import signal
import time

import pytest
from django.core.management import CommandError, call_command

from ioc import geo
from ioc.demo import load_demo_city
from reports.models import Report, ReportEvent, Status

pytestmark = pytest.mark.django_db

FAST = ["--interval", "0", "--speed", "20000"]
VIETNAMESE = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.IGNORECASE)


def feed(*args) -> str:
    out = io.StringIO()
    call_command("reports_demo_feed", *FAST, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_city():
    load_demo_city()


def test_feed_submits_and_handles_reports(demo_city):
    output = feed("--count", "6", "--seed", "1")

    reports = list(Report.objects.select_related("unit"))
    assert len(reports) == 6
    assert all(r.unit.path.startswith("/75/") for r in reports)
    assert all(VIETNAMESE.search(r.description) for r in reports)
    assert all(r.address and r.latitude and r.longitude for r in reports)

    handled = [
        r
        for r in reports
        if {ReportEvent.Action.ACCEPTED, ReportEvent.Action.ASSIGNED} <= set(r.events.values_list("action", flat=True))
    ]
    assert handled
    assert all(r.assigned_unit is not None for r in handled)
    assert not ReportEvent.objects.filter(actor=None, actor_label="").exists()
    assert output.count(" new PA-") == 6
    assert "done: 6 reports" in output


def test_feed_bursts_come_from_the_same_spot(demo_city):
    feed("--count", "8", "--seed", "3", "--burst-every", "1")

    reports = list(Report.objects.order_by("received_at"))
    assert len(reports) == 8
    near = [
        (a, b)
        for i, a in enumerate(reports)
        for b in reports[i + 1 :]
        if a.category_id == b.category_id and geo.distance_m(a.latitude, a.longitude, b.latitude, b.longitude) < 100
    ]
    assert near
    duplicates = Report.objects.filter(status=Status.DUPLICATE)
    assert all(d.duplicate_of_id for d in duplicates)


def test_seeded_runs_repeat(demo_city):
    feed("--count", "4", "--seed", "7")
    first = list(Report.objects.order_by("pk").values_list("description", "address", "category__code"))
    Report.objects.all().delete()
    feed("--count", "4", "--seed", "7")
    second = list(Report.objects.order_by("pk").values_list("description", "address", "category__code"))
    assert first == second


class SignalOnFirstReport(io.StringIO):
    """Output that sends the process a signal when the first report is announced."""

    def __init__(self, signum):
        super().__init__()
        self.signum, self.sent = signum, False

    def write(self, text):
        if " new PA-" in text and not self.sent:
            self.sent = True
            os.kill(os.getpid(), self.signum)
        return super().write(text)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_feed_stops_cleanly_on_signal(demo_city, signum):
    before = signal.getsignal(signum)
    out = SignalOnFirstReport(signum)
    started = time.monotonic()
    call_command("reports_demo_feed", "--interval", "30", stdout=out)  # endless until the signal
    assert time.monotonic() - started < 5
    assert out.sent
    assert out.getvalue().rstrip().endswith("stopped")
    assert signal.getsignal(signum) == before
    assert Report.objects.count() == 1


def test_without_demo_data_it_says_what_to_run():
    with pytest.raises(CommandError, match="load_demo"):
        call_command("reports_demo_feed", "--count", "1", stdout=io.StringIO())
