"""Fault drill: Redis and PostgreSQL are killed under load and the IOC heals by itself (`make drill`).

`python -m bench.drill` starts `manage.py runall` (the very command `make run` starts) on its own
embedded servers under var/drill, its own port (8765), channel prefix and Celery queue, with the
citizens' submission allowances lifted. Then, all on 127.0.0.1 and bounded in time:

- 40 websockets on /ws/live/, signed in through /login/ as demo leaders, operators and admins, each
  reconnecting on close (after 1.5 s when told "try again" with 1013), record when each live message
  arrives;
- field reports (6/s) and camera events (2/s) are written the whole time; a 2xx answer is an accepted
  write and is remembered (tracking code, external id); a 503 is retried after its Retry-After, a
  connection error after 1 s; every 500 is counted;
- Redis is killed (SIGKILL), then PostgreSQL (SIGKILL of the postmaster), then Redis again, about a
  minute apart. After each kill the drill waits up to 10 s for the server to be restarted by
  `runall`'s supervision and starts it itself if not, and says which happened.

Per fault it measures the time until writes are accepted again and until every one of the 40 sockets
has received a live message again; at the end it looks up every accepted write in the database.
It prints a table, writes var/drill/results.json and exits non-zero if an accepted write is missing,
a 500 was answered, a socket never heard again or `runall` died.

`--minutes` sets the length of the phase with faults (default 4; the whole run takes about a minute
more). Everything the drill started is stopped at the end, on Ctrl-C and on error.
"""

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench import load

REPO = Path(__file__).resolve().parent.parent
DRILL_VAR = REPO / "var" / "drill"
PREFIX = "ioc-drill"
DEFAULT_PORT = 8765
DEFAULT_MINUTES = 4.0
WEB_WORKERS = "2"  # more than one web process, so the healing of each one's channel layer is exercised

SOCKETS = 40
SOCKET_USERS = ("leader", "operator", "admin")  # province scope (the first two) and everything
SESSION_COOKIE = "sessionid"  # Django's default SESSION_COOKIE_NAME, which the project keeps
ORIGIN = "http://localhost"
CHURNING = 8  # of the 40 sockets, the ones that are reloaded every CHURN_SECONDS
CHURN_SECONDS = 5.0
RECONNECT_TRY_AGAIN = 1.5  # seconds after a 1013 close
RECONNECT_OTHER = 1.0

REPORTS_PER_SECOND = 6.0
EVENTS_PER_SECOND = 2.0
LOCATION = (10.9372, 107.2431)  # Long Khánh, under province 75
REQUEST_TIMEOUT = 10.0
HTTP_THREADS = 32
DRAIN_SECONDS = 30.0  # after new writes stop, how long refused ones keep being retried

SELF_HEAL_WAIT = 10.0  # how long the supervisor gets to restart a killed server
FAULTS = ("redis", "postgres", "redis")
WARMUP = 20.0  # seconds of load before the first fault
TAIL = 40.0  # at least this long after the last fault before new writes stop
MIN_SPACING = 30.0
STARTUP_TIMEOUT = 300.0  # migrate + demo city + children, on a cold var/drill
STOP_TIMEOUT = 40.0

# Every allowance an anonymous submission meets, lifted for the drill's server (docs/security.md).
THROTTLE_ENV = {
    "IOC_THROTTLE_REPORT_SUBMIT": "1000000/hour",
    "IOC_THROTTLE_REPORT_SUBMIT_ADDRESS": "1000000/hour",
    "IOC_THROTTLE_REPORT_SUBMIT_NO_DEVICE": "1000000/hour",
    "IOC_THROTTLE_ANON": "1000000/hour",
    "IOC_THROTTLE_USER": "1000000/hour",
}


def now() -> float:
    return time.monotonic()


class DrillError(RuntimeError):
    pass


# --- the system under drill ---------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


