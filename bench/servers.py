"""The servers a benchmark run uses: PostgreSQL and Redis, then the ASGI server under test.

The ASGI server is daphne (one process, as `make run` started it until uvicorn was measured) or
uvicorn with N worker processes: `python -m bench --server uvicorn --workers 2`, or the
environment variables IOC_BENCH_SERVER and IOC_BENCH_WORKERS (IOC_BENCH_WS or `--ws` picks uvicorn's
websocket implementation: websockets, websockets-sansio or wsproto).

Everything here runs before Django settings are imported (`prepare`) or after (`asgi`, `Watch`).
"""

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

REPO = Path(__file__).resolve().parent.parent
# The bench's own embedded servers and results: IOC_VAR_DIR when set, so that two runs on one
# machine can each have theirs; var/bench otherwise, apart from what `make run` keeps in var/.
BENCH_VAR = Path(os.environ.get("IOC_VAR_DIR") or REPO / "var" / "bench").resolve()
DATABASE = "ioc_bench"
CHANNEL_PREFIX = "ioc-bench"
LOG_PATH = BENCH_VAR / "server.log"  # the ASGI server's output, rewritten for each server
SERVERS = ("daphne", "uvicorn")


@dataclass
class Servers:
    embedded_postgres: bool
    embedded_redis: bool

    def stop(self) -> None:
        """Stop the embedded servers this run started (configured servers are left alone)."""
        from ioc import embedded

        if self.embedded_postgres and self.embedded_redis:
            embedded.stop_all()
        elif self.embedded_redis:
            embedded.stop_redis()
        elif self.embedded_postgres:
            embedded.stop_postgres()


