"""Leaders' directives (ý kiến chỉ đạo): given on a report with a due date, followed up in the owner
unit's workspace, marked done once, and counted for the briefing (overdue, done on time or late)."""

import time
from datetime import datetime, timedelta

import pytest
import time_machine

from ioc import selectors, services
from ioc.errors import Conflict, PermissionDenied, ValidationError
from ioc.models import Directive, Notification
from ioc.scope import scope_for
from ioc.worktime import LOCAL_TZ
from tests.browser import (  # noqa: F401  (fixtures)
    asgi_server,
    browser,
    log_in,
    on_server,
    watch_policy_violations,
    with_real_password,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# A Wednesday morning, a working day: every test runs at this moment whatever the real clock says.
WEDNESDAY = datetime(2026, 11, 25, 9, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        yield traveller


def directive_url(report):
    return f"/api/v1/reports/{report.pk}/directive/"


def test_a_leaders_directive_reaches_the_owner_units_workspace_and_no_other_ward(clock, people, api_as, submit, client):
    people["staff_lk"].email = "lk@example.vn"
    people["staff_lk"].save()
    report, _secret = submit()
    body = {"text": "Khắc phục ổ gà trước thứ Sáu.", "due_at": "2026-11-27"}
    answer = api_as(people["leader"]).post(directive_url(report), body, format="json")
    assert answer.status_code == 200, answer.content
    directive = Directive.objects.get(subject_type="reports.report", subject_id=str(report.pk))
    # A date alone is the end of that working day, local time.
    assert directive.due_at == datetime(2026, 11, 27, 17, 0, tzinfo=LOCAL_TZ)
    assert directive.owner.code == "26080" and directive.issued_by == people["leader"]
    assert report.tracking_code in directive.subject_label
    assert Notification.objects.filter(recipient="lk@example.vn", body__contains="ổ gà").count() == 1

    listed = api_as(people["staff_lk"]).get("/api/v1/directives/?open=true").json()["results"]
    assert [(d["id"], d["text"], d["overdue"], d["open"]) for d in listed] == [
        (directive.pk, "Khắc phục ổ gà trước thứ Sáu.", False, True)
    ]
    assert api_as(people["staff_bl"]).get("/api/v1/directives/").json()["results"] == []
    assert [d["id"] for d in api_as(people["leader"]).get("/api/v1/directives/").json()["results"]] == [directive.pk]
    # The timeline keeps the directive as before.
    timeline = api_as(people["staff_lk"]).get(f"/api/v1/reports/{report.pk}/").json()["timeline"]
    assert any(e["action"] == "directive" and "ổ gà" in e["note"] for e in timeline)
    # The workspace page has the section the list is drawn in.
    client.force_login(people["staff_lk"])
    page = client.get("/workspace/").content.decode()
    assert 'id="directives"' in page and "/api/v1/directives/?open=true" in page


def test_without_a_due_date_a_directive_is_due_in_three_working_days(clock, people, api_as, submit):
    report, _secret = submit()
    answer = api_as(people["leader"]).post(directive_url(report), {"text": "Báo cáo kết quả."}, format="json")
    assert answer.status_code == 200, answer.content
    # Wednesday 09:00 + 3 working days: Monday 09:00 (the weekend does not count).
    assert Directive.objects.get().due_at == datetime(2026, 11, 30, 9, 0, tzinfo=LOCAL_TZ)


def test_the_owner_marks_it_done_once(clock, people, api_as, submit):
    report, _secret = submit()
    api_as(people["leader"]).post(directive_url(report), {"text": "Xử lý ngay.", "due_at": "2026-11-26T10:00"})
    directive = Directive.objects.get()
    url = f"/api/v1/directives/{directive.pk}/done/"
    assert api_as(people["staff_bl"]).post(url, {"note": "x"}, format="json").status_code == 404
    done = api_as(people["staff_lk"]).post(url, {"note": "Đã vá ổ gà."}, format="json")
    assert done.status_code == 200, done.content
    assert (done.json()["open"], done.json()["on_time"], done.json()["done_note"]) == (False, True, "Đã vá ổ gà.")
    again = api_as(people["staff_lk"]).post(url, {"note": "Lần nữa"}, format="json")
    assert again.status_code == 409 and again.json()["detail"]
    directive.refresh_from_db()
    assert directive.done_note == "Đã vá ổ gà." and directive.done_by == people["staff_lk"]
    assert api_as(people["staff_lk"]).get("/api/v1/directives/?open=true").json()["results"] == []
    assert len(api_as(people["staff_lk"]).get("/api/v1/directives/?open=false").json()["results"]) == 1
    with pytest.raises(Conflict):
        services.directive_done(directive_id=directive.pk, user=people["leader"], note="")


def test_staff_and_operators_cannot_issue(clock, city, people, api_as, submit):
    report, _secret = submit()
    for who in ("staff_lk", "operator"):
        body = {"text": "x", "due_at": "2026-11-27"}
        assert api_as(people[who]).post(directive_url(report), body, format="json").status_code == 403
    with pytest.raises(PermissionDenied):
        services.directive_issue(
            subject_type="reports.report",
            subject_id=report.pk,
            subject_label="x",
            text="x",
            owner=city["long_khanh"],
            due_at=WEDNESDAY + timedelta(days=1),
            user=people["staff_lk"],
        )
    assert not Directive.objects.exists()


@pytest.mark.parametrize(
    "due, says",
    [
        ("2026-02-30", "ISO 8601"),  # no such day
        ("2026-11-25T25:00", "ISO 8601"),
        ("next friday", "ISO 8601"),
        ("2026-11-24", "tương lai"),  # yesterday: "in the future"
        ("2026-11-25T08:59+07:00", "tương lai"),  # a minute ago
        ("2027-12-01", "một năm"),  # "one year ahead"
    ],
)
def test_bad_due_dates_are_a_400_saying_why(clock, people, api_as, submit, due, says):
    report, _secret = submit()
    leader = api_as(people["leader"])
    answer = leader.post(directive_url(report), {"text": "x", "due_at": due}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400, answer.content
    assert says in answer.json()["due_at"][0], answer.json()
    assert not Directive.objects.exists()


def test_an_empty_or_too_long_text_is_refused(clock, city, people):
    fields = {
        "subject_type": "reports.report",
        "subject_id": "1",
        "subject_label": "x",
        "owner": city["long_khanh"],
        "due_at": WEDNESDAY + timedelta(days=1),
        "user": people["leader"],
    }
    for text in ("   ", "x" * 2001):
        with pytest.raises(ValidationError) as refused:
            services.directive_issue(text=text, **fields)
        assert "text" in refused.value.message_dict
    # Another ward's unit is outside a ward leader's area.
    from tests.conftest import make_user

    ward_leader = make_user("leader_bl", "leader", city["binh_loc"])
    with pytest.raises(ValidationError) as refused:
        services.directive_issue(**{**fields, "user": ward_leader, "text": "x"})
    assert "owner" in refused.value.message_dict


def _issue(city, people, label, due_at, owner="long_khanh"):
    return services.directive_issue(
        subject_type="reports.report",
        subject_id=label,
        subject_label=label,
        text=f"Chỉ đạo {label}",
        owner=city[owner],
        due_at=due_at,
        user=people["leader"],
    )


def test_the_briefing_figures_overdue_done_on_time_and_late(clock, city, people, api_as):
    week_start = WEDNESDAY - timedelta(days=2)  # Monday 09:00
    late = _issue(city, people, "late", WEDNESDAY + timedelta(hours=2))
    on_time = _issue(city, people, "on-time", WEDNESDAY + timedelta(days=1))
    done_late = _issue(city, people, "done-late", WEDNESDAY + timedelta(hours=1))
    elsewhere = _issue(city, people, "elsewhere", WEDNESDAY + timedelta(hours=1), owner="binh_loc")
    clock.move_to(WEDNESDAY + timedelta(hours=3))  # 12:00: three are past due
    services.directive_done(directive_id=on_time.pk, user=people["staff_lk"], note="Xong")
    services.directive_done(directive_id=done_late.pk, user=people["staff_lk"], note="Muộn")
    now = WEDNESDAY + timedelta(hours=4)
    clock.move_to(now)

    figures = selectors.directive_figures(
        scope_for(people["staff_lk"]), week_start, week_start + timedelta(days=7), now
    )
    assert set(figures) == {"overdue", "done", "issued"}
    assert [row["label"] for row in figures["overdue"]] == ["late"]
    row = figures["overdue"][0]
    assert row == {
        "id": late.pk,
        "subject_type": "reports.report",
        "subject_id": "late",
        "label": "late",
        "text": "Chỉ đạo late",
        "owner": "Phường Long Khánh",
        "due_at": late.due_at,
        "done_at": None,
        "on_time": None,
    }
    assert {row["label"]: row["on_time"] for row in figures["done"]} == {"on-time": True, "done-late": False}
    assert [row["label"] for row in figures["issued"]] == ["late", "on-time", "done-late"]
    # The province's leader sees every ward's; a period before the directives has none issued or done.
    everything = selectors.directive_figures(
        scope_for(people["leader"]), week_start, week_start + timedelta(days=7), now
    )
    assert {row["label"] for row in everything["overdue"]} == {"late", "elsewhere"}
    before = selectors.directive_figures(scope_for(people["leader"]), week_start - timedelta(days=7), week_start, now)
    assert before["done"] == before["issued"] == [] and len(before["overdue"]) == 2
    # Seen at an earlier moment, a directive done since counts as still open then.
    earlier = selectors.directive_figures(
        scope_for(people["staff_lk"]), week_start, week_start + timedelta(days=7), WEDNESDAY + timedelta(minutes=150)
    )
    assert {row["label"] for row in earlier["overdue"]} == {"late", "done-late"}
    assert all(row["done_at"] is None for row in earlier["overdue"])

    # The API's overdue filter agrees; another ward's is not there.
    overdue = api_as(people["staff_lk"]).get("/api/v1/directives/?overdue=true").json()["results"]
    assert [(d["id"], d["overdue"]) for d in overdue] == [(late.pk, True)]
    assert elsewhere.pk not in [
        d["id"] for d in api_as(people["staff_lk"]).get("/api/v1/directives/").json()["results"]
    ]


def test_keys_may_not_read_or_close_directives(clock, city, people):
    from tests.world import key_client

    directive = _issue(city, people, "k", WEDNESDAY + timedelta(days=1))
    _key, plain = services.api_key_create(name="all", scopes=list(services.API_KEY_SCOPES), unit=city["province"])
    key = key_client(plain)
    assert key.get("/api/v1/directives/").status_code == 403
    assert key.post(f"/api/v1/directives/{directive.pk}/done/", {"note": "x"}, format="json").status_code == 403
    directive.refresh_from_db()
    assert directive.done_at is None


# --- the workspace, in headless Chromium ------------------------------------------------------------
# The server runs on the real clock, so the moments below are relative to it (valid at any time of day).


def _report_with_an_overdue_directive(submit, people, city):
    from django.utils import timezone

    report, _secret = submit()
    now = timezone.now()
    Directive.objects.create(
        subject_type="reports.report",
        subject_id=str(report.pk),
        subject_label=f"{report.tracking_code}: quá hạn",
        text="Báo cáo ngay kết quả.",
        owner=city["long_khanh"],
        issued_by=people["leader"],
        issued_at=now - timedelta(days=4),
        due_at=now - timedelta(hours=2),
    )
    # Another ward's directive never shows in Long Khánh's workspace.
    Directive.objects.create(
        subject_type="reports.report",
        subject_id="0",
        subject_label="Bình Lộc",
        text="Không phải của phường Long Khánh.",
        owner=city["binh_loc"],
        issued_at=now,
        due_at=now + timedelta(days=1),
    )
    return report.pk


def _leader_directs(report_id, people):
    from django.utils import timezone

    from reports.services import report_directive

    report_directive(
        report_id=report_id,
        user=people["leader"],
        text="Khắc phục trong tuần.",
        due_at=timezone.now() + timedelta(days=2),
    )


def _states():
    return sorted((d.text, d.done_at is not None, d.done_note) for d in Directive.objects.filter(owner__code="26080"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_workspace_lists_directives_overdue_first_live_and_marks_one_done(
    submit,
    people,
    city,
    collected_static,
    browser,  # noqa: F811
):
    on_server(with_real_password, user=people["staff_lk"], password=PASSWORD)
    report_id = on_server(_report_with_an_overdue_directive, submit=submit, people=people, city=city)
    with asgi_server() as url:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        violations = watch_policy_violations(page)
        log_in(page, url, "staff_26080", PASSWORD, "/workspace/")
        page.locator("#directive-list .directive-overdue").wait_for(timeout=10_000)
        page.locator('#connection[data-state="connected"]').wait_for(timeout=10_000)
        assert "Bình Lộc" not in page.locator("#directives").inner_text()

        # A leader's directive arrives live, after the overdue one, and the status line says so.
        on_server(_leader_directs, report_id=report_id, people=people)
        page.locator('#directive-list .directive:has-text("Khắc phục trong tuần.")').wait_for(timeout=10_000)
        texts = page.locator("#directive-list .directive-text").all_inner_texts()
        assert texts == ["Báo cáo ngay kết quả.", "Khắc phục trong tuần."], texts
        assert page.locator("#directive-list .directive").first.get_attribute("class") == "directive directive-overdue"
        assert page.locator("#directives-count").inner_text() == "2"

        # D opens the first (the overdue one); its note is sent and it leaves the list.
        page.keyboard.press("d")
        page.locator("#directive-list .directive-done textarea").first.fill("Đã báo cáo lãnh đạo.")
        page.locator('#directive-list .directive-done button[type="submit"]').click()
        page.locator('#workspace-status[data-kind="ok"]').wait_for(timeout=10_000)
        deadline = time.monotonic() + 10
        count = "(node) => node.textContent"
        while page.evaluate(count, page.locator("#directives-count").element_handle()) != "1":
            assert time.monotonic() < deadline, "the directive marked done did not leave the list"
            page.wait_for_timeout(100)
        assert page.locator("#directive-list .directive-text").all_inner_texts() == ["Khắc phục trong tuần."]
        assert on_server(_states) == [
            ("Báo cáo ngay kết quả.", True, "Đã báo cáo lãnh đạo."),
            ("Khắc phục trong tuần.", False, ""),
        ]
        assert violations == []
