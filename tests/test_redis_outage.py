"""A Redis outage never fails a write: the database is the truth, the push is a fast path."""

import pytest
from channels.layers import channel_layers

from ioc import bus, embedded
from ioc.models import Alert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_redis(tmp_path, settings):
    """A real redis-server of this test's own, which the test can stop."""
    sock = embedded.start_redis(tmp_path / "redis")
    url = f"unix://{sock}"
    settings.REDIS_URL = url
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "ioc.live_layer.HealingPubSubChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    yield tmp_path / "redis"
    embedded.stop_redis(tmp_path / "redis")
    channel_layers.backends.clear()


def test_with_redis_stopped_the_write_commits_and_the_api_answers(city, people, api_as, own_redis, client, settings):
    settings.IOC_INTERNAL_ADDRESSES = ["127.0.0.1"]  # readiness in detail, as monitoring sees it
    operator = api_as(people["operator"])
    body = {
        "subsystem": "traffic",
        "severity": "critical",
        "title": "Tai nạn ngã tư Long Khánh",
        "unit": "26080",
        "dedup_key": "accident-1",
    }
    assert operator.post("/api/v1/alerts/", body, format="json").status_code == 201
    assert bus.flush(timeout=5)
    failed_before = bus.stats["failed"]

    embedded.stop_redis(own_redis)

    second = dict(body, dedup_key="accident-2", title="Tai nạn thứ hai")
    response = operator.post("/api/v1/alerts/", second, format="json")
    assert response.status_code == 201
    assert Alert.objects.filter(dedup_key="accident-2").exists()
    assert bus.flush(timeout=10)
    assert bus.stats["failed"] > failed_before  # counted, not raised

    # Reads keep working and readiness tells the truth.
    assert operator.get("/api/v1/alerts/").json()["count"] == 2
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": "error: ConnectionError"}
