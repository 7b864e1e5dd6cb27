"""Faults heal by themselves: a Redis restart under open sockets, with a real redis-server."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers

from ioc import bus, embedded, services
from ioc.live_layer import CONNECTION_ERRORS
from ioc.outage import CLOSE_TRY_AGAIN
from tests.live import (
    close_worker_thread_connections,
    collect,
    live_communicator,
    open_socket,
    session_cookie,
    wait_for,
)
from tests.test_redis_outage import own_redis  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_worker_thread_connections()


@pytest.fixture
def fresh_layer(own_redis):  # noqa: F811
    # The layer the process already built points at the suite's Redis: build it anew on this test's.
    channel_layers.backends.clear()
    yield own_redis


async def turned_away(cookie) -> int:
    """Open a socket expecting "try again": the close code it gets."""
    communicator = live_communicator(cookie=cookie)
    connected, _subprotocol = await communicator.connect(timeout=10)
    assert connected  # accepted, so that the browser can read the close code
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    return closing["code"]


def raise_alert(unit, key):
    services.alert_raise(subsystem="reports", severity="critical", title=key, unit=unit, dedup_key=key)


def alert_titled(title):
    return lambda m: m["type"] == "ioc.alert.updated" and m["data"]["title"] == title


async def test_after_redis_restarts_open_sockets_hear_again_and_new_ones_are_accepted(city, people, fresh_layer):
    cookie = await database_sync_to_async(session_cookie)(people["leader"])
    before, connected, _code = await open_socket(cookie)
    assert connected
    await database_sync_to_async(raise_alert)(city["long_khanh"], "truoc-khi-dung")
    await wait_for(before, alert_titled("truoc-khi-dung"))

    embedded.stop_redis(fresh_layer)
    # A screen reconnecting while Redis is away is told to try again soon (and it will): these
    # attempts are what left the pub/sub connection wedged before.
    for _attempt in range(3):
        assert await turned_away(cookie) == CLOSE_TRY_AGAIN
        await asyncio.sleep(1)
    embedded.start_redis(fresh_layer)

    # Within seconds a new socket is accepted...
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        after, connected, _code = await open_socket(cookie)
        if connected or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    assert connected, "no new socket accepted within 10 s of Redis returning"
    accepted_in = 10 - (deadline - loop.time())

    # ... and a message published after the restart reaches both the new and the old socket.
    await database_sync_to_async(raise_alert)(city["long_khanh"], "sau-khi-chay-lai")
    await database_sync_to_async(bus.flush)(timeout=5)
    await wait_for(after, alert_titled("sau-khi-chay-lai"))
    await wait_for(before, alert_titled("sau-khi-chay-lai"))
    assert accepted_in < 10
    await collect(before, 0.1)
    await before.disconnect()
    await after.disconnect()


async def test_the_layer_heals_after_subscribes_failed_while_redis_was_away(fresh_layer, settings):  # noqa: F811
    """The sequence that wedged channels_redis 4.3's pub/sub layer for good (see ioc.live_layer)."""
    layer = channel_layers["default"]

    async def round_trip(tag):
        channel = await asyncio.wait_for(layer.new_channel(), 3)
        await asyncio.wait_for(layer.group_add("probe", channel), 3)
        await asyncio.wait_for(layer.group_send("probe", {"type": "probe", "tag": tag}), 3)
        return (await asyncio.wait_for(layer.receive(channel), 3))["tag"]

    old = await layer.new_channel()
    await layer.group_add("probe", old)
    assert await round_trip("before") == "before"
    embedded.stop_redis(fresh_layer)
    for _attempt in range(3):
        with pytest.raises(CONNECTION_ERRORS):
            await round_trip("away")
        await asyncio.sleep(2)
    embedded.start_redis(fresh_layer)
    assert [await round_trip(f"after-{n}") for n in range(3)] == ["after-0", "after-1", "after-2"]
    while not layer._get_layer().channels[old].empty():  # what the old channel heard before
        await layer.receive(old)
    await layer.group_send("probe", {"type": "probe", "tag": "old"})
    assert (await asyncio.wait_for(layer.receive(old), 3))["tag"] == "old"
    await layer.flush()
