"""PostgreSQL away: every API answers 503 with Retry-After in its own shape, pages a short page."""

import xml.etree.ElementTree as ET

import pytest
from django.db import connections
from django.test import Client

from reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_away(city, categories):
    """Point the connection at an address where nothing listens, as during a restart or failover.

    Calling the fixture's value brings the database back.
    """
    connection = connections["default"]
    saved = dict(connection.settings_dict)

    def back():
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")  # discard port: refused at once
    yield back
    back()


def plain_client(user=None):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def assert_retry(response):
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


def test_apis_answer_503_in_their_own_shape(people, request):
    leader = plain_client(people["leader"])
    anonymous = plain_client()
    request.getfixturevalue("database_away")

    for client, url in [(anonymous, "/api/v1/reports/categories/"), (leader, "/api/v1/dashboard/snapshot/")]:
        response = client.get(url)
        assert_retry(response)
        assert "try again" in response.json()["detail"].lower() or "thử lại" in response.json()["detail"].lower()

    submitted = anonymous.post(
        "/api/v1/reports/",
        {"category": "o-ga", "description": "Ổ gà", "latitude": 10.9372, "longitude": 107.2431},
        content_type="application/json",
    )
    assert_retry(submitted)

    as_json = anonymous.get("/open311/v2/services.json")
    assert_retry(as_json)
    [error] = as_json.json()
    assert error["code"] == 503 and error["description"]
    as_xml = anonymous.get("/open311/v2/requests.xml")
    assert_retry(as_xml)
    assert ET.fromstring(as_xml.content).findtext("error/code") == "503"


def test_pages_answer_a_short_503_page_and_liveness_stays_up(people, request):
    leader = plain_client(people["leader"])
    anonymous = plain_client()
    request.getfixturevalue("database_away")

    for client, url in [(anonymous, "/public/"), (anonymous, "/report/"), (leader, "/wall/"), (leader, "/console/")]:
        response = client.get(url)
        assert_retry(response)
        page = response.content.decode()
        assert "<html" in page and 'http-equiv="refresh"' in page, url
        assert "Server Error" not in page

    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/readyz").status_code == 503


def test_a_refused_write_stores_nothing_and_the_same_write_succeeds_once_it_is_back(request):
    anonymous = plain_client()
    back = request.getfixturevalue("database_away")
    body = {"category": "o-ga", "description": "Ổ gà trong lúc mất kết nối", "latitude": 10.9372, "longitude": 107.2431}
    assert_retry(anonymous.post("/api/v1/reports/", body, content_type="application/json"))
    back()
    assert not Report.objects.filter(description=body["description"]).exists()
    assert anonymous.post("/api/v1/reports/", body, content_type="application/json").status_code == 201


def test_a_screen_connecting_meanwhile_is_told_to_try_again(people, database_away):
    from asgiref.sync import async_to_sync

    from ioc.outage import CLOSE_TRY_AGAIN
    from tests.live import close_worker_thread_connections, session_cookie
    from tests.test_fault_healing import turned_away

    database_away()  # back for a moment, to sign the leader in
    cookie = session_cookie(people["leader"])
    connection = connections["default"]
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")

    async def connect():
        try:
            return await turned_away(cookie)
        finally:
            await close_worker_thread_connections()

    assert async_to_sync(connect)() == CLOSE_TRY_AGAIN
