"""The whole journey in real headless Chromium: a citizen's phone, the operator's console, the
ward's workspace, and back to the citizen's tracking page, live at every step."""

import pytest

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

PHONE = {"width": 360, "height": 740}
DESK = {"width": 1600, "height": 900}


@pytest.fixture
def photo_file(tmp_path):
    from tests.images import jpeg

    path = tmp_path / "o-ga.jpg"
    path.write_bytes(jpeg().read())
    return path


def state_of(code):
    report = Report.objects.get(tracking_code=code)
    return report.status, report.first_answered_at is not None, report.photos.count()


def test_citizen_to_operator_to_ward_and_back(categories, people, collected_static, browser, photo_file):  # noqa: F811
    for who in ("operator", "staff_lk"):
        on_server(with_real_password, user=people[who], password=PASSWORD)
    with asgi_server() as url:
        operator = browser.new_context(viewport=DESK).new_page()
        violations = [watch_policy_violations(operator)]
        log_in(operator, url, "operator", PASSWORD, "/console/")
        operator.locator('#connection[data-state="connected"]').wait_for(timeout=10_000)
        ward = browser.new_context(viewport=DESK).new_page()
        violations.append(watch_policy_violations(ward))
        log_in(ward, url, "staff_26080", PASSWORD, "/workspace/")
        ward.locator('#connection[data-state="connected"]').wait_for(timeout=10_000)

        # 1. The citizen reports from a phone, with a photo.
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        violations.append(watch_policy_violations(phone))
        phone.goto(f"{url}/report/")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits 360 px
        phone.select_option("#id_category", "o-ga")
        phone.fill("#id_description", "Ổ gà sâu trước số 12 đường Hùng Vương, xe máy dễ té ngã.")
        phone.set_input_files("#id_photos", str(photo_file))
        phone.select_option("#id_unit", "26080")
        phone.click("#submit-report")
        code = phone.locator("#tracking-code").inner_text().strip()
        secret = phone.locator("#tracking-secret").inner_text().strip()
        assert code.startswith("PA-") and secret

        # 2. It appears on the console without a reload; the operator accepts and assigns by keyboard.
        operator.locator(f'.queue-item:has-text("{code}")').wait_for(timeout=10_000)
        operator.locator(f'#triage:has-text("{code}")').wait_for(timeout=10_000)
        operator.keyboard.press("a")
        operator.locator('#console-status[data-kind="ok"]').wait_for(timeout=10_000)
        operator.keyboard.press("g")
        operator.locator(f'.queue-item:has-text("{code}")').wait_for(state="detached", timeout=10_000)

        # 3. The ward's staff see it arrive in their workspace and answer it.
        item = ward.locator(f'.queue-item:has-text("{code}")')
        item.wait_for(timeout=10_000)
        item.click()
        ward.locator(f'#work-detail:has-text("{code}")').wait_for(timeout=10_000)
        ward.click('[data-opens="answer"]')
        ward.fill("#answer-text", "Phường đã cử tổ công tác vá ổ gà, hoàn thành trong ngày mai.")
        ward.click('form[data-step="answer"] button[type=submit]')
        ward.locator('#workspace-status[data-kind="ok"]').wait_for(timeout=10_000)

        status, answered, photos = on_server(state_of, code=code)
        assert status == Status.ANSWERED and answered and photos == 1

        # 4. The citizen's tracking page shows the public answer.
        phone.goto(f"{url}/track/?code={code}&secret={secret}")
        phone.get_by_text("Phường đã cử tổ công tác vá ổ gà").wait_for(timeout=10_000)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The Content-Security-Policy refused nothing the portal, the console or the workspace needs.
    assert [seen for page in violations for seen in page] == []
