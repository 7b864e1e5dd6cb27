"""Wall screen accounts: a display left signed in, that reaches only the wall and what the wall reads.

A screen is an account with the `screen` role (ioc.roles.SCREEN) and a home unit, which sets the
wall's scope as for anyone. Three things set it apart:

- What it may reach is one list, held here by `ScreenMiddleware` (docs/security.md, "Screen login"):
  the wall, the snapshot API, the map layers the registry lists and `/api/v1/map/`, static files,
  choosing the language, signing out and `/healthz`; `/`, `/home/` and `/login/` lead to the wall.
  Anything else, a route added later included, is refused with 403 before any view runs. The live
  socket (`/ws/live/`) only ever sends to a screen; it takes nothing from it but pings.
- Its session lasts `IOC_SCREEN_SESSION_DAYS` and is renewed while the wall is in use (at most once a
  day, so a wall reading every minute does not write its session every minute): a wall never meets
  the login form in the middle of the night.
- An administrator ends it from the admin ("Sign out this screen everywhere": its sessions are
  deleted and its open sockets closed), or by deactivating or deleting the account.
"""

import logging
import time
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ioc import bus, outage, registry
from ioc.roles import SCREEN, has_role

log = logging.getLogger(__name__)

# The map's own endpoints live under this prefix: all of them are for the wall, so all are open to it.
MAP_PREFIX = "/api/v1/map/"
READS = {"GET", "HEAD"}
RENEWED = "ioc_screen_renewed"  # in the session: when its expiry was last pushed forward (epoch seconds)
RENEW_AT_MOST_EVERY = timedelta(days=1)

ALLOW, TO_WALL, REFUSE = "allow", "to wall", "refuse"


def is_screen(user) -> bool:
    """A screen is restricted whatever other role the account also holds."""
    return has_role(user, SCREEN)


def session_length() -> timedelta:
    return timedelta(days=settings.IOC_SCREEN_SESSION_DAYS)


def _renew_every(length: timedelta) -> timedelta:
    # A short session (one day) is renewed well before it runs out, not only once it has.
    return min(RENEW_AT_MOST_EVERY, length / 4)


def keep_alive(request) -> None:
    """Give a screen's session its length again when it was last renewed long enough ago."""
    session = getattr(request, "session", None)
    if session is None:
        return
    length = session_length()
    seconds = int(length.total_seconds())
    renewed = session.get(RENEWED)
    now = int(time.time())
    stale = renewed is None or now - renewed >= _renew_every(length).total_seconds()
    if stale or session.get_expiry_age() != seconds:
        # An expiry in seconds counts from the session's last save, and the session cookie's max-age
        # follows it: writing the session is what renews both.
        session.set_expiry(seconds)
        session[RENEWED] = now


def _forget(request) -> None:
    """An account that is no longer a screen goes back to the ordinary session length."""
    request.session.pop(RENEWED, None)
    request.session.set_expiry(None)


def _path(url_name: str) -> str:
    """A URL's path as `request.path_info` spells it (without the script prefix)."""
    return "/" + reverse(url_name).removeprefix(get_script_prefix())


def map_layer_paths() -> set[str]:
    """The paths of the map layers the wall draws, as the registry lists them (queries aside)."""
    return {urlsplit(s.map_layer).path for s in registry.enabled() if s.map_layer}


def verdict(request) -> str:
    """What a signed-in screen gets for this request: ALLOW, TO_WALL (a redirect) or REFUSE."""
    path, reads = request.path_info, request.method in READS
    if "/../" in path or path.endswith("/.."):
        return REFUSE  # no climbing out of an open prefix (`/api/v1/map/../reports/`)
    if request.path.startswith(settings.STATIC_URL):
        return ALLOW if reads else REFUSE
    if path in (_path("logout"), _path("set_language")):
        return ALLOW
    if not reads:
        return REFUSE  # a screen writes nothing
    if path in (_path("wall"), _path("dashboard-snapshot"), _path("healthz")):
        return ALLOW
    if path.startswith(MAP_PREFIX) or path in map_layer_paths():
        return ALLOW
    if path in ("/", _path("home"), _path("login")):
        return TO_WALL
    return REFUSE


def refusal(request):
    message = _(
        "This is a wall screen account: it may open only the wall. Sign in with a staff account for anything else."
    )
    response = outage.api_error(request, 403, message)  # the called API's error shape, if it is an API
    if response is None:
        response = render(request, "ioc/screen_refused.html", {"message": message}, status=403)
    return response


class ScreenMiddleware:
    """The one place a screen's reach is decided: what is not listed in `verdict()` is refused.

    Runs after the session and authentication middleware, before any view, so no view needs to
    know about screens and a new route is closed to them until it is listed here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # No session cookie: not a signed-in person; leave the request (and its Vary header) alone.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if not is_screen(user):
            if RENEWED in request.session:
                _forget(request)
            return self.get_response(request)
        keep_alive(request)
        decision = verdict(request)
        if decision == TO_WALL:
            return redirect("wall")
        if decision == REFUSE:
            return refusal(request)
        return self.get_response(request)


# --- ending a user's sessions ---------------------------------------------------------------------


def _session_store():
    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseStore):
        # Only sessions kept in the database (db, cached_db) can be found by their user.
        raise ImproperlyConfigured("Signing a user out everywhere needs SESSION_ENGINE db or cached_db.")
    return store


def end_sessions(user) -> int:
    """Delete every session of `user` and close its open live sockets (after commit). Returns how many.

    Sessions carry their user only inside their signed data, so each live session is read once; a
    command centre holds a few hundred at most.
    """
    from django.contrib.sessions.models import Session

    store = _session_store()
    user_id = str(user.pk)
    ended = 0
    rows = Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data")
    for key, data in rows.iterator():
        if store().decode(data).get(SESSION_KEY) == user_id:
            store(session_key=key).delete()  # through the store: cached_db forgets its cached copy too
            ended += 1
    bus.end_sockets(user.pk)
    return ended


# --- signals (connected in IocConfig.ready) -------------------------------------------------------


def on_login(sender, request, user, **kwargs):
    if request is not None and is_screen(user):
        keep_alive(request)


def on_user_saved(sender, instance, created=False, update_fields=None, **kwargs):
    # A deactivated account's requests are refused already (Django's backend); its sockets are not.
    if created or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    end_sessions(instance)


def on_user_deleted(sender, instance, **kwargs):
    end_sessions(instance)


def connect_signals() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    user_logged_in.connect(on_login, dispatch_uid="ioc.screens.on_login")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="ioc.screens.on_user_saved")
    post_delete.connect(on_user_deleted, sender=user_model, dispatch_uid="ioc.screens.on_user_deleted")
