"""The operator sees the triage suggestion beside the report and takes it whole with one key, in Chromium."""

import pytest

from ioc.models import Unit
from ioc.services import unit_upsert
from reports import services
from reports.demo import load_demo_categories
from reports.models import Category, Report, Status
from tests.browser import asgi_server, browser, log_in, on_server, with_real_password  # noqa: F401
from tests.conftest import LONG_KHANH, PASSWORD
from tests.test_console_browser import screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POTHOLE = "Ổ gà lớn giữa đường Hùng Vương, mặt đường sụt lún, xe máy té, trời tối đèn đường không sáng"
NEARBY = (LONG_KHANH[0] + 0.0001, LONG_KHANH[1])  # about 11 m away


def catalogue_with_keywords(city):
    """The demo categories and their keywords; roads go to the construction department."""
    unit_upsert(code="75-SXD", name="Sở Xây dựng", kind=Unit.Kind.DEPARTMENT, parent=city["province"])
    load_demo_categories()
    return Category.objects.get(code="o-ga-mat-duong")


def submit(category, description, where=LONG_KHANH):
    report, _ = services.report_submit(
        category=category, description=description, latitude=where[0], longitude=where[1]
    )
    return report


def triaged_earlier(category, operator):
    """The same pothole reported a little earlier, already with the department."""
    report = submit(category, "Đường Hùng Vương có ổ gà lớn, mặt đường sụt lún nguy hiểm", NEARBY)
    services.report_accept(report_id=report.pk, user=operator, category=category)
    return services.report_assign(report_id=report.pk, user=operator, unit=Unit.objects.get(code="75-SXD"))


def test_the_suggestion_is_shown_and_s_takes_it_whole(city, categories, people, collected_static, browser):  # noqa: F811
    operator = on_server(with_real_password, user=people["operator"], password=PASSWORD)
    roads = on_server(catalogue_with_keywords, city=city)
    earlier = on_server(triaged_earlier, category=roads, operator=operator)
    # The citizen picked the catalogue's other pothole category; the words say damaged road.
    pothole = on_server(submit, category=categories["pothole"], description=POTHOLE)
    spam = on_server(submit, category=categories["pothole"], description="Cho vay tiền nhanh, gọi ngay")

    page = browser.new_page(viewport={"width": 1600, "height": 900})
    with asgi_server() as url:
        log_in(page, url, "operator", PASSWORD, "/console/")
        page.locator(f'.queue-item:has-text("{pothole.tracking_code}")').click()
        box = page.locator("#triage .triage-suggestion")
        box.wait_for(timeout=10_000)
        text = box.text_content()
        assert "Gợi ý" in text and "Ổ gà, hư hỏng mặt đường" in text and "Sở Xây dựng" in text
        assert "quy tắc từ khóa" in text and "ổ gà" in box.locator(".word").all_inner_texts()
        assert box.locator(".suggestion-category .confidence").inner_text().endswith("%")
        assert page.locator("#triage .actions .key-hint-main kbd").inner_text() == "S"

        # The same pothole reported earlier and already triaged: first among the similar, likely the same.
        first = page.locator("#triage .suggestions li").first
        first.locator(".likely-same").wait_for(timeout=10_000)
        assert earlier.tracking_code in first.inner_text() and first.locator(".score").inner_text().endswith("%")
        page.screenshot(path=str(screenshot_path("console-suggestion.png")))

        page.keyboard.press("s")
        page.locator(f'.queue-item:has-text("{pothole.tracking_code}")').wait_for(state="detached", timeout=10_000)
        taken = on_server(Report.objects.select_related("category", "assigned_unit").get, pk=pothole.pk)
        assert taken.status == Status.ASSIGNED and taken.accepted_at is not None
        assert taken.category.code == "o-ga-mat-duong" and taken.assigned_unit.code == "75-SXD"

        # Words that match no keyword: no suggestion, and S does nothing.
        # The next report's own heading (its code also stands in the pothole's list of similar reports).
        page.locator(f'#triage .detail-head .code:has-text("{spam.tracking_code}")').wait_for(timeout=10_000)
        assert box.count() == 0 and page.locator("#triage .key-hint-main").count() == 0
        before = page.locator("#console-status").inner_text()
        page.keyboard.press("s")
        page.keyboard.press("?")  # keys are handled in order: once the help shows, S has been handled
        page.locator("#help").wait_for(timeout=10_000)
        assert page.locator("#console-status").inner_text() == before
        assert page.locator(f'.queue-item:has-text("{spam.tracking_code}")').count() == 1
        assert on_server(Report.objects.get, pk=spam.pk).status == Status.RECEIVED