def _configured_database(url: str, database: str = DATABASE) -> str:
    """Create `database` (ioc_bench) next to the configured database and return its URL."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    connection = psycopg2.connect(url, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()
    return urlunsplit(parts._replace(path="/" + database))


def prepare(database: str = DATABASE) -> Servers:
    """Point this process (and the ASGI server it starts) at the bench database (or `database`), Redis
    and channel prefix."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not (database_url and redis_url):
        os.environ["IOC_VAR_DIR"] = str(BENCH_VAR)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    os.environ["IOC_CHANNEL_PREFIX"] = CHANNEL_PREFIX
    os.environ["IOC_CELERY_QUEUE"] = CHANNEL_PREFIX
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    from ioc import embedded  # reads IOC_VAR_DIR when called, not when imported

    if database_url:
        os.environ["DATABASE_URL"] = _configured_database(database_url, database)
    else:
        os.environ["DATABASE_URL"] = embedded.postgres_url(database)
    if not redis_url:
        os.environ["REDIS_URL"] = embedded.redis_url()
    return Servers(embedded_postgres=not database_url, embedded_redis=not redis_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's workers are children of its supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live descendants have used so far (Linux /proc)."""
    ticks = 0
    for each in _descendants(pid):
        fields = _stat(each)
        if fields:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    url: str
    pid: int  # the process started here; its children (uvicorn's workers) count in `cpu_seconds`
    label: str  # "daphne" or "uvicorn, 2 workers"


def choice() -> tuple[str, int, str]:
    """Server, worker count and uvicorn websocket implementation from IOC_BENCH_SERVER,
    IOC_BENCH_WORKERS and IOC_BENCH_WS; by default what `make run` serves: uvicorn with
    IOC_WEB_WORKERS processes (the number of cores, at most 4)."""
    kind = os.environ.get("IOC_BENCH_SERVER", "uvicorn")
    if kind not in SERVERS:
        raise ValueError(f"IOC_BENCH_SERVER must be one of {', '.join(SERVERS)}, not {kind!r}")
    default_workers = 1 if kind == "daphne" else os.environ.get("IOC_WEB_WORKERS") or min(os.cpu_count() or 1, 4)
    workers = int(os.environ.get("IOC_BENCH_WORKERS") or default_workers)
    return kind, workers, os.environ.get("IOC_BENCH_WS", "websockets")


def _command(kind: str, workers: int, ws: str, port: int) -> tuple[list[str], str]:
    if kind == "daphne":
        if workers != 1:
            raise ValueError("daphne runs one process; --workers applies to uvicorn only")
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ioc.asgi:application"], kind
    argv = [sys.executable, "-m", "uvicorn", "ioc.asgi:application", "--workers", str(workers)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--proxy-headers", "--timeout-keep-alive", "75", "--ws", ws]
    return argv, describe(kind, workers, ws)


def describe(kind: str, workers: int, ws: str) -> str:
    if kind == "daphne":
        return kind
    return f"uvicorn, {workers} worker{'s' if workers != 1 else ''}, --ws {ws}"


@contextmanager
def asgi(kind: str = "daphne", workers: int = 1, env: dict[str, str] | None = None, ws: str = "websockets"):
    """The ASGI server under test serving the project on 127.0.0.1 against the bench database.

    `env` adds to (or overrides) this process's environment for the server only; `ws` is uvicorn's
    websocket implementation.
    """
    port = free_port()
    argv, label = _command(kind, workers, ws, port)
    log = open(LOG_PATH, "wb")  # noqa: SIM115 (closed in finally)
    # The product's URLs plus the framework floor (bench/floor.py), which the figures are compared to.
    env = {**os.environ, "IOC_ROOT_URLCONF": "bench.urls", **(env or {})}
    process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(f"{url}/healthz", timeout=1).read()  # noqa: S310 (local server)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{label} did not start; see {LOG_PATH}") from None
                time.sleep(0.2)
        if workers > 1:
            # The first worker answering /healthz does not mean the others are up: give them time to import.
            deadline = time.monotonic() + 30
            while len(_descendants(process.pid)) < workers + 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)
        yield Server(url=url, pid=process.pid, label=label)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def logged_errors() -> Counter:
    """Errors the server under test logged so far (its log is rewritten for each server): all, and deadlocks."""
    found: Counter = Counter()
    try:
        with open(LOG_PATH, encoding="utf-8", errors="replace") as log:
            for line in log:
                if '"level": "ERROR"' in line:
                    found["errors"] += 1
                    if "DeadlockDetected" in line:
                        found["deadlocks"] += 1
    except OSError:
        pass
    return found


class Watch:
    """What one phase costs: CPU seconds of the server and of this process, and what the server logged.

    With `sessions`, PostgreSQL's open sessions on the bench database are sampled from a thread:
    a server that keeps one connection per request thread shows it there (and in 500 answers
    once `max_connections` is reached).
    """

    def __init__(self, server: Server, *, sessions: bool = True, interval: float = 0.25):
        self.server, self.interval = server, interval
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, name="bench-pg-sessions", daemon=True) if sessions else None
        self.server_cpu = self.own_cpu = 0.0
        self.errors = self.deadlocks = 0

    def _sample(self) -> None:
        from django.db import DatabaseError, connection

        try:
            while not self.stop.is_set():
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                        self.samples.append(cursor.fetchone()[0])
                except DatabaseError:  # no session left for this one either: the server's figures show why
                    connection.close()
                self.stop.wait(self.interval)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self):
        self._before = (cpu_seconds(self.server.pid), time.process_time(), logged_errors())
        if self.thread:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread:
            self.thread.join(5)
        server, own, logged = self._before
        self.server_cpu = cpu_seconds(self.server.pid) - server
        self.own_cpu = time.process_time() - own
        now = logged_errors()
        self.errors = now["errors"] - logged["errors"]
        self.deadlocks = now["deadlocks"] - logged["deadlocks"]

    @property
    def peak(self) -> int | None:
        return max(self.samples) if self.samples else None

    def note(self) -> str:
        note = f"CPU seconds: server {self.server_cpu:.1f}, bench process {self.own_cpu:.1f}"
        if self.thread:
            note += f"; PostgreSQL sessions up to {self.peak}"
        if self.errors:
            note += f"; the server logged {self.errors} errors ({self.deadlocks} PostgreSQL deadlocks)"
        return note

    def info(self) -> dict:
        return {
            "server_cpu_seconds": round(self.server_cpu, 2),
            "bench_process_cpu_seconds": round(self.own_cpu, 2),
            "postgres_sessions": {"first": self.samples[:1], "peak": self.peak},
            "server_logged_errors": self.errors,
        }
