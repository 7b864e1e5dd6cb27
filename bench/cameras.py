"""Benchmark 4: camera events through POST /api/v1/traffic/events/ on the ASGI server under test, with an API key.

1. batches: 50 batches of 1,000 events (violations with plates, vehicle counts, some congestion
   that folds into incidents) from two clients at once, events/s; beside it, in the same run, the
   very rows the API stored inserted again with psycopg2 `execute_values` (1,000 rows a statement,
   one transaction per batch, like the API) into an emptied events table, rows/s, and the ratio
   (goal: the API at least half of the raw rate);
2. single events: one violation per POST at a fixed 200/s for 10 s, open loop (sends on the clock,
   latency from the scheduled moment), budget p99 < 50 ms;
3. a storm: 2,000 events/s for 60 s as 10 batches of 200 a second, sent on the clock from a few
   threads, while a wall socket (a leader of province 75, as bench/live.py) listens. Checked:
   every event sent is stored (rows in the database == events sent), how many live messages the
   socket got per second per subsystem (goal: about 2 figure updates per subsystem per second, not
   one per event), and how long an accident sent during the storm takes to reach that socket as
   `traffic.incident.updated`.

The camera tables are emptied first (the bench database only). All traffic goes to 127.0.0.1,
bounded in count and in time. What is measured is reported as it is, goal met or not.
"""

import asyncio
import http.client
import json
import math
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from time import perf_counter

from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import Json, execute_values
from websockets.exceptions import ConnectionClosed

from bench import live
from bench.servers import LOG_PATH, Server, cpu_seconds
from bench.snapshot import Client
from bench.stats import percentile, summary
from bench.submit import ConnectionWatch, Outcomes
from ioc.demo import PROVINCE
from ioc.models import Unit
from ioc.services import api_key_create
from traffic.demo import CAMERAS as DEMO_CAMERAS
from traffic.management.commands.traffic_demo_feed import VEHICLES, plate
from traffic.models import Camera, CameraEvent, Incident

PATH = "/api/v1/traffic/events/"
SEED = 26080
REQUEST_TIMEOUT = 20.0

BATCHES = 50
BATCH_SIZE = 1_000
BATCH_CLIENTS = 2
BATCH_TIMEOUT = 60.0  # the batch series stops sending after this many seconds
RAW_REPEATS = 3
RATIO_GOAL = 0.5

PACE = 200.0  # single events per second, open loop
PACE_SECONDS = 10
PACE_WORKERS = 64
DRAIN_TIMEOUT = 15.0
SINGLE_BUDGET = "p99 < 50 ms"

STORM_RATE = 2_000  # events per second
STORM_SECONDS = 60
STORM_BATCH = 200
STORM_WORKERS = 4
STORM_DRAIN = 30.0  # after the last scheduled send, how long answers may still arrive
STORM_SETTLE = 3.0  # seconds the socket keeps listening after the storm (the last figure updates)
KPI_GOAL = 2.0  # figure updates per subsystem per second on one screen, about
ACCIDENTS = 9  # one per traffic camera, spread over the storm
ACCIDENT_TIMEOUT = 10.0  # after the storm, how long the socket may still wait for an accident

COLUMNS = [
    "camera_id",
    "kind_id",
    "unit_id",
    "incident_id",
    "source",
    "external_id",
    "occurred_at",
    "received_at",
    "plate",
    "speed_kmh",
    "vehicle_count",
    "congestion_level",
    "score",
    "zone",
    "snapshot_url",
    "snapshot",
    "data",
]


# --- events --------------------------------------------------------------------------------------


