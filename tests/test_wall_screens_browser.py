"""The wall as a command-centre screen, in a real headless Chromium, on the demo city with its feeds:
nothing cut off at four sizes, a playlist that turns and pauses, a moving ticker, a map that asks
nothing of the internet, and a dimmed wall when the connection is lost."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from ioc import services
from ioc.demo import load_demo_city
from ioc.models import Alert, Unit, User, WallPlaylist, WallScreen
from tests.browser import (  # noqa: F401  (fixtures)
    asgi_server,
    browser,
    free_port,
    log_in,
    on_server,
    with_real_password,
)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1366, 768), (1920, 1080), (2560, 1440), (3840, 2160)]
LONG_NAME = "Phường Xuân Thanh Trung Tâm Hành Chính Thành Phố Long Khánh Mở Rộng"

# Every panel, and every text inside one, must fit its box: nothing hidden, nothing sliced.
CUT_OFF = """() => {
  const problems = [];
  const visible = (n) => n.offsetParent !== null && getComputedStyle(n).visibility !== "hidden";
  for (const panel of document.querySelectorAll(".panel")) {
    if (!visible(panel)) continue;
    const box = panel.getBoundingClientRect();
    const code = panel.dataset.subsystem;
    if (box.right > innerWidth + 1 || box.bottom > innerHeight + 1) problems.push(code + ": panel off the screen");
    for (const page of panel.querySelectorAll(".panel-page:not([hidden])")) {
      if (page.scrollHeight > page.clientHeight + 1 || page.scrollWidth > page.clientWidth + 1)
        problems.push(code + ": page overflows " + page.scrollHeight + ">" + page.clientHeight);
    }
    const texts = "h2, h3, .kpi-value, .kpi-label, .row-label, .row-value, .badge, .panel-empty";
    for (const node of panel.querySelectorAll(texts)) {
      if (!visible(node)) continue;
      const r = node.getBoundingClientRect();
      if (node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).display !== "inline")
        problems.push(code + ": text wider than its box: " + node.textContent.slice(0, 40));
      if (r.right > box.right + 1 || r.bottom > box.bottom + 1 || r.left < box.left - 1)
        problems.push(code + ": outside its panel: " + node.textContent.slice(0, 40));
    }
  }
  for (const part of document.querySelectorAll(".wall-header, .wall-map, .ticker-line, .screen-alerts")) {
    const r = part.getBoundingClientRect();
    const off = r.right > innerWidth + 1 || r.bottom > innerHeight + 1;
    if (visible(part) && off) problems.push(part.className + " off the screen");
  }
  if (document.documentElement.scrollWidth > innerWidth || document.documentElement.scrollHeight > innerHeight)
    problems.push("the page scrolls");
  return problems;
}"""


@pytest.fixture
def demo_wall(collected_static):  # noqa: F811
    """The demo city after a short run of its feeds, with a very long ward name and many alerts."""
    load_demo_city(password=PASSWORD)
    call_command("reports_demo_feed", "--interval", "0", "--speed", "20000", "--count", "40", "--seed", "7")
    call_command("onestop_demo_feed", "--interval", "0", "--speed", "20000", "--count", "20", "--seed", "7")
    call_command("indicators_demo_feed", "--speed", "20000", "--duration", "3", "--seed", "7")
    call_command("traffic_demo_feed", "--speed", "200", "--duration", "4", "--seed", "7")
    ward = Unit.objects.get(code="75-LK-XT") if Unit.objects.filter(code="75-LK-XT").exists() else None
    ward = ward or Unit.objects.filter(kind=Unit.Kind.WARD).order_by("code").first()
    Unit.objects.filter(pk=ward.pk).update(name=LONG_NAME)
    for n in range(24):
        services.alert_raise(
            subsystem=["reports", "traffic", "onestop", "environment"][n % 4],
            severity="critical" if n % 3 == 0 else "warning",
            title=f"Cảnh báo thử nghiệm số {n + 1}: ùn tắc kéo dài trên đường Nguyễn Ái Quốc",
            unit=ward,
            dedup_key=f"wall-test-{n}",
        )
    leader = User.objects.get(username="leader")
    with_real_password(leader, PASSWORD)
    return {"ward": ward}


def fall_overdue(unit_code):
    """A new report in the unit, past its answer deadline, as the deadline sweep finds it."""
    from reports import services as reports_services
    from reports.models import Category, Report

    unit = Unit.objects.get(code=unit_code)
    report, _ = reports_services.report_submit(
        category=Category.objects.filter(active=True).order_by("pk").first(),
        description="Đèn đường hỏng cả đoạn, tối om",
        latitude=unit.latitude,
        longitude=unit.longitude,
    )
    Report.objects.filter(pk=report.pk).update(response_due_at=timezone.now() - timedelta(hours=1))
    reports_services.deadline_sweep()


def screens_dir():
    from django.conf import settings

    path = settings.VAR_DIR / "screens"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_wall(browser, url, size, query="?paused=1"):  # noqa: F811
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    log_in(page, url, "leader", PASSWORD, "/wall/" + query)
    page.locator('#connection[data-state="connected"]').wait_for(timeout=15_000)
    page.locator(".panel .kpi").first.wait_for(timeout=10_000)
    page.wait_for_timeout(500)  # the map and the panels' pages settle
    return page


def test_at_four_sizes_nothing_is_cut_off_and_nothing_is_asked_of_the_internet(demo_wall, browser):  # noqa: F811
    """One setup of the demo city for several checks (it takes most of the time)."""
    with asgi_server(IOC_MAP_TILES_URL="") as url:
        for size in SIZES:
            page = open_wall(browser, url, size)
            codes = page.evaluate("[...document.querySelectorAll('.panel')].map((p) => p.dataset.subsystem)")
            assert len(codes) == 9
            for screen in ["overview", *codes]:  # the default playlist, moved through by hand
                if screen != "overview":
                    page.keyboard.press("ArrowRight")
                    page.locator(f'body[data-screen="{screen}"]').wait_for(timeout=2_000)
                    page.wait_for_timeout(150)
                problems = page.evaluate(CUT_OFF)
                assert problems == [], f"{size} {screen}: {problems}"
                page.screenshot(path=str(screens_dir() / f"wall-{screen}-{size[0]}x{size[1]}.png"))
            if size == SIZES[0]:
                # What did not fit waits on the panel's next page, and the pages turn by themselves.
                page.keyboard.press("Home")  # back on the overview, the fullest screen
                paged = page.locator(".panel").filter(has=page.locator(".panel-pages", has_text=re.compile(r"^1/\d+$")))
                paged.first.wait_for(timeout=5_000)
                code = paged.first.get_attribute("data-subsystem")
                panel = page.locator(f'.panel[data-subsystem="{code}"]')
                hidden = panel.locator(".panel-page[hidden] .kpi, .panel-page[hidden] .panel-list li").count()
                assert hidden > 0
                panel.locator(".panel-pages", has_text=re.compile(r"^2/")).wait_for(timeout=12_000)
            page.close()

        # The ticker runs through every alert and a critical one takes the top; with no tile server
        # the map asks nothing of the internet and still shows every outline and a legend.
        requests = []
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.on("request", lambda request: requests.append(request.url))
        log_in(page, url, "leader", PASSWORD, "/wall/?paused=1")
        page.locator('#connection[data-state="connected"]').wait_for(timeout=15_000)
        page.locator("#map path").first.wait_for(timeout=10_000)
        page.wait_for_timeout(1_000)

        open_count = on_server(
            lambda: Alert.objects.filter(
                state__in=["open", "acknowledged"], severity__in=["critical", "warning"]
            ).count()
        )
        assert page.locator("#ticker li[data-alert-id]").count() == open_count
        assert page.locator("#ticker.moving").count() == 1
        # Each reads in full: no item is cut with an ellipsis or squeezed.
        assert page.evaluate(
            "[...document.querySelectorAll('#ticker li')].every((li) => li.scrollWidth <= li.clientWidth + 1)"
        )
        on_server(
            services.alert_raise,
            subsystem="traffic",
            severity="critical",
            title="Tai nạn liên hoàn trên QL1A Km 1835",
            unit=demo_wall["ward"],
            dedup_key="wall-test-accident",
        )
        page.locator("#ticker-top.flash", has_text="Tai nạn liên hoàn trên QL1A Km 1835").wait_for(timeout=2_000)
        critical = on_server(lambda: Alert.objects.filter(state="open", severity="critical").count())
        assert page.title().startswith(f"({critical})")
        assert page.locator("#favicon").get_attribute("href").startswith("data:image/png")

        assert page.locator("#map path").count() >= 95  # every ward and commune of the province
        legend = page.locator("#map-legend")
        assert legend.locator(".swatch").count() >= 3 and legend.locator(".marker").count() >= 3
        ours = urlsplit(url).netloc
        assert [r for r in requests if urlsplit(r).netloc not in (ours, "")] == []

        # A ward with nothing overdue changes colour when a report there falls overdue.
        code = page.evaluate(
            """async () => (await (await fetch("/api/v1/map/units/")).json()).features
                 .find((f) => f.properties.kind !== "province" && f.properties.values.overdue.value === 0)
                 .properties.code"""
        )
        fill = f"document.querySelector('path.unit-{code}').getAttribute('fill')"
        before = page.evaluate(fill)
        on_server(fall_overdue, unit_code=code)
        for _tick in range(50):  # the map re-reads its layers 2 s after a live update
            if page.evaluate(fill) != before:
                break
            page.wait_for_timeout(200)
        assert page.evaluate(fill) != before


@pytest.fixture
def hall_playlist(demo_wall):
    playlist = WallPlaylist.objects.create(slug="hall", name="Sảnh chính", page_seconds=8)
    for position, screen in enumerate(["overview", "reports", "traffic"]):
        WallScreen.objects.create(playlist=playlist, position=position, screen=screen, seconds=5)
    return playlist


def test_the_playlist_turns_pauses_on_keys_a_drill_down_comes_back_and_a_lost_connection_dims(hall_playlist, browser):  # noqa: F811,E501
    port = free_port()
    with asgi_server(port=port) as url:
        page = open_wall(browser, url, (1920, 1080), query="?playlist=hall")
        assert page.locator("body").get_attribute("data-screen") == "overview"
        page.locator('body[data-screen="reports"]').wait_for(timeout=8_000)
        page.locator('body[data-screen="traffic"]').wait_for(timeout=8_000)
        # A key moves by hand and pauses the rotation.
        page.keyboard.press("ArrowLeft")
        page.locator('body[data-screen="reports"]').wait_for(timeout=2_000)
        page.locator("#rotation:not([hidden])").wait_for()
        page.wait_for_timeout(6_500)
        assert page.locator("body").get_attribute("data-screen") == "reports"
        # Space resumes at once (else the rotation resumes by itself a minute after the last key).
        page.keyboard.press(" ")
        page.locator('body[data-screen="traffic"]').wait_for(timeout=8_000)

        # A figure's drill-down opens over the wall and comes back to the playlist.
        page.goto(f"{url}/wall/?screen=reports")
        link = page.locator(".panel.focus a.kpi").first
        link.wait_for(timeout=10_000)
        link.click()
        page.locator("#drill:not([hidden])").wait_for()
        frame = page.frame_locator("#drill-frame")
        frame.locator("table.reports-table").wait_for(timeout=10_000)
        page.keyboard.press("Escape")
        page.locator("#drill[hidden]").wait_for(state="attached")
        assert page.url.endswith("/wall/?screen=reports")

    # The server goes away: the socket drops, reconnecting fails, and after 10 s the wall dims and
    # says since when; the server back, it heals by itself within the backoff.
    page.locator("body.lost").wait_for(timeout=30_000)
    assert page.locator("#stale-text").inner_text()
    page.screenshot(path=str(screens_dir() / "wall-stale-1920x1080.png"))
    with asgi_server(port=port):
        page.locator('#connection[data-state="connected"]').wait_for(timeout=45_000)
        page.locator("body:not(.lost)").wait_for()
