"""The wall in a real headless Chromium: nine panels, live connection, an alert pushed from the server."""

import pytest
from django.core.management import call_command

from ioc import services
from tests.browser import CHROMIUM_ARGS, asgi_server, require_chromium
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def collected_static():
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture
def browser_page():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        yield page
        browser.close()


@pytest.fixture
def leader(people, settings):
    """The leader, with a password the server process (production hashers) can check."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    people["leader"].set_password(PASSWORD)
    people["leader"].save()
    return people["leader"]


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
    city, leader, camera, collected_static, browser_page
):
    page = browser_page
    with asgi_server() as url:
        page.goto(f"{url}/login/?next=/wall/")
        page.fill("#id_username", "leader")
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{url}/wall/")

        assert page.locator(".panel").count() == 9
        connection = page.locator("#connection")
        connection.and_(page.locator('[data-state="connected"]')).wait_for(timeout=10_000)
        # Subsystems without data say so instead of showing zeros; the traffic panel has its camera.
        page.locator(".panel-empty").first.wait_for()
        assert page.locator('.panel[data-subsystem="reports"] .panel-empty').count() == 1
        page.locator('.panel[data-subsystem="traffic"] .kpi').first.wait_for()

        # The map shows the subsystems' layers: here the one camera, offline until it beats.
        page.locator("#map path.leaflet-interactive").first.wait_for(timeout=5_000)

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
        item = page.locator("#ticker li.critical", has_text="Tai nạn trên QL1A Km 1835")
        item.wait_for(timeout=2_000)
        badge = page.locator('.panel[data-subsystem="traffic"] .badge.critical')
        badge.and_(page.locator('[data-count="1"]')).wait_for(timeout=2_000)
        assert page.title().startswith("(1)")
        page.screenshot(path=str(screenshot_path()))


def on_server(function, **kwargs):
    """Run a service call the way the server does, in a plain thread (Playwright holds an event loop here)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return function(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def screenshot_path():
    from django.conf import settings

    path = settings.VAR_DIR / "screenshots"
    path.mkdir(exist_ok=True)
    return path / "wall.png"