class Events:
    """Plausible vendor events for the demo cameras, each with its own external id."""

    def __init__(self, traffic: list[str], security: list[str], tag: str, seed: int = SEED):
        self.traffic, self.security, self.tag = traffic, security, tag
        self.rng = random.Random(seed)
        self.number = 0
        self.violations = list(VEHICLES)

    def one(self, at=None) -> dict:
        rng = self.rng
        self.number += 1
        at = (at or timezone.now()) - timedelta(seconds=rng.uniform(0, 2))
        item = {"external_id": f"{self.tag}-{self.number}", "occurred_at": at.isoformat()}
        draw = rng.random()
        if draw < 0.8:  # a violation with a plate and a speed
            kind = rng.choice(self.violations)
            vehicle = rng.choices(list(VEHICLES[kind]), weights=list(VEHICLES[kind].values()))[0]
            item.update(
                camera=rng.choice(self.traffic),
                kind=kind,
                plate="" if kind == "covered_plate" else plate(rng, vehicle),
                speed_kmh=0.0 if kind == "illegal_parking" else round(rng.uniform(20, 75), 1),
                score=round(rng.uniform(0.78, 0.99), 2),
                zone="Làn xe máy" if vehicle == "motorbike" else "Làn 1",
                data={"vehicle": vehicle},
            )
        elif draw < 0.9:
            item.update(camera=rng.choice(self.traffic), kind="vehicle_count", vehicle_count=rng.randint(20, 160))
        elif draw < 0.97:  # a few cameras keep reporting a queue: folded into their open incident
            item.update(
                camera=self.traffic[self.number % 3],
                kind="congestion",
                avg_speed_kmh=round(rng.uniform(4, 25), 1),
                free_flow_kmh=60,
            )
        else:
            item.update(camera=rng.choice(self.security), kind="crowd", data={"people": rng.randint(30, 150)})
        return item

    def batch(self, size: int) -> list[dict]:
        now = timezone.now()
        return [self.one(now) for _ in range(size)]

    def violation(self) -> dict:
        while True:
            item = self.one()
            if item["kind"] in VEHICLES:
                return item


