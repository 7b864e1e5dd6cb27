"""Camera incidents reach the screens of their area, through the real channel layer, and no other."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from ioc.scope import EVERYTHING
from tests.live import close_worker_thread_connections, collect, open_socket, session_cookie, wait_for
from traffic import services
from traffic.models import Camera

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_worker_thread_connections()


def ingest(camera, kind, n):
    items = [
        {
            "camera": camera,
            "kind": kind,
            "external_id": f"{camera}-{kind}-{i}",
            "occurred_at": timezone.now().isoformat(),
        }
        for i in range(n)
    ]
    return services.ingest_events(source="test", items=items, scope=EVERYTHING)


async def test_one_wards_camera_incident_is_invisible_to_another_ward(city, people):
    await database_sync_to_async(Camera.objects.create)(
        code="BL-SEC-01", name="Chợ Bình Lộc", purpose="security", unit=city["binh_loc"]
    )
    own_ward, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["staff_bl"]))
    other_ward, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["staff_lk"]))

    # A storm of 200 events folds into one incident: one item message, coalesced figures.
    await database_sync_to_async(ingest)("BL-SEC-01", "fight", 200)
    incident = await wait_for(own_ward, lambda m: m["type"] == "traffic.incident.updated")
    assert incident["subsystem"] == "security" and incident["data"]["kind"] == "fight"
    rest = await collect(own_ward, 1.5)
    assert not [m for m in rest if m["type"] == "traffic.incident.updated"]
    figures = [m for m in rest if m["type"] == "security.kpis"]
    assert 1 <= len(figures) <= 3
    assert figures[-1]["data"]["figures"]["kpis"][0]["value"] == 1  # one open incident

    assert await other_ward.receive_nothing(timeout=1.0)
    await own_ward.disconnect()
    await other_ward.disconnect()
