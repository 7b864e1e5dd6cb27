"""What callers see while PostgreSQL or Redis is away: a short, honest "try again", never a 500 page.

- HTTP: the project's handler500 turns a database connection error into 503 with Retry-After, in
  the shape of the API that was called (`{"detail": ...}` under /api/, each app's own shape for its
  prefix, e.g. Open311's error array) or a short page in the site's style. Any other uncaught error
  is still a 500, in the same shapes.
- Websockets: a socket that cannot be set up (no session lookup, no channel layer) is accepted and
  closed at once with 1013 "Try Again Later", which a browser can read and retry on soon.
"""

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

from ioc.live_layer import CONNECTION_ERRORS

log = logging.getLogger(__name__)

# The fault drill measured a killed PostgreSQL back in about 3 s under `make run`'s supervisor.
RETRY_AFTER_SECONDS = 5
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "Try Again Later"
# A database that cannot be reached (psycopg2's OperationalError covers refused connections,
# restarts and failovers); Django wraps it as OperationalError or InterfaceError.
DATABASE_ERRORS = (OperationalError, InterfaceError)

ErrorShape = Callable[[object, int, str], HttpResponse]  # (request, status, message) -> response
_shapes: dict[str, ErrorShape] = {}


def register_error_shape(prefix: str, shape: ErrorShape) -> None:
    """An app's own error shape for the paths under `prefix` (called from AppConfig.ready())."""
    _shapes[prefix] = shape


def api_error(request, status: int, message: str) -> HttpResponse | None:
    """An error in the shape of the API the path belongs to, or None for a page."""
    shape = next((s for prefix, s in _shapes.items() if request.path.startswith(prefix)), None)
    if shape is not None:
        return shape(request, status, message)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return None


def server_error(request) -> HttpResponse:
    """handler500: an uncaught error; a database connection error is a 503 the caller may retry."""
    error = sys.exc_info()[1]
    unavailable = isinstance(error, DATABASE_ERRORS)
    if unavailable:
        status = 503
        message = _("The service is briefly unavailable while its database reconnects. Please try again shortly.")
    else:
        status = 500
        message = _("Something went wrong on our side. It has been recorded; please try again.")
    response = api_error(request, status, message)
    if response is None:
        # Rendered without the request: no context processor may touch the database that is away.
        response = HttpResponse(
            loader.render_to_string(
                "outage.html", {"status": status, "message": message, "retry_after": RETRY_AFTER_SECONDS}
            )
        )
        response.status_code = status
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class TurnAwayOnOutage:
    """ASGI wrapper of the websocket stack: Redis or PostgreSQL away at connect -> close with 1013."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        seen = {"connect": False, "accept": False}

        async def receiving():
            message = await receive()
            seen["connect"] |= message["type"] == "websocket.connect"
            return message

        async def sending(message):
            seen["accept"] |= message["type"] == "websocket.accept"
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except (*CONNECTION_ERRORS, *DATABASE_ERRORS) as exc:
            log.warning("live socket turned away while a server is unavailable: %s", exc)
            if not seen["connect"]:
                await receive()
            if not seen["accept"]:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
