"""The ward's workspace in headless Chromium: the report first, then only the steps its status
allows, in the order of the work; a sent form clears and the page says what was done. And the
citizen, on a phone, following the report with the code typed in lower case and seeing their photo."""

import time

import pytest

from reports import services
from reports.models import Report, Status
from tests.browser import (  # noqa: F401  (fixtures)
    asgi_server,
    browser,
    log_in,
    on_server,
    watch_policy_violations,
    with_real_password,
)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1400, "height": 900}
PHONE = {"width": 360, "height": 740}
ANSWER = "Tổ công tác đã ra hiện trường, sẽ vá ổ gà trong hôm nay."


def assigned_report(submit, people, city):
    from tests.images import jpeg

    report, secret = submit(photos=[jpeg()])
    services.report_accept(report_id=report.pk, user=people["operator"])
    services.report_assign(report_id=report.pk, user=people["operator"], unit=city["long_khanh"])
    return report.tracking_code, secret


def status_of(code):
    report = Report.objects.get(tracking_code=code)
    return report.status, list(report.answers.values_list("text", flat=True))


def test_the_report_comes_before_its_steps_and_a_sent_form_clears(
    submit,
    people,
    city,
    collected_static,
    browser,  # noqa: F811
):
    on_server(with_real_password, user=people["staff_lk"], password=PASSWORD)
    code, secret = on_server(assigned_report, submit=submit, people=people, city=city)
    with asgi_server() as url:
        page = browser.new_context(viewport=DESK).new_page()
        violations = watch_policy_violations(page)
        log_in(page, url, "staff_26080", PASSWORD, "/workspace/")
        page.locator(f'.queue-item:has-text("{code}")').click()
        page.locator(f'#work-detail:has-text("{code}")').wait_for(timeout=10_000)

        # The complaint, its photo, map and timeline come first; the steps below them.
        description = page.locator("#work-detail .description").bounding_box()
        steps = page.locator("#work-actions").bounding_box()
        assert description["y"] < steps["y"]
        page.locator("#work-detail .photos img").wait_for(timeout=10_000)
        page.locator("#work-detail .mini-map").wait_for(timeout=10_000)
        assigned = page.locator(".step-buttons button:visible").all_inner_texts()
        assert assigned == ["Bắt đầu xử lý", "Trả lời người dân", "Xác nhận đã xử lý xong", "Trả lại"], assigned
        assert page.locator("#work-actions form:visible").count() == 0  # no empty form until asked for

        # Start: it is now in progress, so "start" is no longer offered.
        page.click('[data-step="start"]')
        page.locator('#workspace-status[data-kind="ok"]').wait_for(timeout=10_000)
        page.locator('[data-step="start"]').wait_for(state="hidden", timeout=10_000)
        assert on_server(status_of, code=code)[0] == Status.IN_PROGRESS

        # Answer: the form opens, is sent, clears and closes; the status line says what happened.
        page.click('[data-opens="answer"]')
        assert page.locator("#answer-photos").get_attribute("capture") == "environment"
        assert page.locator("#answer-photos").get_attribute("accept") == "image/*"
        page.fill("#answer-text", ANSWER)
        page.click('#form-answer button[type="submit"]')
        page.locator("#form-answer").wait_for(state="hidden", timeout=10_000)
        assert page.input_value("#answer-text") == ""
        said = page.locator("#workspace-status").inner_text()
        assert code in said and "công khai" in said, said
        status, answers = on_server(status_of, code=code)
        assert status == Status.IN_PROGRESS and answers == [ANSWER]  # answered while at work: still at work
        assert violations == []

        # The citizen types the code in lower case on a phone and sees the photo they sent.
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        phone.goto(f"{url}/track/")
        phone.fill("#track-code", " " + code.lower() + " ")
        phone.fill("#track-secret", secret.lower())
        phone.click(".track-form button[type=submit]")
        phone.get_by_text(ANSWER).wait_for(timeout=10_000)
        photo = phone.locator(".photos img").first
        photo.wait_for(timeout=10_000)
        # The element is there before its picture is: wait for the picture itself (the check, not a
        # page function, polls it: the page's CSP refuses evaluated strings).
        loaded = "(img) => img.complete && img.naturalWidth > 0"
        deadline = time.monotonic() + 10
        while not phone.evaluate(loaded, photo.element_handle()) and time.monotonic() < deadline:
            phone.wait_for_timeout(100)
        assert phone.evaluate(loaded, photo.element_handle())
        assert phone.locator(".step span:visible").count() == 6  # every step named, on a phone too
