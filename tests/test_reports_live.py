"""A report submitted through the API reaches connected screens through the real channel layer."""

import json

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from tests.conftest import LONG_KHANH
from tests.live import close_worker_thread_connections, collect, open_socket, session_cookie, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_worker_thread_connections()


def submit_by_api():
    response = APIClient().post(
        "/api/v1/reports/",
        {
            "category": "chay-no",
            "description": "Cháy nhà dân trên đường Hùng Vương",
            "latitude": LONG_KHANH[0],
            "longitude": LONG_KHANH[1],
            "reporter_name": "Trần Thị Bình",
            "reporter_phone": "0987654321",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["tracking_code"]


async def test_a_submitted_report_reaches_the_wall_and_not_another_ward(categories, people):
    leader, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["leader"]))
    other_ward, _, _ = await open_socket(await database_sync_to_async(session_cookie)(people["staff_bl"]))

    code = await database_sync_to_async(submit_by_api)()
    alert = await wait_for(leader, lambda m: m["type"] == "ioc.alert.updated")
    assert alert["data"]["severity"] == "critical" and code in alert["data"]["title"]

    message = await wait_for(leader, lambda m: m["type"] == "reports.report.updated")
    received = [message, *await collect(leader, 1.5)]
    assert message["data"]["tracking_code"] == code
    assert message["data"]["status"] == "received" and message["data"]["level"] == "urgent"
    assert message["unit"] == "26080"
    assert "Trần Thị Bình" not in json.dumps(message, ensure_ascii=False)
    assert "0987654321" not in json.dumps(message)
    # Absolute figures for the province: one report awaiting triage.
    figures = [m for m in received if m["type"] == "reports.kpis"][-1]
    assert {k["code"]: k["value"] for k in figures["data"]["figures"]["kpis"]}["triage"] == 1
    assert figures["unit"] == "75"
    # The message announcing the urgent alert was sent before the report's (same transaction).

    assert await other_ward.receive_nothing(timeout=1.0)
    await leader.disconnect()
    await other_ward.disconnect()
