"""Briefings (giao ban): the same figures as the wall for the same scope and period, on A4 and as PDF,
sent at 07:00 local to those who subscribed, around a holiday."""

import io
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from pypdf import PdfReader

from ioc import briefings
from ioc import selectors as ioc_selectors
from ioc.models import Briefing, BriefingSubscription, CalendarDay, Notification, Unit, User
from ioc.scope import Scope, scope_for_unit
from ioc.worktime import LOCAL_TZ
from reports import selectors as report_selectors
from traffic.models import Incident

pytestmark = pytest.mark.django_db

# A Monday at midnight: the weekly briefing's window is the seven days up to this moment, the very
# window of the wall's "answered on time, 7 days" when read at this moment.
MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def city_data(db):
    """Two weeks of generated reports, camera events, dossiers and indicators, up to MONDAY."""
    from indicators.demo import IndicatorsFeed

    with time_machine.travel(MONDAY - timedelta(hours=1), tick=True):
        call_command("bench_data", reports=1500, events=3000, dossiers=1500, days=14, seed=3, stdout=StringIO())
        feed = IndicatorsFeed(history=True, rounds=1, seed=3)
        feed.load()
        feed._fill_history()
    return Unit.objects.get(code="75")


def section(sections: list[dict], code: str) -> dict:
    return next(s for s in sections if s["code"] == code)


def headline(found: dict, code: str):
    return next(f for f in found["headline"] if f["code"] == code)


@pytest.fixture
def at_monday():
    with time_machine.travel(MONDAY, tick=False):
        yield briefings.window("weekly")


def test_the_reports_section_reads_as_the_wall_reads(city_data, at_monday, monkeypatch):
    monkeypatch.setattr(report_selectors, "WINDOW_CACHE_SECONDS", 0)
    for unit in (city_data, Unit.objects.get(code="26080")):
        scope = scope_for_unit(unit)
        wall = {k["code"]: k["value"] for k in report_selectors.wall_figures(scope)["kpis"]}
        found = section(briefings.sections(scope, at_monday), "reports")
        assert headline(found, "on_time")["value"] == wall["on_time_7d"]
        assert headline(found, "overdue")["value"] == wall["overdue"]
        reports = scope.filter(report_selectors.Report.objects.all(), "unit", "assigned_unit")
        slowest = report_selectors.slowest_units(reports, at_monday.start, at_monday.end, 10)
        assert [row[0] for row in found["tables"][1]["rows"]] == [r["assigned_unit__name"] for r in slowest]
    # Each ward's row counts what that ward's own briefing counts.
    wards = section(briefings.sections(scope_for_unit(city_data), at_monday), "reports")["tables"][0]["rows"]
    long_khanh = next(row for row in wards if row[0] == "Phường Long Khánh")
    own = section(briefings.sections(Scope(unit=Unit.objects.get(code="26080")), at_monday), "reports")
    assert long_khanh[1] == headline(own, "received")["value"]
    shares = [row[2] for row in wards if row[2] is not None]
    assert shares == sorted(shares)  # worst first


def test_the_one_stop_section_is_the_766_figures_of_the_same_period(city_data, at_monday, api_as):
    found = section(briefings.sections(scope_for_unit(city_data), at_monday), "onestop")
    leader = User.objects.get(username="leader")
    first, last = at_monday.start.date(), (at_monday.end - timedelta(days=1)).date()
    api = api_as(leader).get(f"/api/v1/onestop/indicators/?period=custom&start={first}&end={last}").json()
    assert headline(found, "received")["value"] == api["counts"]["received"]
    assert headline(found, "handled")["value"] == api["counts"]["handled"]
    assert headline(found, "score")["value"] == api["score"]
    groups = found["tables"][1]["rows"]
    assert [(g[0], g[1]) for g in groups] == [(g["label"], g["points"]) for g in api["groups"]]


def test_the_camera_sections_count_the_incidents_of_the_period(city_data, at_monday):
    found = section(briefings.sections(scope_for_unit(city_data), at_monday), "traffic")
    opened = Incident.objects.filter(
        camera__purpose="traffic", first_event_at__gte=at_monday.start, first_event_at__lt=at_monday.end
    )
    assert headline(found, "incidents")["value"] == opened.count()
    assert sum(row[1] for row in found["tables"][0]["rows"]) == opened.count()


