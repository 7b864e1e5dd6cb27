"""A wall screen account: the wall and what it reads, for weeks, until an administrator ends it."""

import io
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from ioc import registry, screens, services
from ioc.demo import DEMO_USERS, PROVINCE
from ioc.models import AuditEntry, User
from ioc.roles import SCREEN, has_role
from tests.browser import (  # noqa: F401  (fixtures)
    asgi_server,
    browser,
    log_in,
    on_server,
    watch_policy_violations,
    with_real_password,
)
from tests.conftest import PASSWORD, make_user
from tests.live import close_worker_thread_connections, live_communicator, wait_for
from tests.test_scope_probe import PROBES, _call
from tests.world import world  # noqa: F401  (fixture)

# Sockets go through the real channels_redis layer, which needs committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

DAY = 24 * 3600
SNAPSHOT = "/api/v1/dashboard/snapshot/"


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_worker_thread_connections()


@pytest.fixture
def screen(city):
    return make_user("wall-hall", SCREEN, city["province"])


def signed_in(username) -> Client:
    """A browser that signed in through the login form, as the wall's browser does."""
    client = Client()
    response = client.post("/login/?next=/wall/", {"username": username, "password": PASSWORD, "next": "/wall/"})
    assert response.status_code == 302 and response.url == "/wall/", response.status_code
    return client


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def close_to(moment, expected, slack=timedelta(minutes=5)) -> bool:
    return abs(moment - expected) < slack


def map_layer_urls() -> list[str]:
    return [s.map_layer for s in registry.enabled() if s.map_layer]


# --- what a screen reaches -------------------------------------------------------------------------


def test_a_screen_signs_in_and_gets_the_wall_its_snapshot_and_its_map_layers(screen, people):
    client = signed_in("wall-hall")
    wall = client.get("/wall/?playlist=main&kiosk=1")
    assert wall.status_code == 200
    assert "Tỉnh Đồng Nai" in wall.content.decode()  # its home unit sets the wall's scope

    snapshot = client.get(SNAPSHOT)
    assert snapshot.status_code == 200
    assert "subsystems" in snapshot.json() and "alerts" in snapshot.json()

    assert map_layer_urls(), "the registry lists no map layer: this test would prove nothing"
    for url in map_layer_urls():
        assert client.get(url).status_code == 200, url
    # The map's own endpoints are open to screens even before a view answers there.
    assert client.get("/api/v1/map/units/").status_code != 403
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/ioc/wall.js").status_code != 403

    for landing in ("/", "/home/", "/login/"):
        response = client.get(landing)
        assert response.status_code == 302 and response.url == "/wall/", landing

    language = client.post("/i18n/setlang/", {"language": "en", "next": "/wall/"})
    assert language.status_code == 302
    assert 'lang="en"' in client.get("/wall/").content.decode()


def test_a_screen_is_refused_everything_else_with_a_clear_message(screen, people, city):
    client = signed_in("wall-hall")
    for page in ("/console/", "/workspace/", "/console/reports/", "/console/cameras/", "/admin/", "/admin/ioc/user/"):
        response = client.get(page)
        assert response.status_code == 403, page
        assert "màn hình giám sát" in response.content.decode(), page  # Vietnamese by default

    reports = client.get("/api/v1/reports/")
    assert reports.status_code == 403
    assert "chỉ mở được màn hình giám sát" in reports.json()["detail"]

    body = {"subsystem": "environment", "severity": "critical", "title": "x", "unit": "75", "dedup_key": "screen"}
    write = client.post("/api/v1/alerts/", json.dumps(body), content_type="application/json")
    assert write.status_code == 403 and "detail" in write.json()
    assert client.post(SNAPSHOT).status_code == 403  # a screen writes nothing, not even where it reads
    assert client.get("/api/v1/map/../reports/").status_code == 403
    assert client.get("/static/../admin/").status_code == 403
    assert not city["province"].alerts.exists()


def test_every_route_is_closed_to_a_screen_unless_the_wall_needs_it(world, screen):  # noqa: F811
    """Walks every route of the cross-scope probe: a route added later is refused until it is listed."""
    map_paths = {urlsplit(url).path for url in map_layer_urls()}

    def is_map(path):
        return path in map_paths or path.startswith(screens.MAP_PREFIX)

    opened = {"wall/", "api/v1/dashboard/snapshot/", "healthz", "logout/", "i18n/setlang/"}
    landings = {"", "home/", "login/"}
    client = signed_in("wall-hall")
    refused = 0
    for route, probes in PROBES.items():
        for method, url, _expect, body in probes:
            url = url(world) if callable(url) else url
            response = _call(client, method, url, body)
            where = f"{method.upper()} {url} -> {response.status_code}"
            if route in landings:
                assert response.status_code == 302 and response.url == "/wall/", where
            elif route in opened or (method == "get" and is_map(urlsplit(url).path)):
                assert response.status_code != 403, where
            else:
                assert response.status_code == 403, where
                refused += 1
    assert refused > 50
    # Still signed in: Django answers GET /logout/ with 405, signing out takes a POST.
    assert client.get(SNAPSHOT).status_code == 200


