"""The live layer over several real Redis servers (REDIS_CHANNEL_URLS): groups spread by a consistent
hash, a ward's news reaching sockets whose groups live on different servers, each server healing alone."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.conf import settings as django_settings

from ioc import bus, embedded, services
from ioc.live_layer import HealingLoopLayer
from ioc.scope import scope_for
from tests.live import close_worker_thread_connections, collect, open_socket, session_cookie, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_worker_thread_connections()


@pytest.fixture
def shards():
    """Two redis-servers of this test's own on unix sockets (short paths: a socket path is limited)."""
    base = Path(tempfile.mkdtemp(prefix="ioc-shards-"))
    directories = [base / "a", base / "b"]
    try:
        urls = [f"unix://{embedded.start_redis(directory)}" for directory in directories]
        yield directories, urls
    finally:
        for directory in directories:
            embedded.stop_redis(directory)
        shutil.rmtree(base, ignore_errors=True)


SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({"databases": settings.DATABASES, "layer": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"],
                  "cache": settings.CACHES["default"]["LOCATION"], "broker": settings.CELERY_BROKER_URL}, default=str))
"""


def settings_with(**environ) -> dict:
    """Settings as a process started with these environment variables reads them."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="ioc.settings", DATABASE_URL=django_settings.DATABASE_URL)
    env.update(REDIS_URL=django_settings.REDIS_URL, **environ)
    done = subprocess.run([sys.executable, "-c", SETTINGS_PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=False)
def test_the_live_layer_takes_every_listed_server_and_the_rest_stays_on_redis_url():
    one = django_settings.REDIS_URL
    unset = settings_with()
    assert unset["layer"] == [one]
    listed = settings_with(REDIS_CHANNEL_URLS="redis://live-1:6379/0, redis://live-2:6379/0,")
    assert listed["layer"] == ["redis://live-1:6379/0", "redis://live-2:6379/0"]
    assert listed["cache"] == unset["cache"] == one
    assert listed["broker"] == unset["broker"]


def live_group_of(user) -> str:
    """The group a user's socket listens on, by the consumer's own rule."""
    scope = scope_for(user)
    return bus.ALL_GROUP if scope.everything else bus.unit_group(scope.unit.code)


def prefix_splitting(urls, ward_group, province_group) -> tuple[str, int, int]:
    """A channel prefix under which the layer puts the two groups on different servers."""
    for n in range(200):
        prefix = f"{django_settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'ioc')}-shards-{n}"
        layer = HealingLoopLayer(hosts=urls, prefix=prefix)
        ward, province = (
            layer._shards.index(layer._get_shard(layer._get_group_channel_name(g)))
            for g in (ward_group, province_group)
        )
        if ward != province:
            return prefix, ward, province
    raise AssertionError("no prefix splits the two groups over two servers")


def channels_on(url) -> set[str]:
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        return {name.decode() for name in client.pubsub_channels()}
    finally:
        client.close()


def subscribers(url, channel) -> int:
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        return dict(client.pubsub_numsub(channel))[channel.encode()]
    finally:
        client.close()


def raise_alert(unit, title):
    services.alert_raise(subsystem="reports", severity="critical", title=title, unit=unit, dedup_key=title)


def alert_titled(title):
    return lambda m: m["type"] == "ioc.alert.updated" and m["data"]["title"] == title


async def test_a_wards_news_reaches_sockets_whose_groups_live_on_different_redis_servers(
    city, people, shards, settings, client
):
    directories, urls = shards
    ward_group = await database_sync_to_async(live_group_of)(people["staff_lk"])
    province_group = await database_sync_to_async(live_group_of)(people["leader"])
    assert (ward_group, province_group) == ("unit.26080", "unit.75")
    prefix, ward_shard, province_shard = prefix_splitting(urls, ward_group, province_group)
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "ioc.live_layer.HealingPubSubChannelLayer", "CONFIG": {"hosts": urls, "prefix": prefix}}
    }
    channel_layers.backends.clear()  # the layer is built anew on the two servers (here and in the bus)
    try:
        ward_socket, connected, _ = await open_socket(await database_sync_to_async(session_cookie)(people["staff_lk"]))
        assert connected
        province_socket, connected, _ = await open_socket(
            await database_sync_to_async(session_cookie)(people["leader"])
        )
        assert connected

        # Each server holds the subscriptions of its share of the groups, and only those.
        ward_channel, province_channel = f"{prefix}__group__{ward_group}", f"{prefix}__group__{province_group}"
        assert ward_channel in channels_on(urls[ward_shard])
        assert ward_channel not in channels_on(urls[province_shard])
        assert province_channel in channels_on(urls[province_shard])
        assert province_channel not in channels_on(urls[ward_shard])
        assert subscribers(urls[ward_shard], ward_channel) == subscribers(urls[province_shard], province_channel) == 1

        # An alert in the ward goes to the ward's group and the province's: both sockets hear it.
        await database_sync_to_async(raise_alert)(city["long_khanh"], "Ngập đường 21 tháng 8")
        await wait_for(ward_socket, alert_titled("Ngập đường 21 tháng 8"))
        await wait_for(province_socket, alert_titled("Ngập đường 21 tháng 8"))

        # Readiness names every server of the live layer.
        settings.IOC_INTERNAL_ADDRESSES = ["127.0.0.1"]
        checks = (await database_sync_to_async(client.get)("/readyz")).json()["checks"]
        assert checks["redis_live_1"] == checks["redis_live_2"] == "ok"

        # The province's server restarts: the ward's socket, on the other server, goes on hearing
        # throughout; the province's hears again once its server is back, with no reconnect of its own.
        embedded.stop_redis(directories[province_shard])
        checks = (await database_sync_to_async(client.get)("/readyz")).json()["checks"]
        assert checks[f"redis_live_{province_shard + 1}"].startswith("error")
        assert checks[f"redis_live_{ward_shard + 1}"] == "ok"
        await database_sync_to_async(raise_alert)(city["long_khanh"], "Cây đổ khi máy chủ vắng")
        await wait_for(ward_socket, alert_titled("Cây đổ khi máy chủ vắng"))
        embedded.start_redis(directories[province_shard])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while province_channel not in channels_on(urls[province_shard]):
            assert loop.time() < deadline, "the province's group was not subscribed again within 10 s"
            await asyncio.sleep(0.1)
        await database_sync_to_async(raise_alert)(city["long_khanh"], "Sau khi máy chủ trở lại")
        await wait_for(ward_socket, alert_titled("Sau khi máy chủ trở lại"))
        await wait_for(province_socket, alert_titled("Sau khi máy chủ trở lại"))

        await collect(province_socket, 0.1)
        await ward_socket.disconnect()
        await province_socket.disconnect()
    finally:
        await database_sync_to_async(bus.flush)(timeout=5)
        if "default" in channel_layers.backends:
            await channel_layers.backends["default"].flush()  # this loop's connections to the two servers
        channel_layers.backends.clear()
