"""Helpers for tests of the live path: real ASGI app, real session cookies, real channels_redis."""

import asyncio
import json

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from ioc.asgi import application


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def live_communicator(*, cookie: str | None = None, authorization: str | None = None) -> WebsocketCommunicator:
    """A /ws/live/ client as a screen on this site opens it, with a session cookie or other credentials."""
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    return WebsocketCommunicator(application, "/ws/live/", headers=headers)


async def open_socket(cookie: str | None):
    communicator = live_communicator(cookie=cookie)
    connected, code = await communicator.connect(timeout=5)
    if connected:
        hello = await communicator.receive_json_from(timeout=5)
        assert hello["type"] == "ioc.hello"
    return communicator, connected, code


async def collect(communicator, seconds: float) -> list[dict]:
    """Every message received within `seconds`."""
    messages = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if await communicator.receive_nothing(timeout=left):
            break
        messages.append(json.loads(await communicator.receive_from()))
    return messages


async def wait_for(communicator, predicate, seconds: float = 5.0) -> dict:
    """The first message matching `predicate`, failing after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    seen = []
    while (left := deadline - loop.time()) > 0:
        # receive_nothing() waits without killing the app on timeout, unlike receive_from().
        if await communicator.receive_nothing(timeout=left):
            break
        message = json.loads(await communicator.receive_from())
        if predicate(message):
            return message
        seen.append(message.get("type"))
    raise AssertionError(f"no matching live message within {seconds}s; saw {seen}")


async def close_worker_thread_connections():
    """Close the connection held by the thread that runs database_sync_to_async calls.

    Without this the test database cannot be dropped at the end of the session.
    """
    from channels.db import database_sync_to_async
    from django.db import connections

    await database_sync_to_async(connections.close_all)()