# --- how long it stays signed in ---------------------------------------------------------------------


def test_a_screens_session_lasts_the_configured_days_and_others_keep_theirs(screen, people):
    client = signed_in("wall-hall")
    days = settings.IOC_SCREEN_SESSION_DAYS
    assert days == 30
    assert close_to(session_row(client).expire_date, timezone.now() + timedelta(days=days))
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == days * DAY

    leader = signed_in("leader")
    assert close_to(session_row(leader).expire_date, timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    assert leader.get(SNAPSHOT).status_code == 200
    assert close_to(session_row(leader).expire_date, timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))


def test_the_session_is_renewed_while_in_use_but_not_written_on_every_request(screen):
    client = signed_in("wall-hall")
    client.get("/wall/")
    assert settings.SESSION_COOKIE_NAME not in client.get(SNAPSHOT).cookies  # renewed at login: no write now
    assert settings.SESSION_COOKIE_NAME not in client.get(SNAPSHOT).cookies

    # Two days later (its last renewal pushed back, its expiry with it), the next snapshot renews it.
    row = session_row(client)
    data = row.get_decoded()
    data[screens.RENEWED] = int(time.time()) - 2 * DAY
    Session.objects.filter(pk=row.pk).update(
        session_data=Session.objects.encode(data), expire_date=timezone.now() + timedelta(days=28)
    )
    response = client.get(SNAPSHOT)
    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * DAY
    assert close_to(session_row(client).expire_date, timezone.now() + timedelta(days=30))
    assert settings.SESSION_COOKIE_NAME not in client.get(SNAPSHOT).cookies


def test_the_length_follows_the_setting(screen, settings):
    settings.IOC_SCREEN_SESSION_DAYS = 3
    client = signed_in("wall-hall")
    assert close_to(session_row(client).expire_date, timezone.now() + timedelta(days=3))


def test_an_account_that_is_no_longer_a_screen_gets_the_ordinary_length_back(screen):
    client = signed_in("wall-hall")
    screen.groups.clear()
    client.get("/healthz")
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert close_to(session_row(client).expire_date, expected)


# --- ending it -----------------------------------------------------------------------------------------


