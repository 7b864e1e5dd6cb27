"""A phone call becomes a triaged report from the keyboard alone, in a real headless Chromium."""

import time

import pytest

from ioc.models import Notification
from reports.models import Channel, Report, Status
from tests.browser import (  # noqa: F401  (fixtures)
    asgi_server,
    browser,
    log_in,
    on_server,
    watch_policy_violations,
    with_real_password,
)
from tests.conftest import PASSWORD
from tests.test_console_browser import screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPING_DELAY_MS = 40  # a practised operator: about 25 characters a second
ADDRESS = "Trước nhà số 12 đường Hùng Vương, phường Long Khánh"


def latest_hotline_report():
    return Report.objects.filter(channel=Channel.HOTLINE).select_related("category", "unit").first()


def test_a_call_is_taken_with_the_keyboard_alone_in_under_30_seconds(
    categories,
    people,
    submit,
    collected_static,  # noqa: F811
    browser,  # noqa: F811
):
    on_server(with_real_password, user=people["operator"], password=PASSWORD)
    on_server(submit, address=ADDRESS)  # a known place: an earlier report there
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems = watch_policy_violations(page)
    # A slow place search (a busy server, a far centre): the operator types on regardless, and the
    # keys pressed before its answer arrives must still land where they were meant to.
    page.add_init_script(
        "const plain = window.fetch; window.fetch = (url, init) => String(url).includes('/places/')"
        " ? new Promise((done) => setTimeout(done, 400)).then(() => plain(url, init)) : plain(url, init);"
    )
    with asgi_server() as url:
        log_in(page, url, "operator", PASSWORD, "/console/")
        page.keyboard.press("h")  # from the console, the hotline intake is one key away
        page.wait_for_url(f"{url}/console/hotline/")
        page.locator("#hl-assign optgroup").first.wait_for(state="attached", timeout=10_000)
        assert page.evaluate("document.activeElement.id") == "hl-phone"

        def type(text):
            page.keyboard.type(text, delay=TYPING_DELAY_MS)

        started = time.monotonic()
        type("0912 345 678")
        page.keyboard.press("Tab")
        type("Trần Thị Bình")
        page.keyboard.press("Tab")
        type("o ga")  # no accents: finds "Ổ gà"
        page.keyboard.press("Tab")  # takes the highlighted category, on to the description
        type("Ổ gà sâu giữa đường, xe máy vừa ngã")
        page.keyboard.press("Tab")
        type("hung vuong")
        page.keyboard.press("Enter")  # takes the known address, on to the level
        page.keyboard.press("1")  # urgent
        page.keyboard.press("Control+Enter")
        code = page.locator("#hotline-result .hl-code-value")
        code.wait_for(timeout=10_000)
        elapsed = time.monotonic() - started
        print(f"keyboard-only hotline intake: {elapsed:.1f} s")
        assert elapsed < 30

        tracking_code = code.inner_text()
        assert "0912345678" in page.locator("#hotline-result .hl-sms").inner_text()
        # Ready for the next call: the form is empty and the phone field has the focus.
        assert page.evaluate("document.activeElement.id") == "hl-phone"
        assert page.input_value("#hl-phone") == "" and page.input_value("#hl-category") == ""
        assert page.input_value("#hl-description") == "" and page.input_value("#hl-place") == ""
        assert not problems, problems
        page.screenshot(path=str(screenshot_path("hotline.png")))

    report = on_server(latest_hotline_report)
    assert report.tracking_code == tracking_code
    assert (report.category.code, report.level, report.status) == ("o-ga", "urgent", Status.ACCEPTED)
    assert report.reporter_phone == "0912345678" and report.reporter_name == "Trần Thị Bình"
    assert report.address == ADDRESS and report.unit.code == "26080" and report.latitude is not None
    sms = on_server(Notification.objects.filter(channel=Notification.Channel.SMS, recipient="0912345678").get)
    assert tracking_code in sms.body
