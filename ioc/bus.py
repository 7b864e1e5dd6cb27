"""The live bus: the one way the server announces a change to screens.

- `publish()` announces an item's new absolute state (an alert, a report) to the groups of
  its unit, every ancestor unit and the deployment-wide group, after the transaction commits.
- `publish_kpis()` marks a subsystem's figures dirty for a unit and its ancestors; a sender
  thread recomputes them from the registry and sends each scope its own absolute figures, at
  most `KPI_MIN_INTERVAL` apart per (subsystem, scope), so a storm of writes becomes a few
  messages a second.

Delivery happens on a background thread with its own event loop: a write never waits on
Redis, and a Redis outage is logged and counted (`stats`), never raised to the caller.
Channel layers deliver at most once; screens heal from the snapshot API.
"""

import asyncio
import itertools
import json
import logging
import os
import queue
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from django.db import DatabaseError, connections, transaction

log = logging.getLogger(__name__)

ALL_GROUP = "live.all"
KPI_MIN_INTERVAL = 0.5  # seconds between two figure updates of one subsystem for one scope
SEND_TIMEOUT = 2.0
KPI_RETRY_AFTER = 5.0  # seconds before figures that could not be sent (Redis away) are sent again
QUEUE_SIZE = 10_000

stats: Counter = Counter()  # sent, failed, dropped, kpi_failed
_seq = itertools.count(time.time_ns() // 1000)  # increasing per publisher, across restarts too


def unit_group(code: str) -> str:
    return f"unit.{code}"


# Every socket also listens on its user's own group, so that signing a user out (or deactivating
# the account) closes the sockets already open: a consumer checks the session only when it connects.
SESSION_ENDED = "ioc.session.ended"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def end_sockets(user_id) -> None:
    """Close every live socket of this user once the current transaction commits."""
    transaction.on_commit(lambda: _sender().put_message([user_group(user_id)], {"type": SESSION_ENDED}))


def groups_for(unit) -> list[str]:
    """The unit's own group, its ancestors' groups and the deployment-wide group."""
    if unit is None:
        return [ALL_GROUP]
    return [unit_group(code) for code in unit.ancestor_codes()] + [ALL_GROUP]


def layer_message(message: dict) -> dict:
    """What the channel layer carries for one live message.

    The JSON text is encoded here, once per message, and every socket of every group sends those
    same characters: with hundreds of screens, encoding per socket was most of the fan-out's cost.
    Ending a session is not text for the screen but an order to its socket (see consumers).
    """
    if message.get("type") == SESSION_ENDED:
        return {"type": "live.session_ended"}
    return {"type": "live.text", "text": json.dumps(message, ensure_ascii=False, separators=(",", ":"))}


def envelope(*, type: str, subsystem: str, unit_code: str, data: dict) -> dict:
    return {
        "type": type,
        "subsystem": subsystem,
        "unit": unit_code,
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "seq": next(_seq),
        "data": data,
    }


def publish(*, type: str, subsystem: str, unit, data: dict, extra_units=()) -> None:
    """Announce `data` (absolute state) to `unit`'s scope once the current transaction commits.

    `extra_units` reach further scopes too (a report seen by its ward and by the department
    assigned to it); each group gets the message once.
    """
    groups = list(dict.fromkeys(g for u in (unit, *extra_units) for g in groups_for(u)))
    unit_code = unit.code if unit is not None else ""

    def send():
        _sender().put_message(groups, envelope(type=type, subsystem=subsystem, unit_code=unit_code, data=data))

    transaction.on_commit(send)


def publish_kpis(*, subsystem: str, unit) -> None:
    """Refresh `subsystem`'s figures on the screens of `unit` and every scope above it, after commit."""
    scopes = [None] + ([] if unit is None else list(unit.ancestor_codes()))

    def changed():
        from ioc.selectors import forget_figures

        try:
            forget_figures(subsystem, scopes)  # a snapshot read from now on computes them afresh
        except Exception as exc:  # Redis away: the kept figures expire in seconds anyway
            log.warning("kept figures not dropped: %s", exc, extra={"subsystem": subsystem})
        _sender().mark_dirty(subsystem, scopes)

    transaction.on_commit(changed)


def flush(timeout: float = 5.0) -> bool:
    """Wait until everything queued so far was handed to the channel layer (tests, shutdown)."""
    return _sender().flush(timeout)


class _Sender:
    """Two threads, each with its own event loop: one sends messages as they come, the other
    computes figures and hands them to the first. An alert never waits behind a round of figures
    (a burst dirties every scope it touches, each a few queries to compute)."""

    def __init__(self):
        self.pid = os.getpid()
        self.messages: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self.dirty: dict[tuple[str, str | None], float] = {}  # (subsystem, unit code) -> marked at
        self.last_kpi: dict[tuple[str, str | None], float] = {}
        # Figures whose send failed (Redis away) -> when to send them again. Not "waiting" for flush():
        # they were handed to the layer once; they are re-sent so screens catch up when Redis returns.
        self.retry: dict[tuple[str, str | None], float] = {}
        self.lock = threading.Lock()  # dirty, last_kpi, retry
        self.queue_lock = threading.Lock()  # the queue's emptiness and `sent_all` change together
        self.wake = threading.Event()  # figures to look at now
        self.sent_all = threading.Event()  # every queued message handed to the layer
        self.figures_done = threading.Event()  # no figures waiting to be computed
        self.sent_all.set()
        self.figures_done.set()
        self.thread = threading.Thread(target=self._send_loop, name="ioc-live-bus", daemon=True)
        self.figures = threading.Thread(target=self._figures_loop, name="ioc-live-figures", daemon=True)
        self.thread.start()
        self.figures.start()

    def put_message(self, groups, message, on_failed=None):
        with self.queue_lock:
            try:
                self.messages.put_nowait((groups, message, on_failed))
            except queue.Full:
                stats["dropped"] += 1
                log.warning("live bus queue full; message dropped", extra={"type": message["type"]})
                return
            self.sent_all.clear()

    def mark_dirty(self, subsystem, scopes):
        now = time.monotonic()
        with self.lock:
            for code in scopes:
                self.dirty.setdefault((subsystem, code), now)
            self.figures_done.clear()
        self.wake.set()

    def flush(self, timeout):
        deadline = time.monotonic() + timeout
        self.wake.set()
        # Figures first: computing them queues messages, which must then be sent too.
        if not self.figures_done.wait(timeout):
            return False
        return self.sent_all.wait(max(0.0, deadline - time.monotonic()))

    def _send_loop(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        from channels.layers import get_channel_layer

        while True:
            groups, message, on_failed = self.messages.get()
            layer = get_channel_layer()  # looked up each time: settings may point it elsewhere
            if not loop.run_until_complete(self._send(layer, groups, message)) and on_failed is not None:
                on_failed()
            with self.queue_lock:
                if self.messages.empty():
                    self.sent_all.set()

    def _figures_loop(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        from channels.layers import get_channel_layer

        while True:
            self.wake.wait(timeout=KPI_MIN_INTERVAL)
            self.wake.clear()
            waiting = self._send_due_kpis(loop, get_channel_layer())
            with self.lock:
                if not waiting and not self.dirty:
                    self.figures_done.set()

    def _retry_later(self, key) -> None:
        with self.lock:
            self.retry[key] = time.monotonic() + KPI_RETRY_AFTER

    def _send_due_kpis(self, loop, layer) -> bool:
        now = time.monotonic()
        with self.lock:
            candidates = [key for key in self.dirty if now - self.last_kpi.get(key, 0.0) >= KPI_MIN_INTERVAL]
            again = [key for key, at in self.retry.items() if at <= now]
            for key in again:
                del self.retry[key]
        # Asked first: a burst dirties every ward it touches, and claiming a window for each costs a
        # Redis call that a ward nobody watches does not need.
        watched = set(self._watched(loop, layer, candidates + again))
        with self.lock:
            for key in candidates:
                if key not in watched:
                    self.dirty.pop(key, None)  # no screen to tell; one that opens reads the snapshot
            # Several web and worker processes publish: one window per (subsystem, scope) for all of
            # them, claimed in Redis. A process that loses keeps its mark and tries after the window,
            # so the last change is always sent (figures are absolute; a repeat is harmless).
            due = [key for key in candidates if key in watched and key in self.dirty and _claim_kpi_window(key)]
            for key in due:
                del self.dirty[key]
                self.last_kpi[key] = now
            waiting = bool(self.dirty)
            due += [key for key in again if key in watched and key not in due]
        if not due:
            return waiting
        from ioc.selectors import subsystem_panel

        try:
            for subsystem, code in due:
                try:
                    panel = subsystem_panel(subsystem, code)
                except Exception as exc:  # the database away, say: compute and send them again later
                    stats["kpi_failed"] += 1
                    if isinstance(exc, DatabaseError):  # an outage: one line, not a traceback per subsystem
                        log.warning(
                            "live figures not computed, the database is away: %s", exc, extra={"subsystem": subsystem}
                        )
                    else:
                        log.exception("computing live figures failed", extra={"subsystem": subsystem, "unit": code})
                    self._retry_later((subsystem, code))
                    continue
                if panel is None:
                    continue
                group = unit_group(code) if code else ALL_GROUP
                message = envelope(type=f"{subsystem}.kpis", subsystem=subsystem, unit_code=code or "", data=panel)
                # Redis away: these figures are sent again later, so they reach the screens once it is back.
                self.put_message([group], message, on_failed=lambda key=(subsystem, code): self._retry_later(key))
        finally:
            # This thread wakes rarely: hold no database connection between rounds.
            connections.close_all()
        return waiting

    def _watched(self, loop, layer, due):
        """The due figures some screen listens for: a burst dirties every ward it touches, and a
        ward nobody has open needs no figures (a screen that opens later reads the snapshot first).
        When Redis cannot say, all of them."""
        listeners = getattr(layer, "group_listeners", None)
        if listeners is None or not due:
            return due
        groups = {key: unit_group(key[1]) if key[1] else ALL_GROUP for key in due}
        try:
            counts = loop.run_until_complete(asyncio.wait_for(listeners(set(groups.values())), SEND_TIMEOUT))
        except Exception as exc:  # Redis away: compute them all; their sends fail and are retried as before
            log.debug("live bus: listener counts unavailable: %s", exc)
            return due
        watched = [key for key in due if counts.get(groups[key], 1) > 0]
        stats["kpi_unwatched"] += len(due) - len(watched)
        return watched

    async def _send(self, layer, groups, message) -> bool:
        payload = layer_message(message)
        delivered = True
        for group in groups:
            try:
                await asyncio.wait_for(layer.group_send(group, payload), SEND_TIMEOUT)
                stats["sent"] += 1
            except Exception as exc:  # Redis down or slow: count it, the database still holds the truth
                stats["failed"] += 1
                delivered = False
                log.warning("live bus send failed: %s", exc, extra={"group": group, "type": message["type"]})
        return delivered


def _claim_kpi_window(key) -> bool:
    """Claim the next KPI window for (subsystem, scope) across processes (Redis SET NX PX)."""
    from django.conf import settings
    from django_redis import get_redis_connection

    subsystem, code = key
    name = f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'ioc')}:bus:kpi:{subsystem}:{code or '*'}"
    try:
        return bool(get_redis_connection().set(name, os.getpid(), nx=True, px=int(KPI_MIN_INTERVAL * 1000)))
    except Exception:  # Redis unreachable: send as before; the send fails and is counted, never stuck
        return True


_instance: _Sender | None = None
_instance_lock = threading.Lock()


def _sender() -> _Sender:
    global _instance
    # A forked worker process inherits the object but not the thread: start a fresh one.
    if _instance is None or _instance.pid != os.getpid():
        with _instance_lock:
            if _instance is None or _instance.pid != os.getpid():
                _instance = _Sender()
    return _instance
