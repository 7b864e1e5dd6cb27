"""`manage.py bench_data`: a year of generated data that the screens read as they read real data.

At a tiny size (2,000 reports, 5,000 camera events, 2,000 dossiers): the rows are consistent with
what the services would have written (deadlines from the SLA engine, milestones in order, statuses
that match them), the console's queue, the snapshot, the Decision 766 figures and the camera figures
count them, the same seed gives the same rows, and the queue reads in the same number of queries on
small and on larger data.
"""

import random
from collections import Counter
from copy import copy
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ioc import scale
from ioc.management.commands.bench_data import loaded
from ioc.models import User
from ioc.scope import EVERYTHING
from ioc.worktime import WorkCalendar, due_at
from onestop import selectors as onestop_selectors
from onestop.models import Dossier, DossierStatusChange
from reports import selectors as report_selectors
from reports.models import FINISHED_STATUSES, Level, Report, ReportEvent, Status
from reports.services import _set_deadlines
from traffic.models import CameraEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime():
    """Yesterday mid-morning, local time: generated data peaks by day and is sparse at night, so the
    queue's newest reports and the dossiers falling due depend on the hour the test runs at."""
    morning = (timezone.localtime() - timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    with time_machine.travel(morning, tick=True):
        yield


SMALL = {"reports": 2000, "events": 5000, "dossiers": 2000}


def bench_data(*, seed=7, reset=True, **sizes):
    call_command("bench_data", reset=reset, seed=seed, stdout=StringIO(), **sizes)


@pytest.fixture
def generated(db):
    bench_data(**SMALL)


def kpis(snapshot: dict, code: str) -> dict:
    panel = next(s for s in snapshot["subsystems"] if s["code"] == code)
    return {k["code"]: k["value"] for k in panel["figures"]["kpis"]}


def test_the_asked_sizes_are_loaded_and_recorded(generated):
    assert Report.objects.count() == 2000
    assert CameraEvent.objects.count() == 5000
    assert Dossier.objects.count() == 2000
    assert loaded()["counts"] == SMALL
    assert loaded()["seed"] == 7


def test_reports_are_what_the_services_would_have_written(generated):
    now = timezone.now()
    reports = list(Report.objects.select_related("category"))
    for report in reports:
        moments = [report.received_at, report.accepted_at, report.assigned_at, report.first_answered_at,
                   report.resolved_at, report.closed_at]  # fmt: skip
        known = [m for m in moments if m is not None]
        assert all(m <= now for m in known), report.tracking_code
        if report.status not in (Status.REJECTED, Status.DUPLICATE):
            assert known == sorted(known), report.tracking_code
        assert (report.accepted_at is None) == (report.status in (Status.RECEIVED, Status.REJECTED, Status.DUPLICATE))
        assert (report.assigned_unit_id is not None) == (report.assigned_at is not None)
        if report.status in (Status.RESOLVED, Status.CLOSED):
            assert report.resolved_at and report.first_answered_at
        if report.status in FINISHED_STATUSES:
            assert report.resolved_at or report.closed_at
        if report.status == Status.DUPLICATE:
            assert report.duplicate_of_id is not None
    # The deadlines are the SLA engine's, from the receipt.
    for report in random.Random(1).sample(reports, 100):
        expected = copy(report)
        _set_deadlines(expected, report.received_at)
        assert (report.response_due_at, report.resolution_due_at) == (
            expected.response_due_at,
            expected.resolution_due_at,
        )
    # Every report has its submission in the timeline, every answer its step.
    assert ReportEvent.objects.filter(action=ReportEvent.Action.SUBMITTED).count() == 2000
    assert ReportEvent.objects.filter(action=ReportEvent.Action.ANSWERED).count() == len(
        [r for r in reports if r.first_answered_at]
    )
    # Plausible proportions: most of the month-old reports are finished, some answered late, urgent ones.
    old = [r for r in reports if r.received_at < now - timedelta(days=30)]
    assert sum(r.status in FINISHED_STATUSES for r in old) > 0.85 * len(old)
    answered = [r for r in reports if r.first_answered_at]
    late = sum(r.first_answered_at > r.response_due_at for r in answered)
    assert 0.03 * len(answered) < late < 0.3 * len(answered)
    assert Report.objects.filter(level=Level.URGENT).count() > 50
    # Over the whole year, in every month.
    months = {timezone.localtime(r.received_at).strftime("%Y-%m") for r in reports}
    assert len(months) >= 12


def test_reports_reach_the_console_queue_and_the_snapshot(generated, api_as, monkeypatch):
    monkeypatch.setattr(report_selectors, "WINDOW_CACHE_SECONDS", 0)  # figures of this data, not an earlier test's
    operator, leader = User.objects.get(username="operator"), User.objects.get(username="leader")
    queue = Report.objects.filter(status__in=report_selectors.QUEUE_STATUSES)
    answer = api_as(operator).get("/api/v1/reports/queue/")
    assert answer.status_code == 200
    assert answer.json()["count"] == queue.count() > 0

    snapshot = api_as(leader).get("/api/v1/dashboard/snapshot/").json()
    figures = kpis(snapshot, "reports")
    assert figures["triage"] == queue.count()
    assert figures["overdue"] == Report.objects.filter(report_selectors.overdue_q()).count() > 0
    assert figures["on_time_30d"] is not None and 60 < figures["on_time_30d"] <= 100


def test_dossiers_count_in_decision_766(generated):
    now = timezone.now()
    year = onestop_selectors.parse_period("year")
    figures = onestop_selectors.indicators(EVERYTHING, year, now)
    assert figures["counts"]["handled"] > 0
    assert 75 < figures["rates"]["on_time_rate"] < 100
    assert 25 < figures["rates"]["online_rate"] < 50
    # Dossiers carry their due dates as the services set them, and their history.
    assert not Dossier.objects.filter(received_at__isnull=False, due_at__lt=F("received_at")).exists()
    assert not Dossier.objects.filter(finished_at__gt=now).exists()
    assert DossierStatusChange.objects.values("dossier").distinct().count() == 2000
    # Open past their due moment: already counted into their unit's alert, as the sweep would have.
    open_late = Dossier.objects.filter(finished_at__isnull=True, status__in=[2, 4, 6], due_at__lt=now)
    assert not open_late.filter(overdue_alerted_at__isnull=True).exists()


def test_events_count_in_the_camera_figures(generated, api_as):
    leader = User.objects.get(username="leader")
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    violations = CameraEvent.objects.filter(occurred_at__gte=today, kind__is_violation=True).count()
    snapshot = api_as(leader).get("/api/v1/dashboard/snapshot/").json()
    assert kpis(snapshot, "traffic")["violations_today"] == violations
    events = CameraEvent.objects.all()
    assert events.values("external_id").distinct().count() == 5000
    # The daily rhythm: the rush hours are busier than the small hours.
    hours = Counter(timezone.localtime(e).hour for e in events.values_list("occurred_at", flat=True))
    assert hours[8] + hours[17] > 5 * (hours[2] + hours[3])
    assert (
        events.filter(kind__is_violation=True).exclude(plate="").count()
        == events.filter(kind__is_violation=True).count()
    )


def rows() -> tuple:
    return (
        list(Report.objects.order_by("id").values_list("tracking_code", "status", "received_at", "unit__code")),
        list(Dossier.objects.order_by("id").values_list("code", "status", "received_at", "finished_at")),
        list(CameraEvent.objects.order_by("id").values_list("external_id", "kind__code", "occurred_at")),
    )


def test_the_same_seed_gives_the_same_rows(db):
    sizes = {"reports": 300, "events": 500, "dossiers": 300}
    bench_data(seed=3, **sizes)
    first = rows()
    bench_data(seed=3, **sizes)
    assert rows() == first
    bench_data(seed=4, **sizes)
    assert rows()[0] != first[0]


def test_the_fast_calendar_gives_the_sla_engines_deadlines(db):
    calendar = WorkCalendar.load()
    now = timezone.now()
    fast = scale.FastCalendar(calendar, now - timedelta(days=400), now)
    rng = random.Random(5)
    for _ in range(300):
        start = now - timedelta(seconds=rng.randrange(0, 365 * 86400))
        for amount, unit in ((8, "working_hours"), (5, "working_days"), (2, "clock_hours"), (0.5, "working_days")):
            assert fast.due(start.timestamp(), amount, unit) == pytest.approx(
                due_at(start, amount, unit, calendar).timestamp(), abs=1e-3
            )
        end = start + timedelta(seconds=rng.randrange(0, 30 * 86400))
        assert fast.between(start.timestamp(), end.timestamp()) == pytest.approx(
            calendar.working_time_between(start, end).total_seconds(), abs=1e-3
        )


def queue_queries(client) -> int:
    client.get("/api/v1/reports/queue/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/reports/queue/").status_code == 200
    return len(queries)


def test_the_queue_reads_in_the_same_queries_on_small_and_larger_data(db, api_as):
    queue = Report.objects.filter(Q(status__in=report_selectors.QUEUE_STATUSES))
    bench_data(reports=200, events=0, dossiers=0, days=2)  # two days: a queue to read
    assert 0 < queue.count() < 50
    client = api_as(User.objects.get(username="operator"))
    small = queue_queries(client)
    bench_data(reports=5000, events=0, dossiers=0, days=5, reset=False, seed=8)
    assert Report.objects.count() == 5200
    assert queue.count() > 50  # a full page
    assert queue_queries(client) == small
