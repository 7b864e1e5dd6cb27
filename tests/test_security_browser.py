"""In real headless Chromium, under the Content-Security-Policy: a citizen refused for sending too often
keeps the form and the photo; Swagger UI still starts."""

import time

import pytest
from django.core.cache import cache

from reports.models import Report
from tests.browser import asgi_server, browser, on_server, watch_policy_violations  # noqa: F401
from tests.images import jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The ceiling of the address the browser comes from, as the throttle keeps it (ioc.throttling).
CEILING_KEY = "throttle_report_submit_address_address-127.0.0.1"


def photo_count(code):
    return Report.objects.get(tracking_code=code).photos.count()


def test_a_refused_citizen_keeps_the_form_and_the_photo_and_sends_later(
    categories,
    collected_static,
    browser,  # noqa: F811
    tmp_path,
):
    photo = tmp_path / "den-duong.jpg"
    photo.write_bytes(jpeg().read())
    with asgi_server() as url:
        phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True).new_page()
        violations = watch_policy_violations(phone)
        phone.goto(f"{url}/report/")
        phone.select_option("#id_category", "o-ga")
        phone.fill("#id_description", "Đèn đường trước chợ Long Khánh tắt ba đêm nay.")
        phone.set_input_files("#id_photos", str(photo))
        phone.select_option("#id_unit", "26080")
        # Many citizens behind this address have used up its ceiling just now.
        cache.set(CEILING_KEY, [time.time()] * 600, 3600)
        phone.click("#submit-report")

        refused = phone.locator("#submit-refused")
        refused.wait_for(state="visible", timeout=10_000)
        assert "Bạn có thể gửi phản ánh của mình từ" in refused.inner_text()
        assert phone.input_value("#id_description") == "Đèn đường trước chợ Long Khánh tắt ba đêm nay."
        assert phone.evaluate("document.getElementById('id_photos').files.length") == 1
        assert phone.is_enabled("#submit-report")

        cache.delete(CEILING_KEY)  # an hour later
        phone.click("#submit-report")
        code = phone.locator("#tracking-code").inner_text().strip()
        assert on_server(photo_count, code=code) == 1
    assert violations == []


def test_swagger_ui_starts_under_its_policy(collected_static, browser):  # noqa: F811
    with asgi_server() as url:
        page = browser.new_page()
        violations = watch_policy_violations(page)
        page.goto(f"{url}/api/docs/")
        page.locator(".swagger-ui .opblock").first.wait_for(timeout=15_000)
    assert violations == []


def test_a_citizen_whose_report_meets_a_server_briefly_away_keeps_the_form_and_the_photo(
    categories,
    collected_static,
    browser,  # noqa: F811
    tmp_path,
):
    photo = tmp_path / "ngap.jpg"
    photo.write_bytes(jpeg().read())
    with asgi_server() as url:
        phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True).new_page()
        phone.goto(f"{url}/report/")
        phone.select_option("#id_category", "o-ga")
        phone.fill("#id_description", "Ngập sâu trước trường tiểu học sau cơn mưa.")
        phone.set_input_files("#id_photos", str(photo))
        phone.select_option("#id_unit", "26080")

        # The database is away for a moment: the server answers the post with its 503 page.
        def unavailable(route):
            if route.request.method != "POST":
                return route.continue_()
            return route.fulfill(status=503, headers={"Retry-After": "5"}, content_type="text/html", body="<p></p>")

        phone.route(f"{url}/report/", unavailable)
        phone.click("#submit-report")
        notice = phone.locator("#submit-refused")
        notice.wait_for(state="visible", timeout=10_000)
        assert "tạm gián đoạn" in notice.inner_text().lower()
        assert phone.input_value("#id_description") == "Ngập sâu trước trường tiểu học sau cơn mưa."
        assert phone.evaluate("document.getElementById('id_photos').files.length") == 1
        assert phone.is_enabled("#submit-report")

        phone.unroute(f"{url}/report/")  # back a moment later
        phone.click("#submit-report")
        code = phone.locator("#tracking-code").inner_text().strip()
        assert on_server(photo_count, code=code) == 1
