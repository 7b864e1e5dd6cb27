"""Keeps what `make run` starts running: children restarted with backoff, embedded servers revived.

A child process (web, worker, beat, a demo feed, the MQTT bridge) that exits while nobody asked it
to is started again after a pause that doubles with each quick failure (1 s, 2 s, 4 s ... 30 s) and
resets once it has run a minute. An embedded server (PostgreSQL, Redis) found dead is started again
on the same data directory. Every restart is logged. `stop()` ends everything in order: the
children's process groups get SIGTERM, then SIGKILL after a grace period.
"""

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long starts again from the first pause
CHECK_EVERY = 0.5
SERVER_CHECK_EVERY = 2.0
STOP_GRACE_SECONDS = 10


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    start_after: float = 0.0  # monotonic time of the next start while it is down


@dataclass
class Server:
    """An embedded server to keep alive: `alive()` says whether it answers, `start()` revives it."""

    name: str
    alive: Callable[[], bool]
    start: Callable[[], object]
    restarts: int = 0
    checked_at: float = 0.0


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], *, env: dict, servers: list[Server] = (), say=None):
        self.children = {name: Child(name, argv) for name, argv in commands.items()}
        self.env = env
        self.servers = list(servers)
        self.say = say or (lambda text: log.warning(text))
        self.stopping = False

    # --- running ----------------------------------------------------------------------------------

    def start(self) -> None:
        for child in self.children.values():
            self._spawn(child)

    def run(self) -> None:
        """Watch until stop is requested (`request_stop()`, e.g. from a signal handler)."""
        while not self.stopping:
            self.check()
            time.sleep(CHECK_EVERY)

    def request_stop(self, *_args) -> None:
        self.stopping = True

    def check(self) -> None:
        """One round: revive dead servers first (children need them), then dead children."""
        now = time.monotonic()
        for server in self.servers:
            if now - server.checked_at >= SERVER_CHECK_EVERY:
                server.checked_at = now
                self._keep_server(server)
        for child in self.children.values():
            if self.stopping:
                return
            if child.process is not None and child.process.poll() is not None:
                self._on_exit(child, now)
            if child.process is None and now >= child.start_after:
                self._spawn(child)
                child.restarts += 1

    def _keep_server(self, server: Server) -> None:
        try:
            if server.alive():
                return
        except Exception:  # noqa: S110  (a failing probe means: not alive)
            pass
        self.say(f"{server.name} is not running; starting it again (data kept).")
        try:
            server.start()
            server.restarts += 1
            self.say(f"{server.name} is running again.")
        except Exception as exc:
            self.say(f"{server.name} did not start ({exc}); trying again shortly.")

    def _on_exit(self, child: Child, now: float) -> None:
        code = child.process.returncode
        ran = now - child.started_at
        child.process = None
        child.failures_in_a_row = 0 if ran >= HEALTHY_AFTER else child.failures_in_a_row + 1
        pause = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, child.failures_in_a_row - 1))
        child.start_after = now + pause
        self.say(f"{child.name} exited with code {code} after {ran:.0f} s; starting it again in {pause:.0f} s.")

    def _spawn(self, child: Child) -> None:
        # Each child leads its own process group so that stopping it stops its own children too.
        child.process = subprocess.Popen(child.argv, env=self.env, start_new_session=True)
        child.started_at = time.monotonic()

    # --- stopping ---------------------------------------------------------------------------------

    def stop(self) -> None:
        self.stopping = True
        running = [c.process for c in self.children.values() if c.process is not None]
        for process in running:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in running:
            _signal_group(process, signal.SIGKILL)  # whatever is left in the group, the child included
            process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
