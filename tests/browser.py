"""A real ASGI server (daphne) on the test database, and a real headless Chromium to drive it."""

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.db import connection

# The tests' browsers are set up like a phone or PC in Vietnam: public pages follow Accept-Language.
CHROMIUM_ARGS = [
    "--accept-lang=vi-VN,vi",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing; .ci/run installs the Debian chromium package.")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped.")
    return path


def test_database_url() -> str:
    """The configured DATABASE_URL, pointed at the test database."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def asgi_server(port: int | None = None, **environment: str):
    """daphne serving the project against the test database and the test Redis; `port` to serve
    again where a stopped server was, `environment` for settings read from it (IOC_MAP_TILES_URL)."""
    port = port or free_port()
    env = dict(
        os.environ,
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DB_CONN_MAX_AGE="0",
        **environment,
    )
    log_path = settings.VAR_DIR / "asgi-test-server.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ioc.asgi:application"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(f"{url}/healthz", timeout=1).read()  # noqa: S310 (local test server)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start; see {log_path}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def collected_static():
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture
def browser():
    """A headless Chromium; pages are opened by the test (desktop or phone-sized)."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def with_real_password(user, password):
    """Give `user` a password the server process (production hashers) can check."""
    from django.conf import global_settings
    from django.contrib.auth.hashers import make_password
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        user.password = make_password(password)
    user.save(update_fields=["password"])
    return user


def log_in(page, url, username, password, next_path):
    page.goto(f"{url}/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}{next_path}")


def on_server(function, **kwargs):
    """Run a service call in a plain thread, as the server would (Playwright holds an event loop here)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return function(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def watch_policy_violations(page) -> list[str]:
    """Content-Security-Policy violations and script errors on a page: a refused script fails silently."""
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found
