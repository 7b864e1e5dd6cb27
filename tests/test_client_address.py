"""One client address for login lockout, throttles and logs; citizens' submission allowances per device."""

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.utils import translation
from rest_framework.test import APIClient

from ioc.clientaddr import client_address
from ioc.middleware import ClientAddressLogFilter, ClientAddressMiddleware
from reports.models import Report
from tests.conftest import LONG_KHANH, PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


def address(remote="198.51.100.7", xff=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return client_address(RequestFactory().get("/", **meta))


@pytest.fixture
def rates(settings):
    """Set some of the throttle rates for one test."""

    def set_rates(**changes):
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **changes}}

    return set_rates


def report(**extra):
    return {"category": "o-ga", "description": "Ổ gà", "latitude": LONG_KHANH[0], "longitude": LONG_KHANH[1], **extra}


def post_report(client=None, **meta):
    return (client or APIClient()).post("/api/v1/reports/", report(), format="multipart", **meta)


def device_token():
    response = APIClient().post("/api/v1/reports/device/")
    assert response.status_code == 201 and response.json()["header"] == "X-IOC-Device"
    return response.json()["device_token"]


# --- the address ------------------------------------------------------------------------------


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards(settings):
    settings.IOC_TRUSTED_PROXIES = []
    assert address(xff="203.0.113.9") == "198.51.100.7"
    assert address(remote="::ffff:198.51.100.7") == "198.51.100.7"


def test_a_trusted_proxys_header_names_the_client(settings):
    settings.IOC_TRUSTED_PROXIES = [PROXY, "172.16.0.0/12"]
    assert address(remote=PROXY, xff="203.0.113.9") == "203.0.113.9"
    # Right to left past the trusted hops: what the client itself wrote on the left is not believed.
    assert address(remote=PROXY, xff="1.2.3.4, 203.0.113.9, 172.18.0.2") == "203.0.113.9"
    assert address(remote=PROXY, xff="not-an-address") == PROXY
    assert address(remote="198.51.100.7", xff="203.0.113.9") == "198.51.100.7"  # not a proxy of ours
    settings.IOC_TRUSTED_PROXIES = ["*"]
    assert address(remote="198.51.100.7", xff="203.0.113.9") == "203.0.113.9"


def test_malformed_proxy_lists_stop_the_process():
    env = dict(os.environ, IOC_TRUSTED_PROXIES="10.0.0.0/33")
    code = "import django; django.setup()"
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=Path(__file__).parent.parent
    )
    assert run.returncode != 0 and "IOC_TRUSTED_PROXIES" in run.stderr
    env = dict(os.environ, IOC_TRUSTED_PROXIES="10.0.0.5", FORWARDED_ALLOW_IPS="*")
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=Path(__file__).parent.parent
    )
    assert run.returncode != 0 and "FORWARDED_ALLOW_IPS" in run.stderr