def test_the_indicator_sections_show_the_wall_figures_as_they_stood(city_data, at_monday):
    from indicators.selectors import subsystem_figures

    scope = scope_for_unit(city_data)
    shown = [s for s in briefings.sections(scope, at_monday) if s["code"] in ("socioeconomic", "health", "environment")]
    assert shown
    for found in shown:
        wall = {k["label"]: k for k in subsystem_figures(found["code"], scope)["kpis"]}
        for row in found["tables"][0]["rows"]:
            assert row[2] == wall[row[0]]["value"]
        assert all(chart["svg"].startswith("<svg") for chart in found["charts"])


def test_alerts_and_directives_are_the_open_critical_ones_and_the_directive_figures(city_data, at_monday):
    context = briefings.context(city_data, at_monday)
    critical = ioc_selectors.open_alerts(scope_for_unit(city_data)).filter(severity="critical")
    assert [a.pk for a in context["alerts"]] == [a.pk for a in critical[: briefings.ALERT_LIMIT]]
    expected = ioc_selectors.directive_figures(scope_for_unit(city_data), at_monday.start, at_monday.end, MONDAY)
    assert context["directives"] == expected


def test_the_pdf_is_a4_in_vietnamese_with_page_numbers(city_data, at_monday):
    content, pages = briefings.pdf(city_data, at_monday)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == pages >= 2
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Giao ban tuần" in text and "Phản ánh hiện trường" in text and "Giám sát hành chính công" in text
    assert f"Trang 1 / {pages}" in text and f"Trang {pages} / {pages}" in text
    assert "16/11/2026 – 22/11/2026" in text


def test_a_ward_reads_its_own_briefing_only(city_data, client):
    client.force_login(User.objects.get(username="staff_26080"))
    with time_machine.travel(MONDAY + timedelta(hours=9), tick=False):
        own = client.get("/briefings/view/?unit=26080&period=weekly")
        other = client.get("/briefings/view/?unit=26089&period=weekly")
        bad = client.get("/briefings/view/?unit=26080&period=monthly")
        impossible = client.get("/briefings/view/?unit=26080&end=31/02/2026")
        edges = [client.get(f"/briefings/view/?unit=26080&end={end}") for end in ("31/12/9999", "01/01/0001")]
    assert own.status_code == 200 and "Phường Long Khánh" in own.content.decode()
    assert other.status_code == 404
    assert bad.status_code == 400 and impossible.status_code == 400
    assert [answer.status_code for answer in edges] == [400, 400]


# --- subscriptions: 07:00 local, around a holiday -----------------------------------------------


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


@pytest.fixture
def subscribed(city, people):
    leader = people["leader"]
    leader.email = "lanhdao@dongnai.gov.vn"
    leader.save()
    for period in ("daily", "weekly"):
        briefings.subscribe(user=leader, unit=city["province"], period=period)
    return leader


def _sent(period: str) -> list[Briefing]:
    return list(Briefing.objects.filter(period=period).order_by("ends_at"))


def test_daily_briefings_go_out_at_seven_on_working_days_and_cover_the_holiday_after(subscribed):
    holiday = date(2026, 11, 18)  # a Wednesday made a day off
    CalendarDay.objects.create(date=holiday, kind=CalendarDay.Kind.DAY_OFF, note="Nghỉ bù")
    for moment in (_at(date(2026, 11, 17), 6, 59), _at(date(2026, 11, 17), 7), _at(date(2026, 11, 17), 7, 15)):
        with time_machine.travel(moment, tick=False):
            briefings.send_due()
    tuesday = _sent("daily")
    assert [(b.starts_at, b.ends_at) for b in tuesday] == [(_at(date(2026, 11, 16), 0), _at(date(2026, 11, 17), 0))]
    assert Notification.objects.filter(recipient="lanhdao@dongnai.gov.vn").count() == 1  # once, not at 07:15 again
    with time_machine.travel(_at(holiday, 7), tick=False):
        briefings.send_due()
    assert len(_sent("daily")) == 1  # nothing on the holiday
    with time_machine.travel(_at(date(2026, 11, 19), 7), tick=False):
        briefings.send_due()
    thursday = _sent("daily")[-1]
    assert (thursday.starts_at, thursday.ends_at) == (_at(date(2026, 11, 17), 0), _at(date(2026, 11, 19), 0))
    mail = Notification.objects.filter(recipient="lanhdao@dongnai.gov.vn").order_by("created_at").last()
    assert "Giao ban ngày" in mail.subject and f"/briefings/{thursday.pk}.pdf" in mail.body


