"""The one loop every demo feed runs on (the feeds that `make run` starts as child processes).

A feed schedules tasks: a callable and its arguments, due some seconds from now (divided by the
feed's speed, so tests run a day of demo in seconds). A task returns the pause before it runs again,
or None when it is done. The loop runs what is due, sleeps in short steps so that SIGTERM or SIGINT
is noticed at once, keeps its database connection fresh between rounds (never inside a transaction:
the tests run feeds inside one), and survives a failing task: a database error closes the
connection, the error is logged, and the task runs again after `retry` seconds if it has one.
"""

import heapq
import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.db import DatabaseError, close_old_connections, connection

log = logging.getLogger(__name__)

SLEEP_STEP = 0.2  # seconds; a stop signal is noticed within this
TASKS_PER_ROUND = 50  # then the connection is refreshed and the clock read again


class Scheduler:
    def __init__(self, *, speed: float = 1.0, say: Callable[[str], None] | None = None):
        self.speed = speed
        self.say = say or (lambda text: None)
        self.stopping = False
        self._queue: list = []
        self._sequence = itertools.count()

    def at(self, seconds: float, task: Callable, *args, retry: float | None = None) -> None:
        """Run `task(*args)` in `seconds` (feed time); on failure again after `retry` seconds, if given."""
        due = time.monotonic() + max(0.0, seconds) / self.speed
        heapq.heappush(self._queue, (due, next(self._sequence), task, args, retry))

    def stop(self, *_signal) -> None:
        self.stopping = True

    @property
    def idle(self) -> bool:
        return not self._queue

    def run(self, *, duration: float | None = None) -> None:
        """Run tasks until stopped, until none is left, or for `duration` seconds of real time."""
        deadline = time.monotonic() + duration if duration else None
        while not self.stopping and self._queue:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            if self._queue[0][0] > now:
                self.sleep_until(min(self._queue[0][0], deadline) if deadline is not None else self._queue[0][0])
                continue
            if not connection.in_atomic_block:
                close_old_connections()  # a long-running process: drop a connection the database closed
            done = 0
            while self._queue and self._queue[0][0] <= now and done < TASKS_PER_ROUND and not self.stopping:
                _due, _seq, task, args, retry = heapq.heappop(self._queue)
                self._run_one(task, args, retry)
                done += 1

    def _run_one(self, task: Callable, args: tuple, retry: float | None) -> None:
        try:
            pause = task(*args)
        except Exception as exc:
            name = getattr(task, "__name__", str(task)).lstrip("_")
            log.warning("demo feed task %s failed (%s): %s", name, type(exc).__name__, exc)
            self.say(f"{name} failed: {type(exc).__name__}")
            if isinstance(exc, DatabaseError) and not connection.in_atomic_block:
                connection.close()
            if retry is not None:
                self.at(retry, task, *args, retry=retry)
            return
        if pause is not None:
            self.at(pause, task, *args, retry=retry)

    def sleep(self, seconds: float) -> None:
        self.sleep_until(time.monotonic() + seconds / self.speed)

    def sleep_until(self, wake: float) -> None:
        while not self.stopping:
            left = wake - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SLEEP_STEP, left))

    @contextmanager
    def stopping_on_signals(self):
        """SIGTERM and SIGINT stop the loop cleanly while inside; the previous handlers come back after."""
        previous = install_stop_signals(self.stop)
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def install_stop_signals(handler) -> dict:
    """Route SIGTERM and SIGINT to `handler`; returns the previous handlers to restore.

    Only the main thread may set signal handlers (a feed run inside a test thread gets none).
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handler)
    return previous
