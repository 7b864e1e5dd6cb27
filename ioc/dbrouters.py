"""Screen reads from a PostgreSQL streaming replica, everything else from the primary.

A province that grows adds a replica for what the screens read again and again (the wall, its
snapshot and map, the public portal's lists, maps and on-time rates, Open311 searches) and keeps
every write and every other read on the primary. The choice is explicit and per view: a view opts
in with `@reads_from_replica`; nothing else ever reads from the replica. With no
DATABASE_REPLICA_URL there is no `replica` database and this router changes nothing.

A read goes to the replica only when all of these hold:
- it runs inside a view marked `@reads_from_replica`, for a GET, HEAD or OPTIONS request;
- the `replica` database is configured;
- the primary is not inside a transaction (what a transaction reads must be what it writes on);
- nothing was written yet in this request (a request reads its own writes, which the replica may
  not have received yet);
- the model is not one of the sign-in models (sessions, users, API keys, permissions): they are
  written at sign-in and on every use, and the next request, a second later, must find them.

A replica that does not answer costs the screens nothing but the primary's time: their reads go to
the primary for REPLICA_RETRY_SECONDS, then the replica is tried again.

A replica trails the primary by a fraction of a second, a second or two under load: a screen that
shows figures a second old is right (the live push brings the change anyway, and the next snapshot
repairs a missed push). See docs/scaling.md.
"""

import contextvars
import functools
import inspect
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

log = logging.getLogger(__name__)

REPLICA = "replica"
REPLICA_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A replica that does not answer is left alone this long: meanwhile screens read from the primary.
REPLICA_RETRY_SECONDS = 10.0
_replica_away_until = 0.0

# Always on the primary: a session or a login written by one request is read by the next one, which
# a lagging replica could answer with "signed out". Their writes never make a request's other reads
# go to the primary either, since these models are never read from the replica.
PRIMARY_APPS = frozenset({"auth", "sessions", "contenttypes", "admin", "axes"})
PRIMARY_MODELS = frozenset({"ioc.user", "ioc.apikey"})


@dataclass
class _ReplicaReads:
    written: bool = False


# Set for the duration of a marked view. A context variable, not a thread-local: under ASGI a sync
# view runs in a worker thread, and asgiref's sync_to_async carries the caller's context into it.
_reads: contextvars.ContextVar[_ReplicaReads | None] = contextvars.ContextVar("ioc_replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _replica_answers() -> bool:
    """Connect to the replica if need be; a replica that is away sends the screens to the primary."""
    global _replica_away_until
    if time.monotonic() < _replica_away_until:
        return False
    replica = connections[REPLICA]
    if replica.connection is not None:
        return True
    try:
        replica.ensure_connection()
    except DatabaseError as exc:
        _replica_away_until = time.monotonic() + REPLICA_RETRY_SECONDS
        log.warning("replica unreachable, screens read from the primary for %.0f s: %s", REPLICA_RETRY_SECONDS, exc)
        return False
    return True


def _pinned_to_primary(model) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_APPS or meta.label_lower in PRIMARY_MODELS


class ReplicaRouter:
    """DATABASE_ROUTERS entry: screen reads to `replica`, the rest to `default` (see the module)."""

    def db_for_read(self, model, **hints):
        if not replica_configured():
            return None  # no replica: Django decides as it always has
        state = _reads.get()
        if (
            state is None
            or state.written
            or _pinned_to_primary(model)
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
            or not _replica_answers()
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _reads.get()
        if state is not None and not _pinned_to_primary(model):
            state.written = True  # from here on this request reads its own writes from the primary
        if not replica_configured():
            return None
        # Always the primary, even for an object that was read from the replica.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica copies the primary's schema through the stream; it is read-only.
        if db == REPLICA:
            return False
        return None


@contextmanager
def _replica_reads(request, unless=None):
    if _reads.get() is not None or request.method not in REPLICA_METHODS or (unless is not None and unless(request)):
        yield
        return
    token = _reads.set(_ReplicaReads())
    try:
        yield
    finally:
        _reads.reset(token)


def _request_in(args):
    """The request among a view's arguments: first for a function, second for a method."""
    for arg in args[:2]:
        if hasattr(arg, "method") and hasattr(arg, "META"):
            return arg
    raise TypeError("reads_from_replica: the view was called without a request")


def reads_from_replica(view=None, *, unless=None):
    """Let this view's reads of a GET, HEAD or OPTIONS come from the replica (see the module).

    Works on a view function (`@api_view` ones too: put it above), a view method (a viewset's action)
    and a view class (Django's or DRF's: its `dispatch`). `unless(request)` -> True keeps that request
    on the primary (a caller following its own write, say).
    """

    def decorate(view):
        if inspect.isclass(view):
            view.dispatch = decorate(view.dispatch)
            return view
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def marked_async(*args, **kwargs):
                with _replica_reads(_request_in(args), unless):
                    return await view(*args, **kwargs)

            return marked_async

        @functools.wraps(view)
        def marked(*args, **kwargs):
            with _replica_reads(_request_in(args), unless):
                return view(*args, **kwargs)

        return marked

    return decorate if view is None else decorate(view)
