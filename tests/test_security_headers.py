"""Security headers: a Content-Security-Policy without inline scripts, Permissions-Policy, HSTS, /readyz."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("who", [None, "leader", "operator"])
def test_pages_forbid_inline_scripts(client, people, categories, who):
    if who:
        client.force_login(people[who])
    pages = {None: ["/", "/report/", "/track/", "/public/", "/login/", "/admin/login/"]}.get(
        who, ["/wall/", "/console/"]
    )
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        csp = policy(response)
        script_src = csp.get("script-src", csp["default-src"])
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, page
        assert script_src == ["'self'"], page
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
        assert "<script>" not in response.content.decode(), page  # every script is a file, or JSON data


def test_swagger_ui_has_its_start_script_as_a_file(client):
    page = client.get("/api/docs/")
    csp = policy(page)
    assert csp["script-src"] == ["'self'"] and "'unsafe-inline'" in csp["style-src"]
    html = page.content.decode()
    assert "<script>" not in html and "?script=" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_permissions_policy_allows_only_our_own_geolocation(client):
    header = client.get("/report/")["Permissions-Policy"]
    assert "camera=()" in header and "microphone=()" in header and "geolocation=(self)" in header
    assert "Permissions-Policy" in client.get("/healthz")


def run_settings(**env) -> str:
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS)"
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        check=True,
    )
    return run.stdout.strip()


def test_hsts_only_over_https(client, settings):
    assert run_settings(IOC_HTTPS="false") == "0"
    assert run_settings(IOC_HTTPS="true", IOC_HSTS_SECONDS="600") == "600"
    assert "Strict-Transport-Security" not in client.get("/healthz")
    settings.SECURE_HSTS_SECONDS = 600  # read when the middleware is built: a new client builds it again
    assert Client().get("/healthz", secure=True)["Strict-Transport-Security"] == "max-age=600"


def test_readiness_tells_the_public_only_ok(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}


def test_readiness_in_detail_for_staff_and_internal_addresses(client, people, settings):
    client.force_login(people["staff_lk"])
    detail = client.get("/readyz").json()
    assert detail["checks"] == {"database": "ok", "redis": "ok"} and "worker_last_beat" in detail
    client.logout()
    settings.IOC_INTERNAL_ADDRESSES = ["10.8.0.0/16"]
    assert "checks" in client.get("/readyz", REMOTE_ADDR="10.8.1.20").json()
    assert "checks" not in client.get("/readyz", REMOTE_ADDR="198.51.100.7").json()
    # A forwarded header from an untrusted peer does not make a caller internal.
    settings.IOC_TRUSTED_PROXIES = []
    assert "checks" not in client.get("/readyz", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.8.1.20").json()