class System:
    """`manage.py runall` on var/drill, and the embedded servers under it."""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None
        self.log_path = DRILL_VAR / "runall.log"
        self.seen: dict[int, str] = {}  # pid -> start time of every process seen below runall
        self.exit_code: int | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "MQTT_URL"):
            env.pop(name, None)
        env.update(THROTTLE_ENV)
        env.update(
            IOC_VAR_DIR=str(DRILL_VAR),
            XDG_RUNTIME_DIR=str(DRILL_VAR / "run"),
            IOC_CHANNEL_PREFIX=PREFIX,
            IOC_CELERY_QUEUE=PREFIX,
            IOC_WEB_WORKERS=os.environ.get("IOC_WEB_WORKERS", WEB_WORKERS),
            PYTHONUNBUFFERED="1",
        )
        env.setdefault("LOG_LEVEL", "WARNING")
        return env

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise DrillError(f"something already listens on 127.0.0.1:{self.port}; choose --port")
        DRILL_VAR.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 (kept by the child)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runall", "--port", str(self.port), "--host", "127.0.0.1"],
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches the drill, which stops runall itself
        )
        log.close()

    def running(self) -> bool:
        if self.process is None:
            return False
        if self.process.poll() is not None:
            self.exit_code = self.process.returncode
            return False
        return True

    def remember_descendants(self) -> None:
        """Note every process below runall (children restarted by its supervision included)."""
        if not self.running():
            return
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _proc_stat(int(entry.name))
                if stat:
                    children.setdefault(int(stat[1]), []).append(int(entry.name))
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            stat = _proc_stat(pid)
            if stat:
                self.seen[pid] = stat[19]
            todo.extend(children.get(pid, ()))

    def stop(self) -> None:
        """SIGTERM to runall (it stops its children and the embedded servers), then clean up after it."""
        if self.process is not None:
            self.remember_descendants()
            if self.process.poll() is None:
                try:
                    os.kill(self.process.pid, signal.SIGTERM)
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print("drill: runall did not stop in time; killing it", flush=True)
                except ProcessLookupError:
                    pass
            for pid, started in self.seen.items():
                stat = _proc_stat(pid)
                if stat and stat[19] == started and stat[0] != "Z":
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            if self.process.poll() is None:
                self.process.wait()
        # Servers restarted by the drill itself, or left behind by a runall that died.
        try:
            from ioc import embedded

            embedded.stop_all()
        except Exception as exc:  # noqa: BLE001 (reported, the drill is ending anyway)
            print(f"drill: stopping the embedded servers: {exc}", flush=True)


# --- the servers to kill ------------------------------------------------------------------------


