"""The wall in a real headless Chromium: nine panels, live connection, an alert pushed from the server."""

import pytest

from ioc import services
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


@pytest.fixture
def browser_page(browser):  # noqa: F811
    return browser.new_page(viewport={"width": 1920, "height": 1080})


@pytest.fixture
def leader(people):
    return with_real_password(people["leader"], PASSWORD)


@pytest.fixture
def camera(city):
    from traffic.models import Camera

    return Camera.objects.create(
        code="LK-QL1A-01",
        name="QL1A - Ngã tư Long Khánh",
        purpose="traffic",
        unit=city["long_khanh"],
        latitude=10.9412,
        longitude=107.2389,
    )


def test_leader_sees_nine_panels_live_and_a_new_alert_without_reload(
    city,
    leader,
    camera,
    collected_static,
    browser_page,  # noqa: F811
):
    page = browser_page
    violations = watch_policy_violations(page)
    with asgi_server() as url:
        log_in(page, url, "leader", PASSWORD, "/wall/")

        assert page.locator(".panel").count() == 9
        connection = page.locator("#connection")
        connection.and_(page.locator('[data-state="connected"]')).wait_for(timeout=10_000)
        # Subsystems without data say so instead of showing zeros; the traffic panel has its camera.
        page.locator(".panel-empty").first.wait_for()
        assert page.locator('.panel[data-subsystem="reports"] .panel-empty').count() == 1
        page.locator('.panel[data-subsystem="traffic"] .kpi').first.wait_for()

        # The map shows the subsystems' layers: here the one camera, offline until it beats.
        page.locator("#map .marker.shape-camera.state-offline").first.wait_for(timeout=5_000)

        # Nothing scrolls at 1920x1080.
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")

        on_server(
            services.alert_raise,
            subsystem="traffic",
            severity="critical",
            title="Tai nạn trên QL1A Km 1835",
            unit=city["long_khanh"],
            dedup_key="accident-km1835",
        )
        # Within seconds (the live path's own latency is measured in bench/, not here: a loaded CI box).
        item = page.locator("#ticker li.critical", has_text="Tai nạn trên QL1A Km 1835")
        item.wait_for(timeout=5_000)
        badge = page.locator('.panel[data-subsystem="traffic"] .badge.critical')
        badge.and_(page.locator('[data-count="1"]')).wait_for(timeout=5_000)
        assert page.title().startswith("(1)")
        page.screenshot(path=str(screenshot_path()))
    assert violations == []  # the Content-Security-Policy refused nothing the wall needs


def screenshot_path():
    from django.conf import settings

    path = settings.VAR_DIR / "screenshots"
    path.mkdir(exist_ok=True)
    return path / "wall.png"