def encode(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def demo_cameras() -> tuple[list[str], list[str]]:
    codes = [c[0] for c in DEMO_CAMERAS]
    rows = list(Camera.objects.filter(code__in=codes, active=True).values_list("code", "purpose"))
    traffic = sorted(code for code, purpose in rows if purpose == "traffic")
    security = sorted(code for code, purpose in rows if purpose == "security")
    if len(traffic) < 3 or not security:
        raise RuntimeError("the demo cameras are missing from the bench database (traffic.demo)")
    return traffic, security


def empty_cameras() -> None:
    """Empty the event and incident tables and mark the cameras unseen (the bench database only)."""
    tables = [CameraEvent._meta.db_table, Incident._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE {}".format(", ".join(f'"{t}"' for t in tables)))
    Camera.objects.update(health=Camera.Health.OFFLINE, last_heartbeat_at=None, last_event_at=None)


def machine_key(name: str) -> tuple[str, str]:
    """A fresh API key for the province allowed to send camera events: (plain key, its source label)."""
    key, plain = api_key_create(name=name, scopes=["traffic:write"], unit=Unit.objects.get(code=PROVINCE))
    return plain, f"key:{key.prefix}"


# --- HTTP ----------------------------------------------------------------------------------------


def client(base_url: str, plain_key: str) -> Client:
    c = Client(base_url, timeout=REQUEST_TIMEOUT)
    c.headers["Authorization"] = f"Bearer {plain_key}"
    return c


def post(c: Client, body: bytes) -> tuple[float | None, str, dict | None]:
    """(seconds, status, parsed answer); a transport error is named by its type, never retried."""
    try:
        elapsed, status, answer = c.request("POST", PATH, body, {"Content-Type": "application/json; charset=utf-8"})
    except (OSError, http.client.HTTPException) as exc:
        c.close()
        return None, type(exc).__name__, None
    try:
        parsed = json.loads(answer) if answer else None
    except ValueError:
        parsed = None
    return elapsed, str(status), parsed


class Batches:
    """Results of batch POSTs from many threads: latency per batch, events created, statuses."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seconds: list[float] = []
        self.created = 0
        self.sent_events = 0
        self.statuses: Counter = Counter()
        self.first_at: float | None = None
        self.last_at: float | None = None

    def record(self, started: float, seconds: float | None, status: str, answer: dict | None, events: int):
        now = perf_counter()
        with self.lock:
            self.statuses[status] += 1
            self.sent_events += events
            if status == "200" and seconds is not None:
                self.seconds.append(seconds)
                self.created += int((answer or {}).get("created", 0))
            self.first_at = started if self.first_at is None else min(self.first_at, started)
            self.last_at = now if self.last_at is None else max(self.last_at, now)

    @property
    def wall(self) -> float:
        return (self.last_at - self.first_at) if self.first_at is not None else 0.0

    def errors(self) -> str:
        return ", ".join(f"{n} x {s}" for s, n in sorted(self.statuses.items()) if s != "200")


def closed_loop(base_url: str, plain_key: str, bodies: list[bytes], size: int, clients: int) -> Batches:
    """Each client POSTs the next batch as soon as its previous answer arrived."""
    outcome = Batches()
    lock = threading.Lock()
    queue = iter(bodies)
    deadline = perf_counter() + BATCH_TIMEOUT

    def worker():
        c = client(base_url, plain_key)
        try:
            while perf_counter() < deadline:
                with lock:
                    body = next(queue, None)
                if body is None:
                    return
                started = perf_counter()
                elapsed, status, answer = post(c, body)
                outcome.record(started, elapsed, status, answer, size)
        finally:
            c.close()

    threads = [threading.Thread(target=worker, name=f"bench-cam-batch-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BATCH_TIMEOUT + REQUEST_TIMEOUT + 5)
    return outcome


def open_loop(base_url: str, plain_key: str, bodies: list[bytes], rate: float, count: int, workers: int, on_answer):
    """POST bodies[i] at start + i/rate on a pool of `workers` connections; `on_answer(i, scheduled, result)`.

    Returns (scheduled start, info). Sends not started by the drain deadline are cancelled.
    """
    local = threading.local()
    clients: list[Client] = []
    clients_lock = threading.Lock()
    lags: list[float] = []

    def one(i: int, scheduled: float):
        c = getattr(local, "client", None)
        if c is None:
            c = local.client = client(base_url, plain_key)
            with clients_lock:
                clients.append(c)
        lags.append(perf_counter() - scheduled)
        on_answer(i, scheduled, post(c, bodies[i]))

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-cam-paced")
    futures = []
    start = perf_counter() + 0.05
    drain = DRAIN_TIMEOUT if rate >= 100 else STORM_DRAIN
    try:
        for i in range(count):
            scheduled = start + i / rate
            delay = scheduled - perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, i, scheduled))
        _done, pending = wait(futures, timeout=drain)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # in-flight requests end within REQUEST_TIMEOUT
        for c in clients:
            c.close()
    lags_ms = sorted(lag * 1000 for lag in lags)
    info = {
        "scheduled": count,
        "not_sent_before_drain_timeout": sum(1 for f in futures if f.cancelled()),
        "still_pending_at_drain_timeout": len(pending),
        "client_threads": len(clients),
        "send_lag_ms_max": round(lags_ms[-1], 2) if lags_ms else None,
    }
    return start, info


def server_errors() -> Counter:
    """Errors the server logged so far (its log is rewritten for each server): all, and deadlocks among them."""
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


def errors_note(before: Counter) -> str:
    now = server_errors()
    errors, deadlocks = now["errors"] - before["errors"], now["deadlocks"] - before["deadlocks"]
    if not errors:
        return ""
    return f"; the server logged {errors} errors ({deadlocks} PostgreSQL deadlocks)"


# --- the raw baseline ----------------------------------------------------------------------------


def stored_rows(source: str) -> list[tuple]:
    rows = list(CameraEvent.objects.filter(source=source).order_by("pk").values_list(*COLUMNS))
    data = COLUMNS.index("data")
    return [(*row[:data], Json(row[data]), *row[data + 1 :]) for row in rows]


def raw_insert(rows: list[tuple], batch: int) -> float:
    """Insert `rows` with one multi-row INSERT and one transaction per `batch` rows; seconds taken."""
    sql = 'INSERT INTO "{}" ({}) VALUES %s'.format(CameraEvent._meta.db_table, ", ".join(f'"{c}"' for c in COLUMNS))
    started = perf_counter()
    for i in range(0, len(rows), batch):
        with transaction.atomic(), connection.cursor() as cursor:
            execute_values(cursor.cursor, sql, rows[i : i + batch], page_size=batch)
    return perf_counter() - started


def truncate_events() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{CameraEvent._meta.db_table}"')


# --- the storm and the wall socket ---------------------------------------------------------------


class Socket:
    """What the wall socket received: (arrival, type, subsystem, camera, kind)."""

    def __init__(self):
        self.frames: list[tuple[float, str, str, str | None, str | None]] = []
        self.closed = False

    def on_message(self, raw: str, now: float) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        self.frames.append(
            (now, message.get("type", ""), message.get("subsystem", ""), data.get("camera"), data.get("kind"))
        )

    def per_second(self, start: float, end: float) -> dict[str, dict[str, list[int]]]:
        """{type: {subsystem: [count in second 0, 1, ...]}} for frames in [start, end)."""
        seconds = max(1, math.ceil(end - start))
        table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * seconds))
        for at, kind, subsystem, _camera, _kind in self.frames:
            if start <= at < end:
                table[kind][subsystem][min(seconds - 1, int(at - start))] += 1
        return table

    def first(self, type_: str, camera: str, kind: str, after: float) -> float | None:
        for at, t, _s, c, k in self.frames:
            if at >= after and t == type_ and c == camera and k == kind:
                return at
        return None


def storm_sender(base_url: str, keys: tuple[str, str], bodies: list[bytes], accidents: list[tuple[str, float]]) -> dict:
    """Send the storm on the clock; send one accident at each (camera, second) from its own thread.

    `keys`: the storm's API key and the accidents' (another vendor system, so the storm's rows count apart).
    """
    plain_key, accident_key = keys
    outcome = Batches()
    sent_at: dict[str, float] = {}
    accident_status: dict[str, str] = {}

    def on_answer(i, scheduled, result):
        elapsed, status, answer = result
        outcome.record(
            scheduled, perf_counter() - scheduled if elapsed is not None else None, status, answer, STORM_BATCH
        )

    def send_accidents(start_at: float):
        c = client(base_url, accident_key)
        try:
            for camera, second in accidents:
                delay = start_at + second - perf_counter()
                if delay > 0:
                    time.sleep(delay)
                body = encode(
                    {
                        "camera": camera,
                        "kind": "accident",
                        "external_id": f"storm-accident-{camera}-{time.time_ns()}",
                        "occurred_at": timezone.now().isoformat(),
                        "plate": plate(random.Random(camera), "car"),
                        "score": 0.91,
                    }
                )
                sent_at[camera] = perf_counter()
                _elapsed, status, _answer = post(c, body)
                accident_status[camera] = status
        finally:
            c.close()

    rate = STORM_RATE / STORM_BATCH
    accident_thread = threading.Thread(
        target=send_accidents, args=(perf_counter() + 0.05,), name="bench-cam-accidents", daemon=True
    )
    accident_thread.start()
    start, info = open_loop(base_url, plain_key, bodies, rate, len(bodies), STORM_WORKERS, on_answer)
    accident_thread.join(STORM_SECONDS + REQUEST_TIMEOUT + 5)
    return {"outcome": outcome, "start": start, "info": info, "sent_at": sent_at, "accidents": accident_status}


async def _storm(server: Server, cookie: str, keys: tuple[str, str], bodies: list[bytes], accidents) -> dict:
    ws_url = server.url.replace("http://", "ws://", 1) + "/ws/live/"
    ws = await live._open(ws_url, cookie)
    socket = Socket()

    async def read():
        try:
            async for raw in ws:
                socket.on_message(raw, perf_counter())
        except ConnectionClosed:  # closed by the server or by us: what arrived is kept
            pass
        finally:
            socket.closed = True

    reader = asyncio.create_task(read())
    try:
        await asyncio.sleep(1.0)  # figures of the earlier phases settle before the storm
        result = await asyncio.to_thread(storm_sender, server.url, keys, bodies, accidents)
        result["end"] = perf_counter()
        deadline = perf_counter() + ACCIDENT_TIMEOUT
        while perf_counter() < deadline and not all(
            socket.first("traffic.incident.updated", camera, "accident", sent)
            for camera, sent in result["sent_at"].items()
        ):
            await asyncio.sleep(0.1)
        await asyncio.sleep(STORM_SETTLE)
    finally:
        try:
            await asyncio.wait_for(ws.close(), 5)
        except TimeoutError:
            pass  # the server is stopped next anyway
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    result["socket"] = socket
    return result


# --- the run -------------------------------------------------------------------------------------


def _cpu(pid: int) -> tuple[float, float]:
    return cpu_seconds(pid), time.process_time()


def _cpu_note(pid: int, before: tuple[float, float]) -> str:
    server, own = _cpu(pid)
    return f"CPU seconds: server {server - before[0]:.1f}, bench process {own - before[1]:.1f}"


def run(server: Server, cookie: str) -> tuple[list[dict], dict, list[dict]]:
    """(table rows, details for the JSON file, checks: {"name", "ok", "must"})."""
    empty_cameras()
    traffic, security = demo_cameras()
    rows: list[dict] = []
    details: dict = {}
    checks: list[dict] = []

    # Warm the server (imports, connections, the live bus) with a small batch and a few single events.
    warm_key, _warm_source = machine_key("bench-cameras-warmup")
    warm = Events(traffic, security, f"warm-{time.time_ns()}", seed=SEED + 1)
    c = client(server.url, warm_key)
    try:
        for _ in range(3):
            _e, status, _a = post(c, encode({"events": warm.batch(200)}))
            if status != "200":
                raise RuntimeError(f"camera batch POST failed while warming up: {status} (see var/bench/server.log)")
        for _ in range(20):
            post(c, encode(warm.violation()))
    finally:
        c.close()

    # 1. Batches of 1,000 through the API, then the same rows inserted raw.
    batch_key, batch_source = machine_key("bench-cameras-batches")
    events = Events(traffic, security, f"batch-{time.time_ns()}")
    bodies = [encode({"events": events.batch(BATCH_SIZE)}) for _ in range(BATCHES)]
    before, logged = _cpu(server.pid), server_errors()
    with ConnectionWatch() as sessions:
        api = closed_loop(server.url, batch_key, bodies, BATCH_SIZE, BATCH_CLIENTS)
    cpu_note = f"{_cpu_note(server.pid, before)}; PostgreSQL sessions up to {sessions.peak}{errors_note(logged)}"
    stored = CameraEvent.objects.filter(source=batch_source).count()
    api_rate = api.created / api.wall if api.wall else 0.0
    note = (
        f"{api.created} events created in {api.wall:.1f} s, {stored} rows stored; latency per batch of "
        f"{BATCH_SIZE}; {cpu_note}"
    )
    if api.errors():
        note += f"; failed batches: {api.errors()}"
    rows.append(
        summary(
            f"cameras: POST {PATH} {BATCHES} x {BATCH_SIZE:,}, {BATCH_CLIENTS} clients",
            api.seconds,
            expected=BATCHES * BATCH_SIZE,
            count=api.created,
            rate=api_rate,
            rate_unit="events/s",
            note=note,
        )
    )

    written = stored_rows(batch_source)
    runs = []
    for _ in range(RAW_REPEATS):
        truncate_events()
        runs.append(raw_insert(written, BATCH_SIZE))
    seconds = statistics.median(runs)
    raw_rate = len(written) / seconds if written else 0.0
    ratio = api_rate / raw_rate if raw_rate else 0.0
    met = ratio >= RATIO_GOAL
    rows.append(
        summary(
            f"cameras: raw INSERT of the same rows, {BATCH_SIZE:,}/statement and transaction",
            [],
            expected=len(written),
            count=CameraEvent.objects.count(),
            rate=raw_rate,
            rate_unit="rows/s",
            budget=f"API >= {RATIO_GOAL:.0%} of raw",
            note=(
                f"{len(written)} rows in {seconds * 1000:.0f} ms (median of {RAW_REPEATS}, psycopg2 execute_values); "
                f"the API's events/s are {ratio:.1%} of it: goal {'met' if met else 'MISSED'}"
            ),
        )
    )
    checks.append(
        {"name": f"batch API at least {RATIO_GOAL:.0%} of raw INSERT ({ratio:.1%})", "ok": met, "must": False}
    )
    details["batches"] = {
        "batches": BATCHES,
        "batch_size": BATCH_SIZE,
        "clients": BATCH_CLIENTS,
        "created": api.created,
        "stored": stored,
        "wall_seconds": round(api.wall, 2),
        "events_per_second": round(api_rate, 1),
        "statuses": dict(api.statuses),
        "postgres_sessions_peak": sessions.peak,
        "raw_insert_seconds": [round(x, 3) for x in runs],
        "raw_rows_per_second": round(raw_rate, 1),
        "api_share_of_raw": round(ratio, 4),
    }

    # 2. Single events on the clock.
    single_key, single_source = machine_key("bench-cameras-single")
    singles = Events(traffic, security, f"single-{time.time_ns()}", seed=SEED + 2)
    count = int(PACE * PACE_SECONDS)
    bodies = [encode(singles.violation()) for _ in range(count)]
    paced = Outcomes()

    def on_single(i, scheduled, result):
        elapsed, status, _answer = result
        paced.record(scheduled, perf_counter() - scheduled if elapsed is not None else None, status)

    before, logged = _cpu(server.pid), server_errors()
    with ConnectionWatch() as sessions:
        _start, info = open_loop(server.url, single_key, bodies, PACE, count, PACE_WORKERS, on_single)
    cpu_note = f"{_cpu_note(server.pid, before)}; PostgreSQL sessions up to {sessions.peak}{errors_note(logged)}"
    stored = CameraEvent.objects.filter(source=single_source).count()
    p99 = percentile([s * 1000 for s in paced.created], 99)
    note = (
        f"open loop, {count} sends scheduled over {PACE_SECONDS} s on up to {PACE_WORKERS} connections; "
        f"{len(paced.created)} created in {paced.wall:.1f} s, {stored} rows stored; {cpu_note}"
    )
    if paced.other or info["not_sent_before_drain_timeout"]:
        note += f"; not created: {paced.note_errors() or '-'}, never sent: {info['not_sent_before_drain_timeout']}"
    rows.append(
        summary(
            f"cameras: single event POSTs at a fixed {PACE:g}/s",
            paced.created,
            expected=count,
            rate=len(paced.created) / paced.wall if paced.wall else 0.0,
            budget=SINGLE_BUDGET,
            note=note,
        )
    )
    single_ok = p99 is not None and p99 < 50 and len(paced.created) == count
    checks.append(
        {"name": f"single event POST p99 < 50 ms at {PACE:g}/s (p99 {p99 or 0:.0f} ms)", "ok": single_ok, "must": False}
    )
    details["single"] = {
        "rate_per_second": PACE,
        "seconds": PACE_SECONDS,
        **info,
        "created": len(paced.created),
        "stored": stored,
        "wall_seconds": round(paced.wall, 2),
        "errors": dict(paced.other),
        "postgres_sessions_peak": sessions.peak,
    }

    # 3. The storm, with a wall socket listening and accidents sent in the middle of it.
    storm_key, storm_source = machine_key("bench-cameras-storm")
    accident_key, _accident_source = machine_key("bench-cameras-accidents")
    storm_events = Events(traffic, security, f"storm-{time.time_ns()}", seed=SEED + 3)
    batches = STORM_RATE // STORM_BATCH * STORM_SECONDS
    bodies = [encode({"events": storm_events.batch(STORM_BATCH)}) for _ in range(batches)]
    step = STORM_SECONDS / (ACCIDENTS + 1)
    accidents = [(camera, step * (i + 1)) for i, camera in enumerate(traffic[:ACCIDENTS])]
    before, logged = _cpu(server.pid), server_errors()
    with ConnectionWatch() as sessions:
        storm = asyncio.run(_storm(server, cookie, (storm_key, accident_key), bodies, accidents))
    cpu_note = f"{_cpu_note(server.pid, before)}; PostgreSQL sessions up to {sessions.peak}{errors_note(logged)}"
    outcome: Batches = storm["outcome"]
    storm_info = storm["info"]
    socket: Socket = storm["socket"]
    sent_events = outcome.sent_events
    stored = CameraEvent.objects.filter(source=storm_source).count()
    all_stored = stored == sent_events == batches * STORM_BATCH and outcome.created == stored
    storm_rate = outcome.created / outcome.wall if outcome.wall else 0.0
    note = (
        f"{batches} batches scheduled over {STORM_SECONDS} s from {STORM_WORKERS} threads; {sent_events} events sent, "
        f"{outcome.created} created, {stored} rows stored: {'every event stored' if all_stored else 'EVENTS MISSING'}; "
        f"latency per batch from its scheduled moment; {cpu_note}"
    )
    if outcome.errors() or storm_info["not_sent_before_drain_timeout"]:
        note += (
            f"; failed: {outcome.errors() or '-'}, never sent: {storm_info['not_sent_before_drain_timeout']} batches"
        )
    rows.append(
        summary(
            f"cameras: storm {STORM_RATE:,} events/s x {STORM_SECONDS} s, POSTs of {STORM_BATCH}",
            outcome.seconds,
            expected=batches * STORM_BATCH,
            count=stored,
            rate=storm_rate,
            rate_unit="events/s",
            budget=f"{STORM_RATE:,}/s, all stored",
            note=note,
        )
    )
    checks.append(
        {
            "name": f"storm: every event stored ({stored} rows for {sent_events} sent of {batches * STORM_BATCH})",
            "ok": all_stored,
            "must": True,
        }
    )

    # Messages on the wall socket during the storm, per second and subsystem.
    window = socket.per_second(storm["start"], storm["end"])
    window_seconds = max(1.0, storm["end"] - storm["start"])
    kpi = {t: counts for t, counts in window.items() if t.endswith(".kpis")}
    kpi_by_subsystem = {}
    for counts in kpi.values():
        for subsystem, per_second in counts.items():
            kpi_by_subsystem[subsystem] = {
                "max_per_second": max(per_second),
                "mean_per_second": round(sum(per_second) / window_seconds, 2),
                "total": sum(per_second),
            }
    others = {
        t: {s: sum(per_second) for s, per_second in counts.items()} for t, counts in window.items() if t not in kpi
    }
    kpi_total = sum(v["total"] for v in kpi_by_subsystem.values())
    worst = max((v["max_per_second"] for v in kpi_by_subsystem.values()), default=0)
    mean_worst = max((v["mean_per_second"] for v in kpi_by_subsystem.values()), default=0.0)
    kpi_ok = bool(kpi_by_subsystem) and mean_worst <= KPI_GOAL + 0.05 and worst <= KPI_GOAL + 1
    per_subsystem = "; ".join(
        f"{s}: max {v['max_per_second']}/s, mean {v['mean_per_second']}/s" for s, v in sorted(kpi_by_subsystem.items())
    )
    other_note = ", ".join(f"{sum(by.values())} x {t}" for t, by in sorted(others.items()))
    rows.append(
        summary(
            "cameras: storm -> figure updates on one wall socket",
            [],
            expected=sent_events,
            count=kpi_total,
            rate=kpi_total / window_seconds,
            rate_unit="msgs/s",
            budget=f"~{KPI_GOAL:g}/s per subsystem",
            note=(
                f"{kpi_total} figure updates for {sent_events} events over {window_seconds:.1f} s ({per_subsystem}); "
                f"goal {'met' if kpi_ok else 'MISSED'}; other messages: {other_note or 'none'}"
            ),
        )
    )
    checks.append(
        {
            "name": f"storm: figure updates about {KPI_GOAL:g}/s per subsystem ({per_subsystem or 'none received'})",
            "ok": kpi_ok,
            "must": False,
        }
    )

    # The accidents: from just before the POST to traffic.incident.updated on the socket.
    latencies, missing = [], []
    for camera, sent in sorted(storm["sent_at"].items()):
        arrived = socket.first("traffic.incident.updated", camera, "accident", sent)
        if arrived is None:
            missing.append(camera)
        else:
            latencies.append(arrived - sent)
    rows.append(
        summary(
            "cameras: accident during the storm -> traffic.incident.updated on the socket",
            latencies,
            expected=len(accidents),
            budget="p99 < 100 ms",
            note=(
                f"{len(latencies)} of {len(accidents)} accidents arrived (one per traffic camera, every {step:.0f} s); "
                f"POST answers: {dict(Counter(storm['accidents'].values()))}"
                + (f"; never arrived: {', '.join(missing)}" if missing else "")
            ),
        )
    )
    checks.append(
        {
            "name": f"storm: every accident reached the socket ({len(latencies)}/{len(accidents)})",
            "ok": not missing and len(latencies) == len(accidents),
            "must": False,
        }
    )
    details["storm"] = {
        "rate_per_second": STORM_RATE,
        "seconds": STORM_SECONDS,
        "batch_size": STORM_BATCH,
        "workers": STORM_WORKERS,
        **storm_info,
        "events_sent": sent_events,
        "events_created": outcome.created,
        "rows_stored": stored,
        "every_event_stored": all_stored,
        "wall_seconds": round(outcome.wall, 2),
        "statuses": dict(outcome.statuses),
        "postgres_sessions_peak": sessions.peak,
        "socket": {
            "window_seconds": round(window_seconds, 2),
            "figure_updates": kpi_by_subsystem,
            "other_messages": others,
            "figure_updates_per_second": {s: counts for t in kpi.values() for s, counts in t.items()},
        },
        "accident_latency_ms": [round(x * 1000, 1) for x in latencies],
        "accidents_missing": missing,
        "incidents_open": Incident.objects.filter(status__in=Incident.OPEN).count(),
    }
    details["server_logged"] = dict(server_errors())
    return rows, details, checks