def redis_pid() -> int | None:
    try:
        return int((DRILL_VAR / "redis" / "redis.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def redis_up() -> bool:
    from ioc import embedded

    return embedded._redis_ping(embedded.redis_socket())


def postmaster() -> tuple[int, str, str] | None:
    """(pid, port, socket directory) from postmaster.pid."""
    try:
        lines = (DRILL_VAR / "pgdata" / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), lines[3].strip(), lines[4].strip()
    except (OSError, ValueError, IndexError):
        return None


def pg_connect():
    import psycopg2

    info = postmaster()
    if info is None:
        raise OSError("no postmaster.pid")
    _pid, port, socket_dir = info
    return psycopg2.connect(host=socket_dir, port=port, user="postgres", dbname="ioc", connect_timeout=2)


def postgres_up() -> bool:
    import psycopg2

    try:
        connection = pg_connect()
    except (OSError, psycopg2.Error):
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except psycopg2.Error:
        return False
    finally:
        connection.close()


def server_pid(kind: str) -> int | None:
    if kind == "redis":
        return redis_pid()
    info = postmaster()
    return info[0] if info else None


def server_up(kind: str) -> bool:
    return redis_up() if kind == "redis" else postgres_up()


def start_server(kind: str) -> None:
    from ioc import embedded

    if kind == "redis":
        embedded.start_redis()
    elif hasattr(embedded, "start_postgres"):
        embedded.start_postgres()  # clears the dead postmaster's lock file and pgserver's stale handle
    else:
        embedded.postgres_url()


# --- HTTP ---------------------------------------------------------------------------------------


def request(port: int, method: str, path: str, *, body=None, form=None, headers=None) -> load.Answer:
    """One request on its own connection (a web process restarted between two is then harmless)."""
    sent = {"Host": "localhost", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    elif form is not None:
        data = urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    with load.Client(f"http://127.0.0.1:{port}", timeout=REQUEST_TIMEOUT) as client:
        return client.request(method, path, data, sent)


def wait_ready(system: System, deadline: float) -> None:
    for path in ("/healthz", "/readyz"):
        while True:
            if not system.running():
                raise DrillError(f"runall exited with code {system.exit_code} while starting; see {system.log_path}")
            try:
                if request(system.port, "GET", path).status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if now() > deadline:
                raise DrillError(f"{path} did not answer 200 in time; see {system.log_path}")
            time.sleep(0.5)


def login(port: int, username: str, password: str) -> str:
    """Sign in through the login form, as a browser does; returns the session cookie."""
    page = request(port, "GET", "/login/", headers={"Accept": "text/html"})
    csrf = page.cookies().get("csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or not csrf or not token:
        raise DrillError(f"/login/ answered {page.status} without a CSRF token")
    answer = request(
        port,
        "POST",
        "/login/",
        form={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()},
        headers={"Cookie": f"csrftoken={csrf}", "Accept": "text/html"},
    )
    session = answer.cookies().get(SESSION_COOKIE)
    if answer.status != 302 or not session:
        raise DrillError(f"signing in as {username!r} answered {answer.status}")
    return session


def create_api_key(system: System) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", f"drill-{uuid.uuid4().hex[:8]}"]
        + ["--scope", "traffic:write", "--unit", "75"],
        cwd=REPO,
        env=system.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise DrillError(f"create_api_key failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1].strip()


def traffic_cameras() -> list[str]:
    connection = pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT code FROM traffic_camera WHERE active AND purpose = 'traffic' ORDER BY code")
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


# --- writes -------------------------------------------------------------------------------------


class Writes:
    """Every write the drill sends, and what became of it."""

    def __init__(self, port: int, pool: ThreadPoolExecutor):
        self.port = port
        self.pool = pool
        self.accepted: dict[str, list[str]] = {"report": [], "camera_event": []}
        self.accepted_at: list[tuple[float, float]] = []  # (sent, answered)
        self.failures: list[tuple[float, float, str]] = []  # (sent, answered, what)
        self.refused_503 = 0
        self.server_errors: Counter = Counter()  # 5xx other than 503, by status
        self.server_error_samples: list[dict] = []
        self.connection_errors = 0
        self.other: Counter = Counter()  # unexpected 4xx, by status
        self.other_samples: list[dict] = []
        self.abandoned = 0  # never accepted before the drill stopped retrying (not lost: never accepted)
        self.retry_until = float("inf")
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send(self, kind: str, path: str, body: dict, headers: dict, key_of) -> None:
        """Send until accepted: after Retry-After on a 503, after 1 s on a connection error or a 5xx."""
        loop = asyncio.get_running_loop()
        while True:
            if now() > self.retry_until:
                self.abandoned += 1
                return
            sent = now()
            try:
                answer = await loop.run_in_executor(
                    self.pool, lambda: request(self.port, "POST", path, body=body, headers=headers)
                )
            except (OSError, http.client.HTTPException) as exc:
                self.connection_errors += 1
                self.failures.append((sent, now(), f"connection: {type(exc).__name__}"))
                await asyncio.sleep(1.0)
                continue
            answered = now()
            if 200 <= answer.status < 300:
                key = key_of(answer)
                if key is None:
                    self.other[f"{answer.status} without a stored item"] += 1
                    self._sample(self.other_samples, kind, answer)
                    return
                self.accepted[kind].append(key)
                self.accepted_at.append((sent, answered))
                return
            if answer.status >= 500:
                self.failures.append((sent, answered, str(answer.status)))
            if answer.status == 503:
                self.refused_503 += 1
                await asyncio.sleep(_retry_after(answer))
            elif answer.status >= 500:
                self.server_errors[answer.status] += 1
                self._sample(self.server_error_samples, kind, answer)
                await asyncio.sleep(1.0)
            else:
                self.other[answer.status] += 1
                self._sample(self.other_samples, kind, answer)
                if answer.status != 429:
                    return  # a refusal of the drill's own request: retrying would change nothing
                await asyncio.sleep(_retry_after(answer))

    def _sample(self, samples: list, kind: str, answer: load.Answer) -> None:
        if len(samples) < 10:
            samples.append(
                {"write": kind, "status": answer.status, "body": answer.body[:400].decode("utf-8", "replace")}
            )

    async def reports(self, categories: list[str], rate: float, until: float) -> None:
        """Offer `rate` reports a second until `until`, each one retried on its own until accepted."""
        async for i, _due in load.async_ticks(rate, until=until, clock=now):
            number = i + 1
            body = {
                "category": categories[number % len(categories)],
                "description": f"Diễn tập sự cố: phản ánh số {number}",
                "latitude": LOCATION[0] + random.uniform(-0.004, 0.004),
                "longitude": LOCATION[1] + random.uniform(-0.004, 0.004),
            }
            self.spawn(self.send("report", "/api/v1/reports/", body, {}, _tracking_code))

    async def camera_events(self, api_key: str, cameras: list[str], rate: float, until: float, run: str) -> None:
        """Offer `rate` camera events a second until `until`, each one retried on its own until accepted."""
        headers = {"Authorization": f"Bearer {api_key}"}
        async for i, _due in load.async_ticks(rate, until=until, clock=now):
            number = i + 1
            external_id = f"drill-{run}-{number}"
            event = {
                "camera": cameras[number % len(cameras)],
                "kind": "red_light",
                "external_id": external_id,
                "occurred_at": datetime.now(UTC).isoformat(),
            }
            self.spawn(
                self.send(
                    "camera_event",
                    "/api/v1/traffic/events/",
                    {"events": [event]},
                    headers,
                    lambda answer, external_id=external_id: _stored_event(answer, external_id),
                )
            )

    async def drain(self, seconds: float) -> None:
        self.retry_until = now() + seconds
        while self.tasks:
            await asyncio.wait(set(self.tasks), timeout=seconds + REQUEST_TIMEOUT + 2)
            if now() > self.retry_until + REQUEST_TIMEOUT + 2:
                break

    def recovery(self, fault_at: float, window_end: float) -> dict:
        """Writes from a fault until the next one: how many failed, and when they were accepted again."""
        failed = [f for f in self.failures if fault_at <= f[1] < window_end]
        if not failed:
            return {"refused_or_failed": 0, "recovered_after_s": 0.0}
        last_failure = max(answered for _sent, answered, _what in failed)
        later = [answered for sent, answered in self.accepted_at if sent >= last_failure and answered < window_end]
        return {
            "refused_or_failed": len(failed),
            "failed_how": dict(Counter(what for _s, _a, what in failed)),
            "recovered_after_s": round(min(later) - fault_at, 2) if later else None,
        }


def _retry_after(answer: load.Answer) -> float:
    try:
        return max(0.0, float(answer.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _tracking_code(answer: load.Answer) -> str | None:
    try:
        return answer.json().get("tracking_code") or None
    except (ValueError, AttributeError):
        return None


def _stored_event(answer: load.Answer, external_id: str) -> str | None:
    try:
        result = answer.json()["results"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return external_id if result.get("status") in ("created", "duplicate") else None


# --- sockets ------------------------------------------------------------------------------------


class Sockets:
    """40 screens: each reconnects on close and records when each live message arrives.

    The first CHURNING of them also close and reopen every few seconds, as screens being reloaded do,
    so that some connect while a server is away (and are told 1013, "try again") in every fault.
    """

    def __init__(self, port: int, cookies: list[str]):
        self.url = f"ws://127.0.0.1:{port}/ws/live/"
        self.cookies = cookies
        self.arrivals: list[list[float]] = [[] for _ in cookies]
        self.connects = [0] * len(cookies)
        self.closes: list[tuple[float, str]] = []  # (when, close code or why it did not open)
        self.stopping = False

    async def keep(self, index: int) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        churning = index < CHURNING
        while not self.stopping:
            delay = RECONNECT_OTHER
            try:
                async with connect(
                    self.url,
                    origin=ORIGIN,
                    additional_headers={"Cookie": f"{SESSION_COOKIE}={self.cookies[index]}"},
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=20,
                    ping_timeout=20,
                    compression=None,
                    max_queue=None,
                ) as ws:
                    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if hello.get("type") != "ioc.hello":
                        raise DrillError(f"first message on /ws/live/ was {hello}")
                    self.connects[index] += 1
                    reload_at = now() + CHURN_SECONDS * random.uniform(0.7, 1.3) if churning else None
                    while reload_at is None or now() < reload_at:
                        try:
                            raw = await asyncio.wait_for(ws.recv(), None if reload_at is None else reload_at - now())
                        except TimeoutError:
                            continue
                        arrived = now()
                        message = json.loads(raw)
                        if isinstance(message, dict) and "data" in message and "unit" in message:
                            self.arrivals[index].append(arrived)
                    delay = 0.2  # reloaded by the drill: open again at once
                self.closes.append((now(), "closed by the drill" if reload_at else str(ws.close_code)))
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else "no close frame"
                self.closes.append((now(), str(code)))
                if code == 1013:
                    delay = RECONNECT_TRY_AGAIN
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self.closes.append((now(), f"not opened: {type(exc).__name__}"))
            if not self.stopping:
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    def first_after(self, index: int, start: float, end: float) -> float | None:
        return next((t for t in self.arrivals[index] if start <= t < end), None)

    def closed_between(self, start: float, end: float) -> dict[str, int]:
        return dict(Counter(code for at, code in self.closes if start <= at < end and code != "closed by the drill"))


# --- faults -------------------------------------------------------------------------------------


async def inject(kind: str, system: System) -> dict:
    """Kill the server, wait up to SELF_HEAL_WAIT for it to come back by itself, else start it."""
    pid = await asyncio.to_thread(server_pid, kind)
    if pid is None or not _alive(pid):
        raise DrillError(f"no running {kind} to kill in {DRILL_VAR}")
    fault_at = now()
    os.kill(pid, signal.SIGKILL)
    print(f"drill: {kind} (pid {pid}) killed", flush=True)
    restarted_by = None
    while now() - fault_at < SELF_HEAL_WAIT:
        await asyncio.sleep(0.2)
        new = await asyncio.to_thread(server_pid, kind)
        if new and new != pid and _alive(new) and await asyncio.to_thread(server_up, kind):
            restarted_by = "supervisor"
            break
    if restarted_by is None:
        restarted_by = "drill"
        gone_by = now() + 10
        while _alive(pid) and now() < gone_by:  # not reaped yet
            await asyncio.sleep(0.1)
        while not await asyncio.to_thread(server_up, kind):
            try:
                await asyncio.to_thread(start_server, kind)
            except Exception as exc:  # noqa: BLE001 (e.g. the killed postmaster's backends are still leaving)
                print(f"drill: starting {kind} again: {str(exc).splitlines()[0]}", flush=True)
                if now() - fault_at > SELF_HEAL_WAIT + 30:
                    break
                await asyncio.sleep(1.0)
    while not await asyncio.to_thread(server_up, kind):
        if now() - fault_at > SELF_HEAL_WAIT + 30:
            raise DrillError(f"{kind} did not come back within {SELF_HEAL_WAIT + 30:.0f} s")
        await asyncio.sleep(0.2)
    back_at = now()
    print(f"drill: {kind} back after {back_at - fault_at:.1f} s (restarted by the {restarted_by})", flush=True)
    return {"server": kind, "killed_pid": pid, "at": fault_at, "back_at": back_at, "restarted_by": restarted_by}


# --- the run ------------------------------------------------------------------------------------


async def phase_sign_in(system: System) -> tuple[list[str], list[str], str, list[str]]:
    """What the load needs: anonymous report categories, traffic cameras, an API key, SOCKETS signed-in screens."""
    password = os.environ.get("IOC_DEMO_PASSWORD", "ioc-demo-2026")
    listed = await asyncio.to_thread(request, system.port, "GET", "/api/v1/reports/categories/")
    categories = [c["code"] for c in listed.json() if c["allow_anonymous"]]  # no phone or email needed
    cameras = await asyncio.to_thread(traffic_cameras)
    api_key = await asyncio.to_thread(create_api_key, system)
    if not categories or not cameras:
        raise DrillError("the demo city has no report categories or no traffic cameras")
    cookies = []
    for index in range(SOCKETS):
        cookies.append(await asyncio.to_thread(login, system.port, SOCKET_USERS[index % len(SOCKET_USERS)], password))
    print(f"drill: {SOCKETS} screens signed in; {len(categories)} categories, {len(cameras)} cameras", flush=True)
    return categories, cameras, api_key, cookies


async def _watch_runall(system: System, until: float) -> None:
    """Sleep until `until`, noting runall's children as they come and go; DrillError if runall died."""
    while now() < until:
        await asyncio.sleep(min(1.0, until - now()))
        await asyncio.to_thread(system.remember_descendants)
        if not system.running():
            raise DrillError(f"runall exited with code {system.exit_code}; see {system.log_path}")


async def phase_faults(system: System, started: float, active: float) -> tuple[list[dict], str | None]:
    """WARMUP seconds of load, then each of FAULTS evenly spaced, then the tail: (faults, what went wrong)."""
    spacing = (active - WARMUP - TAIL) / len(FAULTS)
    faults = []
    try:
        for number, kind in enumerate(FAULTS):
            await _watch_runall(system, started + WARMUP + number * spacing)
            faults.append(await inject(kind, system))
        await _watch_runall(system, started + active)
    except DrillError as exc:
        print(f"drill: {exc}", flush=True)
        return faults, str(exc)
    return faults, None


async def phase_drain(writes: Writes, sockets: Sockets, socket_tasks: list) -> None:
    """New writes have stopped: refused ones are retried for DRAIN_SECONDS, then the screens close."""
    print(f"drill: new writes stopped; retrying refused ones for up to {DRAIN_SECONDS:.0f} s", flush=True)
    await writes.drain(DRAIN_SECONDS)
    sockets.stopping = True
    for task in socket_tasks:
        task.cancel()
    await asyncio.gather(*socket_tasks, return_exceptions=True)


async def drill(system: System, minutes: float, run: str) -> dict:
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=HTTP_THREADS, thread_name_prefix="drill-http")
    loop.set_default_executor(ThreadPoolExecutor(max_workers=8, thread_name_prefix="drill-probe"))
    try:
        categories, cameras, api_key, cookies = await phase_sign_in(system)
        active = minutes * 60
        spacing = (active - WARMUP - TAIL) / len(FAULTS)
        if spacing < MIN_SPACING:
            raise DrillError(
                f"--minutes {minutes:g} leaves {spacing:.0f} s between faults; at least {MIN_SPACING:.0f} s"
            )
        sockets = Sockets(system.port, cookies)
        writes = Writes(system.port, pool)
        socket_tasks = [loop.create_task(sockets.keep(i)) for i in range(SOCKETS)]
        started = now()
        writes_until = started + active
        flows = [
            loop.create_task(writes.reports(categories, REPORTS_PER_SECOND, writes_until)),
            loop.create_task(writes.camera_events(api_key, cameras, EVENTS_PER_SECOND, writes_until, run)),
        ]
        try:
            faults, problem = await phase_faults(system, started, active)
        finally:
            for flow in flows:
                flow.cancel()
        ended = now()
        await phase_drain(writes, sockets, socket_tasks)
        lost = await asyncio.to_thread(lost_writes, writes.accepted)
        return summarise(
            run=run,
            minutes=minutes,
            started=started,
            ended=ended,
            faults=faults,
            writes=writes,
            sockets=sockets,
            lost=lost,
            problem=problem,
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def lost_writes(accepted: dict[str, list[str]]) -> dict:
    """Every accepted write looked up in the database: the ones that are not there."""
    connection = pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tracking_code FROM reports_report WHERE tracking_code = ANY(%s)", [accepted["report"]]
            )
            reports = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT external_id FROM traffic_cameraevent WHERE external_id = ANY(%s)", [accepted["camera_event"]]
            )
            events = {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()
    return {
        "report": sorted(set(accepted["report"]) - reports),
        "camera_event": sorted(set(accepted["camera_event"]) - events),
    }


def summarise(*, run, minutes, started, ended, faults, writes, sockets, lost, problem) -> dict:
    rows = []
    for number, fault in enumerate(faults):
        window_end = faults[number + 1]["at"] if number + 1 < len(faults) else ended
        firsts = [sockets.first_after(i, fault["back_at"], window_end) for i in range(SOCKETS)]
        heard = [t for t in firsts if t is not None]
        rows.append(
            {
                "server": fault["server"],
                "at_s": round(fault["at"] - started, 1),
                "restarted_by": fault["restarted_by"],
                "server_back_after_s": round(fault["back_at"] - fault["at"], 2),
                "writes": writes.recovery(fault["at"], window_end),
                "sockets_heard_again": len(heard),
                "socket_closes": sockets.closed_between(fault["at"], window_end),
                "all_sockets_after_s": round(max(heard) - fault["at"], 2) if len(heard) == SOCKETS else None,
            }
        )
    first_fault = faults[0]["at"] if faults else ended
    before = sum(1 for i in range(SOCKETS) if sockets.first_after(i, started, first_fault) is not None)
    accepted = sum(len(keys) for keys in writes.accepted.values())
    lost_count = sum(len(keys) for keys in lost.values())
    results = {
        "run": run,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": minutes,
        "sockets": SOCKETS,
        "sockets_heard_before_first_fault": before,
        "socket_closes": sockets.closed_between(started, ended + DRAIN_SECONDS + 60),
        "socket_reloads": sum(1 for _at, code in sockets.closes if code == "closed by the drill"),
        "socket_connects": sum(sockets.connects),
        "live_messages": sum(len(a) for a in sockets.arrivals),
        "writes": {
            "accepted": accepted,
            "accepted_by_kind": {kind: len(keys) for kind, keys in writes.accepted.items()},
            "accepted_found_in_database": accepted - lost_count,
            "accepted_lost": lost_count,
            "lost": lost,
            "refused_503_retried": writes.refused_503,
            "connection_errors": writes.connection_errors,
            "server_errors": {str(status): count for status, count in writes.server_errors.items()},
            "server_error_samples": writes.server_error_samples,
            "responses_500": writes.server_errors.get(500, 0),
            "other_refusals": {str(status): count for status, count in writes.other.items()},
            "other_samples": writes.other_samples,
            "never_accepted": writes.abandoned,
        },
        "faults": rows,
        "problem": problem,
    }
    failures = []
    if lost_count:
        failures.append(f"{lost_count} accepted writes are not in the database")
    if writes.server_errors:
        failures.append(f"server errors answered: {dict(writes.server_errors)}")
    if before < SOCKETS:
        failures.append(f"only {before}/{SOCKETS} sockets heard a live message before the first fault")
    for row in rows:
        if row["all_sockets_after_s"] is None:
            heard_again = f"{row['sockets_heard_again']}/{SOCKETS}"
            failures.append(
                f"after the {row['server']} fault at {row['at_s']} s only {heard_again} sockets heard again"
            )
        if row["writes"]["recovered_after_s"] is None:
            failures.append(f"after the {row['server']} fault at {row['at_s']} s writes were not accepted again")
    if len(rows) < len(FAULTS):
        failures.append(f"only {len(rows)} of {len(FAULTS)} faults were injected")
    if writes.other:
        failures.append(f"unexpected refusals of the drill's writes: {dict(writes.other)}")
    if problem:
        failures.append(problem)
    results["failures"] = failures
    results["passed"] = not failures
    return results


def _line(label: str, value, extra: str = "") -> str:
    return f"{label:<44}{value!s:>10}   {extra}".rstrip()


def print_table(results: dict) -> None:
    w = results["writes"]
    kinds = ", ".join(f"{kind}: {count}" for kind, count in w["accepted_by_kind"].items())
    heard = f"{results['sockets_heard_before_first_fault']}/{results['sockets']}"
    lines = [
        "",
        f"Fault drill ({results['minutes']:g} min, {results['sockets']} sockets, run {results['run']})",
        "",
        _line("accepted writes", w["accepted"], f"({kinds})"),
        _line("accepted writes found in the database", w["accepted_found_in_database"]),
        _line("accepted writes lost (must be 0)", w["accepted_lost"]),
        _line("writes refused with 503 (retried)", w["refused_503_retried"]),
        _line("connection errors (retried)", w["connection_errors"]),
        _line("500 responses seen (must be 0)", w["responses_500"]),
        _line("writes never accepted (not lost)", w["never_accepted"]),
        _line("sockets hearing before the first fault", heard),
        _line(
            "live messages received",
            results["live_messages"],
            f"{results['socket_connects']} socket opens, {results['socket_reloads']} reloads by the drill",
        ),
        _line("socket closes by code (not reloads)", "", str(results["socket_closes"] or "-")),
        "",
        f"{'fault':<10}{'at (s)':>8}{'restarted by':>14}{'back (s)':>10}{'writes failed':>16}"
        f"{'writes again (s)':>18}{'all sockets (s)':>17}{'heard':>8}{'1013s':>7}",
    ]
    for row in results["faults"]:
        recovered = row["writes"]["recovered_after_s"]
        every = row["all_sockets_after_s"]
        lines.append(
            f"{row['server']:<10}{row['at_s']:>8.1f}{row['restarted_by']:>14}{row['server_back_after_s']:>10.1f}"
            f"{row['writes']['refused_or_failed']:>16}{'never' if recovered is None else f'{recovered:.1f}':>18}"
            f"{'never' if every is None else f'{every:.1f}':>17}{row['sockets_heard_again']:>5}/{results['sockets']}"
            f"{row['socket_closes'].get('1013', 0):>7}"
        )
    lines.append("")
    if results["failures"]:
        lines.append("FAILED:")
        lines.extend(f"  - {failure}" for failure in results["failures"])
    else:
        lines.append("PASSED: no accepted write lost, no 500, every socket heard again after every fault.")
    print("\n".join(lines), flush=True)


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.drill", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=DEFAULT_MINUTES, help="Length of the phase with faults (default 4)."
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Port of the drill's server (default 8765).")
    return parser.parse_args(argv)


def _stop_on_signal(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    options = arguments(argv)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(name):
            print(f"drill: {name} is ignored: the drill kills its own embedded servers under {DRILL_VAR}")
    # This process reaches the same embedded servers as the runall it starts (ioc.embedded reads these).
    os.environ["IOC_VAR_DIR"] = str(DRILL_VAR)
    os.environ["XDG_RUNTIME_DIR"] = str(DRILL_VAR / "run")
    DRILL_VAR.mkdir(parents=True, exist_ok=True)
    (DRILL_VAR / "run").mkdir(mode=0o700, exist_ok=True)
    sys.path.insert(0, str(REPO))
    signal.signal(signal.SIGTERM, _stop_on_signal)
    run = uuid.uuid4().hex[:8]
    system = System(options.port)
    results = None
    try:
        print(
            f"drill: starting runall on 127.0.0.1:{options.port} with {DRILL_VAR} (log: {system.log_path})", flush=True
        )
        system.start()
        started = now()
        wait_ready(system, started + STARTUP_TIMEOUT)
        print(f"drill: ready after {now() - started:.0f} s", flush=True)
        budget = options.minutes * 60 + DRAIN_SECONDS + 180
        results = asyncio.run(asyncio.wait_for(drill(system, options.minutes, run), budget))
    except KeyboardInterrupt:
        print("drill: interrupted; stopping everything", flush=True)
    except (DrillError, TimeoutError) as exc:
        print(f"drill: {exc or 'took too long'}", flush=True)
    finally:
        print("drill: stopping runall and the embedded servers", flush=True)
        system.stop()
    if results is None:
        return 2
    (DRILL_VAR / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_table(results)
    print(f"results: {DRILL_VAR / 'results.json'}", flush=True)
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
