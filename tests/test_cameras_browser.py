"""The operator works a camera incident from the keyboard, in a real headless Chromium: the snapshot,
the camera on its ward's outline (no tile server), one folded line, the ward preselected, D sends it."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from ioc.scope import EVERYTHING
from tests.browser import asgi_server, browser, log_in, on_server, with_real_password  # noqa: F401
from tests.conftest import PASSWORD
from tests.images import jpeg
from tests.test_cameras import cameras  # noqa: F401  (fixture)
from tests.test_query_counts import draw
from traffic import services
from traffic.models import Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def congestion_storm():
    """Twelve congestion events from one camera, the last with an uploaded snapshot and a clip."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=18)
    items = [
        {
            "camera": "LK-QL1A-01",
            "kind": "congestion",
            "external_id": f"jam-{n}",
            "occurred_at": (start + timedelta(minutes=n)).isoformat(),
            "congestion_level": "stationary" if n > 5 else "queuing",
        }
        for n in range(12)
    ]
    items[-1]["clip_url"] = "https://recorder.example/clips/jam-11.mp4"
    snapshot = ContentFile(jpeg(exif_gps=False).read(), name="jam-11.jpg")
    services.ingest_events(source="browser", items=items, scope=EVERYTHING, snapshots={11: snapshot})
    return start


def test_the_operator_sees_the_snapshot_and_map_and_dispatches_the_ward(cameras, people, collected_static, browser):  # noqa: F811
    on_server(with_real_password, user=people["operator"], password=PASSWORD)
    on_server(draw, code="26080", lat=10.937, lon=107.243)
    start = on_server(congestion_storm)
    local = timezone.localtime
    line = f"12 × Ùn tắc giao thông, {local(start):%H:%M}–{local(start + timedelta(minutes=11)):%H:%M}"
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    with asgi_server(IOC_MAP_TILES_URL="") as url:
        log_in(page, url, "operator", PASSWORD, "/console/cameras/")
        page.locator(f'.queue-item[aria-selected="true"]:has-text("{line}")').wait_for(timeout=10_000)
        assert page.locator(".queue-item").count() == 1

        page.wait_for_function(
            "() => { const i = document.getElementById('snapshot'); return i && i.naturalWidth > 0; }"
        )
        assert page.get_attribute(".camera-detail a.clip", "href") == "https://recorder.example/clips/jam-11.mp4"
        page.locator("#camera-map path.leaflet-interactive").first.wait_for(timeout=10_000)  # the ward's outline
        page.locator("#camera-map .camera-marker").wait_for(timeout=10_000)
        folded = page.locator(".camera-detail .folded li").all_inner_texts()
        assert [text.split(",")[0] for text in folded] == [
            "6 × Ùn tắc giao thông (Ùn tắc)",
            "6 × Ùn tắc giao thông (Ùn ứ)",
        ]
        assert "stationary" not in page.inner_text("main") and "queuing" not in page.inner_text("main")
        assert page.input_value("#dispatch-unit") == "26080"

        page.keyboard.press("?")
        page.locator("#help").wait_for(state="visible")
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+D")  # a capital works as well as the small letter
        page.locator('#cameras-status[data-kind="ok"]').wait_for(timeout=10_000)
        page.locator('.camera-detail .where:has-text("Đã điều động tới Phường Long Khánh")').wait_for(timeout=10_000)
        incident = on_server(Incident.objects.select_related("dispatched_to").get)
        assert incident.status == "dispatched" and incident.dispatched_to.code == "26080"
        page.screenshot(path=str(screenshot_path("cameras.png")))
    ours = urlsplit(url).netloc
    assert [r for r in requests if urlsplit(r).netloc not in (ours, "")] == [], "the page needs no internet"


def screenshot_path(name):
    from django.conf import settings

    path = settings.VAR_DIR / "screenshots"
    path.mkdir(exist_ok=True)
    return path / name