def test_uvicorn_is_given_the_same_trusted_proxies(settings, monkeypatch):
    from ioc import supervisor
    from ioc.management.commands import runall

    started = []

    class Stop(Exception):
        pass

    def popen(argv, **kwargs):
        started.append(argv)
        raise Stop

    monkeypatch.setattr(supervisor.subprocess, "Popen", popen)
    monkeypatch.setattr(runall, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(runall.embedded, "stop_all", lambda: None)
    for trusted, expected in (
        (["10.0.0.5", "10.0.1.0/24"], ["--forwarded-allow-ips", "10.0.0.5,10.0.1.0/24"]),
        ([], ["--no-proxy-headers"]),
    ):
        settings.IOC_TRUSTED_PROXIES = trusted
        started.clear()
        with pytest.raises(Stop):
            runall.Command().handle(port=8000, host="127.0.0.1", no_demo=True)
        web = " ".join(started[0])
        assert " ".join(expected) in web
        if not trusted:
            assert "--forwarded-allow-ips" not in web


def test_log_records_carry_the_client_address(settings):
    settings.IOC_TRUSTED_PROXIES = [PROXY]
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(ClientAddressLogFilter())
    logger = logging.getLogger("ioc.test.client")
    logger.addHandler(handler)
    try:
        middleware = ClientAddressMiddleware(lambda request: logger.warning("inside") or SimpleNamespace())
        middleware(RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9"))
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    assert records[0].client == "203.0.113.9"
    assert not hasattr(records[1], "client")


# --- login lockout ------------------------------------------------------------------------------


def login(client, password, **meta):
    return client.post("/login/", {"username": "leader", "password": password}, **meta)


def test_a_new_forwarded_address_from_an_untrusted_peer_gets_no_fresh_login_attempts(client, people, settings):
    settings.IOC_TRUSTED_PROXIES = []
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    locked = login(client, PASSWORD, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert locked.status_code == 429
    # Another citizen's address is not locked out with it.
    assert login(client, PASSWORD, REMOTE_ADDR="198.51.100.8").status_code == 302


def test_behind_a_trusted_proxy_the_lockout_is_per_client(client, people, settings):
    settings.IOC_TRUSTED_PROXIES = [PROXY]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert login(client, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert login(client, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 302


# --- API throttles ------------------------------------------------------------------------------


def test_anonymous_api_calls_are_counted_per_address_not_per_forwarded_header(categories, settings, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    settings.IOC_TRUSTED_PROXIES = []
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    client = APIClient()
    codes = [
        client.get("/api/v1/reports/categories/", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(3)
    ]
    assert codes == [200, 200, 429]


def test_a_spoofed_forwarded_address_gets_no_fresh_submission_allowance(categories, settings, rates):
    settings.IOC_TRUSTED_PROXIES = []
    rates(report_submit_no_device="2/hour")
    codes = [post_report(HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert Report.objects.count() == 2


def test_two_devices_behind_one_address_each_get_their_allowance(categories, rates):
    rates(report_submit="2/hour", report_submit_no_device="1/hour")
    first, second = device_token(), device_token()
    assert [post_report(HTTP_X_IOC_DEVICE=first).status_code for _ in range(3)] == [201, 201, 429]
    assert [post_report(HTTP_X_IOC_DEVICE=second).status_code for _ in range(2)] == [201, 201]
    # A forged token is no device: it counts against the lower allowance of the address.
    assert [post_report(HTTP_X_IOC_DEVICE=first + "x").status_code for _ in range(2)] == [201, 429]


def test_the_ceiling_per_address_holds_whatever_the_devices(categories, rates):
    rates(report_submit="2/hour", report_submit_address="3/hour")
    codes = [post_report(HTTP_X_IOC_DEVICE=device_token()).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    # Another address is not held back by it.
    assert post_report(REMOTE_ADDR="198.51.100.9", HTTP_X_IOC_DEVICE=device_token()).status_code == 201


def test_signed_in_callers_are_counted_per_person(categories, people, api_as, rates):
    rates(report_submit="1/hour", report_submit_address="1/hour")
    operator, leader = api_as(people["operator"]), api_as(people["leader"])
    assert [post_report(operator).status_code for _ in range(2)] == [201, 429]
    assert post_report(leader).status_code == 201


def test_a_refusal_says_when_to_send_again(categories, rates):
    rates(report_submit_no_device="1/hour")
    assert post_report().status_code == 201
    refused = post_report()
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 3500 <= wait <= 3600
    detail = refused.json()["detail"]
    assert "Bạn có thể gửi" in detail and "60 phút" in detail
    english = post_report(HTTP_COOKIE="django_language=en").json()["detail"]
    assert "You can send yours from" in english


# --- the portal ---------------------------------------------------------------------------------

PORTAL_FORM = {
    "category": "o-ga",
    "description": "Đèn đường trước chợ Long Khánh bị hỏng",
    "latitude": str(LONG_KHANH[0]),
    "longitude": str(LONG_KHANH[1]),
}


def test_each_browser_of_a_commune_office_gets_its_own_portal_allowance(categories, rates):
    from django.test import Client

    rates(report_submit="2/hour")
    office = [Client(), Client()]
    for browser in office:
        assert browser.get("/report/").cookies["ioc_device"]["httponly"]
        assert [browser.post("/report/", PORTAL_FORM).status_code for _ in range(2)] == [302, 302]
    refused = office[0].post("/report/", PORTAL_FORM, HTTP_ACCEPT="application/json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["retry_after"] == int(refused["Retry-After"])
    with translation.override("vi"):
        assert "Bạn có thể gửi" in refused.json()["detail"]
    assert Report.objects.count() == 4
