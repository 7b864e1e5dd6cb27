"""The servers a benchmark run uses: PostgreSQL and Redis, then a real daphne process.

Everything here runs before Django settings are imported (`prepare`) or after (`daphne`).
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

REPO = Path(__file__).resolve().parent.parent
BENCH_VAR = REPO / "var" / "bench"
DATABASE = "ioc_bench"
CHANNEL_PREFIX = "ioc-bench"


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


def _configured_database(url: str) -> str:
    """Create `ioc_bench` next to the configured database and return its URL."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    connection = psycopg2.connect(url, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    finally:
        connection.close()
    return urlunsplit(parts._replace(path="/" + DATABASE))


def prepare() -> Servers:
    """Point this process (and the daphne it starts) at the bench database, Redis and channel prefix."""
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
        os.environ["DATABASE_URL"] = _configured_database(database_url)
    else:
        os.environ["DATABASE_URL"] = embedded.postgres_url(DATABASE)
    if not redis_url:
        os.environ["REDIS_URL"] = embedded.redis_url()
    return Servers(embedded_postgres=not database_url, embedded_redis=not redis_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Daphne:
    url: str
    pid: int


@contextmanager
def daphne(env: dict[str, str] | None = None):
    """A daphne process serving the project on 127.0.0.1 against the bench database.

    `env` adds to (or overrides) this process's environment for the server only.
    """
    port = free_port()
    log_path = BENCH_VAR / "daphne.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ioc.asgi:application"],
        env={**os.environ, **(env or {})},
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(f"{url}/healthz", timeout=1).read()  # noqa: S310 (local server)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start; see {log_path}") from None
                time.sleep(0.2)
        yield Daphne(url=url, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