def test_the_admin_signs_a_screen_out_everywhere_and_the_wall_lands_on_the_login_page(screen, people):
    wall, second_wall = signed_in("wall-hall"), signed_in("wall-hall")
    leader = signed_in("leader")
    admin = Client()
    admin.force_login(people["admin"])

    response = admin.post(
        "/admin/ioc/user/",
        {"action": "sign_out_screens", "_selected_action": [screen.pk, people["leader"].pk]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "wall-hall" in text

    for client in (wall, second_wall):
        assert client.get(SNAPSHOT).status_code in (401, 403)
        page = client.get("/wall/")
        assert page.status_code == 302 and page.url.startswith("/login/")
    # Other people's sessions are untouched, the leader's too although it was selected.
    assert leader.get(SNAPSHOT).status_code == 200
    entry = AuditEntry.objects.get(action="screen.sign_out")
    assert entry.user == people["admin"] and entry.object_id == str(screen.pk)
    assert entry.unit_code == "75" and entry.detail == {"sessions": 2}
    # The account stays usable: the installer signs the wall in again with the same password.
    assert signed_in("wall-hall").get(SNAPSHOT).status_code == 200


def test_deactivating_a_screen_ends_its_sessions(screen):
    client = signed_in("wall-hall")
    screen.is_active = False
    screen.save()
    assert not Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).exists()
    assert client.get("/wall/").status_code == 302


# --- the live socket -------------------------------------------------------------------------------------


async def open_screen_socket(cookie):
    communicator = live_communicator(cookie=cookie)
    connected, _code = await communicator.connect(timeout=5)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello == {"type": "ioc.hello", "scope": "75"}
    return communicator


async def closed_with(communicator, seconds=5.0) -> int:
    """The close code the server sends within `seconds`, skipping messages before it."""
    while True:
        output = await communicator.receive_output(timeout=seconds)
        if output["type"] == "websocket.close":
            return output["code"]


def _cookie_of(username):
    return signed_in(username).cookies[settings.SESSION_COOKIE_NAME].value


async def test_a_screens_socket_hears_its_scope_takes_nothing_and_closes_when_signed_out(city, screen, people):
    cookie = await database_sync_to_async(_cookie_of)("wall-hall")
    leader_cookie = await database_sync_to_async(_cookie_of)("leader")
    socket = await open_screen_socket(cookie)
    leader = await open_screen_socket(leader_cookie)

    def raise_alert():
        services.alert_raise(
            subsystem="reports", severity="critical", title="Ngập Long Khánh", unit=city["long_khanh"], dedup_key="s"
        )

    await database_sync_to_async(raise_alert)()
    message = await wait_for(socket, lambda m: m["type"] == "ioc.alert.updated")
    assert message["data"]["title"] == "Ngập Long Khánh"

    # Read-only: whatever it sends but a ping is ignored.
    await socket.send_json_to({"type": "alert.acknowledge", "id": message["data"]["id"]})
    await socket.send_json_to({"type": "ping"})
    assert (await wait_for(socket, lambda m: m["type"] == "pong"))["type"] == "pong"

    ended = await database_sync_to_async(services.screen_sign_out)(user=screen)
    assert ended == 1
    assert await closed_with(socket) == 4401  # the wall reloads on 4401 and meets the login page
    # The leader's socket stays open and still hears.
    await leader.send_json_to({"type": "ping"})
    assert (await wait_for(leader, lambda m: m["type"] == "pong"))["type"] == "pong"
    await leader.disconnect()

    refused = live_communicator(cookie=cookie)
    connected, code = await refused.connect(timeout=5)
    assert not connected and code == 4401


async def test_deactivating_a_screen_closes_its_socket(screen):
    cookie = await database_sync_to_async(_cookie_of)("wall-hall")
    socket = await open_screen_socket(cookie)

    def deactivate():
        screen.is_active = False
        screen.save(update_fields=["is_active"])

    await database_sync_to_async(deactivate)()
    assert await closed_with(socket) == 4401


# --- in a real browser -------------------------------------------------------------------------------------


@pytest.fixture
def screen_with_password(screen):
    return with_real_password(screen, PASSWORD)  # before the browser: its event loop forbids database calls


@pytest.mark.browser
def test_the_wall_runs_as_a_screen_without_a_refusal_and_lands_on_login_once_signed_out(
    screen_with_password,
    collected_static,
    browser,  # noqa: F811
):
    """Everything the wall reads is open to it: a refused read would make the wall reload, over and over."""
    screen = screen_with_password
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    violations = watch_policy_violations(page)
    refused, loads = [], []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status in (401, 403) else None)
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    with asgi_server() as url:
        log_in(page, url, "wall-hall", PASSWORD, "/wall/")
        page.locator('#connection[data-state="connected"]').wait_for(timeout=10_000)
        page.wait_for_timeout(3_000)  # the snapshot, the units' map and every layer have been read
        assert refused == []
        assert loads[-1] == f"{url}/wall/" and loads.count(f"{url}/wall/") == 1

        on_server(services.screen_sign_out, user=screen)
        page.wait_for_url(f"{url}/login/**", timeout=10_000)  # its socket closed: the wall reloaded
    assert violations == []


# --- installing one --------------------------------------------------------------------------------------


def test_create_screen_prints_a_generated_password_that_signs_in(city):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_screen", "wall-hall-2", "--unit", "26080", "--label", "Tường sảnh", stdout=out, stderr=err)
    password = out.getvalue().strip()
    assert len(password) >= 20 and "\n" not in password
    user = User.objects.get(username="wall-hall-2")
    assert has_role(user, SCREEN) and user.home_unit == city["long_khanh"] and not user.is_staff
    assert user.first_name == "Tường sảnh"
    client = Client()
    response = client.post("/login/", {"username": "wall-hall-2", "password": password, "next": "/wall/"})
    assert response.status_code == 302 and response.url == "/wall/"
    assert client.get(SNAPSHOT).status_code == 200
    assert client.get("/console/").status_code == 403


def test_create_screen_with_a_given_password_and_its_refusals(city):
    out = io.StringIO()
    call_command("create_screen", "wall-3", "--unit", "75", "--password", "a-long-wall-password-75", stdout=out)
    assert out.getvalue() == ""  # nothing to print: the installer chose it
    assert User.objects.get(username="wall-3").check_password("a-long-wall-password-75")
    with pytest.raises(CommandError, match="No unit"):
        call_command("create_screen", "wall-4", "--unit", "99999")
    with pytest.raises(CommandError):
        call_command("create_screen", "wall-3", "--unit", "75")
    with pytest.raises(CommandError):
        call_command("create_screen", "wall-5", "--unit", "75", "--password", "123")
    assert not User.objects.filter(username__in=["wall-4", "wall-5"]).exists()


def test_the_demo_city_has_a_screen_for_the_province():
    assert ("screen", SCREEN, PROVINCE) in [entry[:3] for entry in DEMO_USERS]
