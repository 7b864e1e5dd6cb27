"""The live path end to end: service write -> after commit -> channels_redis -> /ws/live/."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from ioc import services
from tests.live import close_worker_thread_connections, collect, open_socket, session_cookie, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_worker_thread_connections()


def raise_alert(unit, key, title="Ngập nước đường Hùng Vương", severity="critical", subsystem="reports"):
    alert, _ = services.alert_raise(subsystem=subsystem, severity=severity, title=title, unit=unit, dedup_key=key)
    return alert


def is_alert(key_title):
    return lambda m: m["type"] == "ioc.alert.updated" and m["data"]["title"] == key_title


async def test_committed_message_arrives_and_rolled_back_one_never_does(city, people):
    cookie = await database_sync_to_async(session_cookie)(people["leader"])
    socket, connected, _ = await open_socket(cookie)
    assert connected

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            raise_alert(city["long_khanh"], "rolled-back", title="Không bao giờ gửi")
            raise RuntimeError("operator cancelled")

    await database_sync_to_async(rolled_back)()
    await database_sync_to_async(raise_alert)(city["long_khanh"], "committed", title="Đã lưu")

    message = await wait_for(socket, lambda m: m["type"] == "ioc.alert.updated")
    # The first alert message is the committed one: the rolled-back one was never sent.
    assert message["data"]["title"] == "Đã lưu"
    assert message["subsystem"] == "reports"
    assert message["unit"] == "26080"
    assert message["data"]["state"] == "open"
    assert message["at"].endswith("Z") and isinstance(message["seq"], int)
    later = await collect(socket, 1.0)
    assert not [m for m in later if m["type"] == "ioc.alert.updated" and m["data"]["title"] == "Không bao giờ gửi"]
    await socket.disconnect()


async def test_anonymous_socket_is_refused(city):
    _, connected, code = await open_socket(None)
    assert not connected
    assert code == 4401


async def test_ward_staff_see_only_their_ward_and_the_leader_sees_all(city, people):
    staff = await open_socket(await database_sync_to_async(session_cookie)(people["staff_lk"]))
    leader = await open_socket(await database_sync_to_async(session_cookie)(people["leader"]))
    staff_socket, leader_socket = staff[0], leader[0]

    await database_sync_to_async(raise_alert)(city["binh_loc"], "bl-flood", title="Ngập ở Bình Lộc")
    got = await wait_for(leader_socket, is_alert("Ngập ở Bình Lộc"))
    assert got["unit"] == "26089"

    await database_sync_to_async(raise_alert)(city["long_khanh"], "lk-flood", title="Ngập ở Long Khánh")
    own = await wait_for(staff_socket, is_alert("Ngập ở Long Khánh"))
    assert own["unit"] == "26080"
    # Nothing about Bình Lộc reached Long Khánh's staff: neither the alert nor its figures.
    everything = await collect(staff_socket, 1.0)
    assert all(m.get("unit") in ("26080", "") or m["type"] == "pong" for m in everything)
    await staff_socket.disconnect()
    await leader_socket.disconnect()


async def test_figures_follow_the_alert_stream_as_absolute_counts(city, people):
    socket, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["staff_lk"]))
    await database_sync_to_async(raise_alert)(city["long_khanh"], "lk-1", title="Cây đổ", subsystem="environment")
    figures = await wait_for(socket, lambda m: m["type"] == "environment.kpis")
    assert figures["unit"] == "26080"
    assert figures["data"]["alerts"]["critical"] == 1

    await database_sync_to_async(raise_alert)(city["long_khanh"], "lk-1", title="Cây đổ", subsystem="environment")
    await database_sync_to_async(raise_alert)(city["long_khanh"], "lk-2", title="Khói", subsystem="environment")
    latest = None
    for message in await collect(socket, 2.0):
        if message["type"] == "environment.kpis":
            latest = message
    # A repeat counts onto the same alert; the figure is the absolute number of open alerts.
    assert latest is not None and latest["data"]["alerts"]["critical"] == 2
    await socket.disconnect()


async def test_socket_answers_ping(city, people):
    socket, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["operator"]))
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=3))["type"] == "pong"
    await socket.disconnect()


async def test_figures_are_computed_only_for_scopes_a_screen_has_open(city, people, monkeypatch):
    from ioc import bus, selectors

    computed = []
    real = selectors.subsystem_panel

    def counting(subsystem, code):
        computed.append((subsystem, code))
        return real(subsystem, code)

    monkeypatch.setattr(selectors, "subsystem_panel", counting)
    socket, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["staff_lk"]))
    unwatched = bus.stats["kpi_unwatched"]
    # A burst in a ward nobody watches and in the one a screen has open.
    await database_sync_to_async(raise_alert)(city["binh_loc"], "bl-1", title="Khói", subsystem="environment")
    await database_sync_to_async(raise_alert)(city["long_khanh"], "lk-9", title="Cây đổ", subsystem="environment")
    figures = await wait_for(socket, lambda m: m["type"] == "environment.kpis")
    assert figures["unit"] == "26080" and figures["data"]["alerts"]["critical"] == 1
    await database_sync_to_async(bus.flush)()
    assert ("environment", "26080") in computed
    assert ("environment", "26089") not in computed  # no screen on Bình Lộc: nothing to compute
    assert bus.stats["kpi_unwatched"] > unwatched
    await socket.disconnect()
