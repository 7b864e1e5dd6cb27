"""The one loop every demo feed runs on (the feeds that `make run` starts as child processes), and the
command around it.

An app's demo feed is a `Feed` in its `demo.py` (what to send, and when) and a `FeedCommand` in its
management commands (its options). `run_feed` loads the demo data the feed needs, runs it until
SIGTERM, SIGINT, the end of `--duration` or of its tasks, and lets the last screen updates out.

A feed schedules tasks: a callable and its arguments, due some seconds from now (divided by the
feed's speed, so tests run a day of demo in seconds). A task returns the pause before it runs again,
or None when it is done. The loop runs what is due, sleeps in short steps so that SIGTERM or SIGINT
is noticed at once, keeps its database connection fresh between rounds (never inside a transaction:
the tests run feeds inside one), and survives a failing task: a database error closes the
connection, the error is logged, and the task runs again after `retry` seconds if it has one.
"""

import argparse
import heapq
import itertools
import logging
import math
import random
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from ioc import bus

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
            survive(exc, getattr(task, "__name__", str(task)).lstrip("_"), self.say)
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


def survive(exc: Exception, what: str, say: Callable[[str], None] | None = None) -> None:
    """Live through a failed step: log it, tell the console if `say` is given, and drop the connection
    after a database error so the next step opens a fresh one (never inside a transaction: the tests
    run feeds inside one)."""
    log.warning("demo feed: %s failed (%s): %s", what, type(exc).__name__, exc)
    if say is not None:
        say(f"{what} failed: {type(exc).__name__}")
    if isinstance(exc, DatabaseError) and not connection.in_atomic_block:
        connection.close()


class DemoDataMissing(Exception):
    """The demo data a feed works on is not there; the message says what is missing."""


class Feed:
    """What one app's demo feed sends, and when.

    A subclass reads the demo data it needs in `load()` (raising DemoDataMissing when it is absent),
    does its opening work and schedules its first tasks in `start()`, and sums up a run that ended by
    itself in `summary()`. `rng` follows --seed, so a seeded run repeats its content.
    """

    def __init__(self, *, say: Callable[[str], None] | None = None, speed: float = 1.0, seed: int | None = None):
        self.say = say or (lambda text: None)
        self.rng = random.Random(seed)
        self.scheduler = Scheduler(speed=speed, say=self.say)

    def at(self, seconds: float, task: Callable, *args, retry: float | None = None) -> None:
        self.scheduler.at(seconds, task, *args, retry=retry)

    def load(self) -> None:
        """Read the demo data the feed works on."""

    def start(self) -> None:
        raise NotImplementedError

    def summary(self) -> str:
        return "done"


def run_feed(feed: Feed, *, duration: float | None = None) -> None:
    """Run `feed` until a stop signal, the end of `duration` seconds (real time) or of its tasks."""
    feed.load()
    try:
        # The opening work (a backlog, a history) is inside too: a signal during it stops the feed cleanly.
        with feed.scheduler.stopping_on_signals():
            feed.start()
            feed.scheduler.run(duration=duration or None)
    finally:
        if not connection.in_atomic_block:
            bus.flush(timeout=2)  # the last screen updates go out before the process ends
    feed.say("stopped" if feed.scheduler.stopping else feed.summary())


def _checked(kind: type, valid: Callable, wrong: str) -> Callable[[str], float]:
    """An argparse type: `kind(text)`, refused unless finite and `valid`."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole' if kind is int else 'a'} number") from None
        if not math.isfinite(value) or not valid(value):
            raise argparse.ArgumentTypeError(f"{text} {wrong}")
        return value

    return parse


positive = _checked(float, lambda value: value > 0, "must be positive")
seconds = _checked(float, lambda value: value >= 0, "must not be negative")
count = _checked(int, lambda value: value >= 0, "must not be negative")


class FeedCommand(BaseCommand):
    """A command running one demo feed: --speed, --seed and --duration, the feed's own options from
    `add_feed_arguments`, timestamped console lines, exit code 0 after a stop signal."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--speed", type=positive, default=1.0, help="Divide every pause by this factor (10: ten times as busy)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Seed for a reproducible run.")
        parser.add_argument(
            "--duration", type=seconds, default=0.0, help="Stop after this many seconds (0: run until stopped)."
        )
        self.add_feed_arguments(parser)

    def add_feed_arguments(self, parser) -> None:
        """The feed's own options."""

    def build_feed(self, options: dict, **common) -> Feed:
        """The feed, from the command's options; `common` (say, speed, seed) goes to `Feed`."""
        raise NotImplementedError

    def handle(self, *args, speed, seed, duration, **options):
        try:
            run_feed(self.build_feed(options, say=self.say, speed=speed, seed=seed), duration=duration)
        except DemoDataMissing as exc:
            raise CommandError(f"Demo data is missing: {exc}. Run `python manage.py load_demo` first.") from exc

    def say(self, text: str) -> None:
        self.stdout.write(f"{timezone.localtime():%H:%M:%S} {text}")
        self.stdout.flush()