def test_the_weekly_briefing_goes_out_on_the_first_working_day_of_the_week(subscribed):
    CalendarDay.objects.create(date=date(2026, 11, 30), kind=CalendarDay.Kind.DAY_OFF)  # a Monday off
    with time_machine.travel(_at(date(2026, 11, 23), 7), tick=False):
        briefings.send_due()
    with time_machine.travel(_at(date(2026, 11, 30), 7), tick=False):
        briefings.send_due()
    assert len(_sent("weekly")) == 1
    with time_machine.travel(_at(date(2026, 12, 1), 7), tick=False):
        briefings.send_due()
    weeks = [(b.starts_at, b.ends_at) for b in _sent("weekly")]
    assert weeks == [
        (_at(date(2026, 11, 16), 0), _at(date(2026, 11, 23), 0)),
        (_at(date(2026, 11, 23), 0), _at(date(2026, 11, 30), 0)),
    ]


def test_the_last_twelve_stay_downloadable_for_the_area_only(subscribed, people, client):
    province = Unit.objects.get(code="75")
    with time_machine.travel(_at(date(2026, 11, 23), 8), tick=False):
        made = [
            briefings.generate(province, briefings.window("daily", _at(date(2026, 11, 23), 0) - timedelta(days=d)))
            for d in range(14)
        ]
    assert Briefing.objects.filter(unit=province, period="daily").count() == briefings.KEEP
    newest = made[0]
    client.force_login(subscribed)
    answer = client.get(f"/briefings/{newest.pk}.pdf")
    assert answer.status_code == 200 and b"".join(answer.streaming_content).startswith(b"%PDF")
    client.force_login(people["staff_lk"])
    assert client.get(f"/briefings/{newest.pk}.pdf").status_code == 404


def test_subscribing_needs_an_email_and_a_unit_in_the_area(city, people, client):
    staff = people["staff_lk"]
    client.force_login(staff)
    client.post("/briefings/", {"unit": "26080", "period": "daily"})
    assert not BriefingSubscription.objects.exists()  # no e-mail address yet
    User.objects.filter(pk=staff.pk).update(email="phuong@dongnai.gov.vn")
    client.post("/briefings/", {"unit": "26080", "period": "daily"})
    assert client.post("/briefings/", {"unit": "26089", "period": "daily"}).status_code == 404
    assert list(BriefingSubscription.objects.values_list("unit__code", "period")) == [("26080", "daily")]
    page = client.get("/briefings/")
    assert page.status_code == 200 and "Phường Long Khánh" in page.content.decode()


def test_the_directives_issued_overdue_and_done_are_listed(city, people):
    from ioc.models import Directive

    ward = city["long_khanh"]

    def issued(label, day, due, done=None):
        return Directive.objects.create(
            subject_type="reports.report",
            subject_id=label,
            subject_label=label,
            text=f"Xử lý {label}",
            owner=ward,
            issued_by=people["leader"],
            issued_at=_at(day, 9),
            due_at=_at(due, 17),
            done_at=_at(done, 10) if done else None,
        )

    issued("PA-MOI", date(2026, 11, 18), date(2026, 11, 27))
    issued("PA-TRE", date(2026, 11, 10), date(2026, 11, 17))
    issued("PA-XONG", date(2026, 11, 12), date(2026, 11, 20), done=date(2026, 11, 19))
    with time_machine.travel(MONDAY + timedelta(hours=8), tick=False):
        page = briefings.html(ward, briefings.window("weekly"))
    issued_part = page.split("Ban hành trong kỳ")[1].split("Hoàn thành trong kỳ")[0]
    overdue_part = page.split("Ban hành trong kỳ")[0].split("Quá hạn")[-1]
    done_part = page.split("Hoàn thành trong kỳ")[1]
    assert "PA-MOI" in issued_part and "PA-TRE" not in issued_part
    assert "PA-TRE" in overdue_part and "PA-MOI" not in overdue_part
    assert "PA-XONG" in done_part
