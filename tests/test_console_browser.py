"""The operator triages from the keyboard alone, in a real headless Chromium, live."""

import pytest

from reports import services
from reports.models import Report, Status
from tests.browser import asgi_server, browser, log_in, on_server, with_real_password  # noqa: F401
from tests.conftest import LONG_KHANH, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def read(function, **kwargs):
    return on_server(function, **kwargs)


def test_keyboard_only_triage_with_live_arrivals(categories, people, collected_static, browser):  # noqa: F811
    on_server(with_real_password, user=people["operator"], password=PASSWORD)
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    with asgi_server() as url:
        log_in(page, url, "operator", PASSWORD, "/console/")
        page.locator('#connection[data-state="connected"]').wait_for(timeout=10_000)

        # A citizen reports a fire while the console is open: it appears without a reload.
        fire, _ = on_server(
            services.report_submit,
            category=categories["fire"],
            description="Cháy kho hàng gần chợ",
            latitude=LONG_KHANH[0],
            longitude=LONG_KHANH[1],
        )
        row = page.locator(f'.queue-item:has-text("{fire.tracking_code}")')
        row.wait_for(timeout=10_000)
        page.locator(f'#triage:has-text("{fire.tracking_code}")').wait_for(timeout=10_000)

        page.keyboard.press("1")  # accept as urgent
        page.locator('#console-status[data-kind="ok"]').wait_for(timeout=10_000)
        page.keyboard.press("g")  # assign to the suggested unit: the police for a fire
        page.locator(f'.queue-item:has-text("{fire.tracking_code}")').wait_for(state="detached", timeout=10_000)
        fire = read(Report.objects.select_related("assigned_unit").get, pk=fire.pk)
        assert fire.status == Status.ASSIGNED and fire.level == "urgent" and fire.assigned_unit.code == "75-CA"

        spam, _ = on_server(
            services.report_submit,
            category=categories["pothole"],
            description="Cho vay tiền nhanh, gọi ngay",
            latitude=LONG_KHANH[0],
            longitude=LONG_KHANH[1],
        )
        page.locator(f'.queue-item:has-text("{spam.tracking_code}")').wait_for(timeout=10_000)
        page.keyboard.press("j")
        page.locator(f'#triage:has-text("{spam.tracking_code}")').wait_for(timeout=10_000)
        page.keyboard.press("r")  # reject: the default reason is ready, Enter confirms
        page.keyboard.press("Enter")
        page.locator(f'.queue-item:has-text("{spam.tracking_code}")').wait_for(state="detached", timeout=10_000)
        assert read(Report.objects.get, pk=spam.pk).status == Status.REJECTED

        # The open alert raised by the urgent report is acknowledged from the keyboard too.
        page.keyboard.press("n")
        page.keyboard.press("e")
        page.locator(".alert.alert-acknowledged").first.wait_for(timeout=10_000)
        page.screenshot(path=str(screenshot_path("console.png")))


def screenshot_path(name):
    from django.conf import settings

    path = settings.VAR_DIR / "screenshots"
    path.mkdir(exist_ok=True)
    return path / name


def test_a_long_queue_pages_with_its_true_count_and_a_step_moves_to_the_next_report(
    categories,
    people,
    city,
    collected_static,
    browser,  # noqa: F811
):
    from tests.test_report_queue import make_open_reports

    on_server(with_real_password, user=people["operator"], password=PASSWORD)
    on_server(make_open_reports, categories=categories, unit=city["long_khanh"], n=230)
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    with asgi_server() as url:
        log_in(page, url, "operator", PASSWORD, "/console/")
        items = page.locator("#queue .queue-item")
        page.locator('#queue-count:text-is("230")').wait_for(timeout=10_000)  # the true count, not a page's
        assert items.count() == 100
        assert "130" in page.locator("#queue-more").inner_text()
        page.locator("#queue-more").click()  # or scroll down to it: the next page
        items.nth(199).wait_for(timeout=10_000)
        page.locator("#queue-more").scroll_into_view_if_needed()  # seen: the last page loads by itself
        items.nth(229).wait_for(timeout=10_000)
        assert items.count() == 230 and page.locator("#queue-more").is_hidden()

        # Past the 200th: accept with a capital A (it stays, to assign), then assign it away.
        acted = items.nth(210)
        code = acted.locator(".code").inner_text()
        acted.click()
        page.locator(f'#triage:has-text("{code}")').wait_for(timeout=10_000)
        if read(Report.objects.get, tracking_code=code).status == Status.RECEIVED:
            page.keyboard.press("Shift+A")
            page.locator("#triage .status-accepted").wait_for(timeout=10_000)
            assert page.locator(f'.queue-item[aria-selected="true"]:has-text("{code}")').count() == 1
        # Accepting recomputed its deadlines from the policy, so it may have moved: what is below it now.
        below = page.locator('.queue-item[aria-selected="true"] + .queue-item').get_attribute("data-id")
        page.keyboard.press("g")
        page.locator(f'.queue-item:has-text("{code}")').wait_for(state="detached", timeout=10_000)
        page.locator(f'.queue-item[data-id="{below}"][aria-selected="true"]').wait_for(timeout=10_000)
        page.locator('#queue-count:text-is("229")').wait_for(timeout=10_000)
        assert read(Report.objects.get, tracking_code=code).status == Status.ASSIGNED
        page.keyboard.press("Home")
        page.screenshot(path=str(screenshot_path("console-long-queue.png")))
