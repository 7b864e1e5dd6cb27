"""Benchmark 4: camera events through POST /api/v1/traffic/events/ on the ASGI server under test, with an API key.

1. batches: 50 batches of 1,000 events (violations with plates, vehicle counts, some congestion
   that folds into incidents) from two clients at once, events/s; beside it, in the same run, the
   very rows the API stored written again into an emptied events table, 1,000 rows and one
   transaction at a time like the API, with psycopg2 `execute_values` (the floor: goal, the API at
   least RATIO_GOAL of its rate) and with COPY (told beside it: the fastest way in);
2. single events: one violation per POST at a fixed 200/s for 10 s, open loop (sends on the clock,
   latency from the scheduled moment), budget p99 < 50 ms;
3. a storm: 2,000 events/s for 60 s as 10 batches of 200 a second, sent on the clock from a few
   threads, while a wall socket (a leader of province 75, as bench/live.py) listens. Checked:
   every event sent is stored (rows in the database == events sent), how many live messages the
   socket got per second per subsystem (goal: about 2 figure updates per subsystem per second, not
   one per event), and how long an accident sent during the storm takes to reach that socket as
   `traffic.incident.updated`.

The camera tables are emptied first (the bench database only). All traffic goes to 127.0.0.1,
bounded in count and in time. What is measured is reported as it is, goal met or not. Each phase
is one function; the sending loops and the summary are bench.load's and bench.stats'.
"""

import asyncio
import io
import json
import math
import random
import statistics
import threading
import time
from collections import defaultdict
from datetime import timedelta
from time import perf_counter

from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import Json, execute_values
from websockets.exceptions import ConnectionClosed

from bench import copy, live, load
from bench.servers import LOG_PATH, Server, Watch, logged_errors
from bench.stats import summary
from ioc.demo import PROVINCE
from ioc.models import Unit
from ioc.services import api_key_create
from traffic.demo import CAMERAS as DEMO_CAMERAS
from traffic.management.commands.traffic_demo_feed import VEHICLES, plate
from traffic.models import Camera, CameraEvent, Incident
from traffic.services import EVENT_COLUMNS

PATH = "/api/v1/traffic/events/"
SEED = 26080
REQUEST_TIMEOUT = 20.0

BATCHES = 50
BATCH_SIZE = 1_000
BATCH_CLIENTS = 2
BATCH_TIMEOUT = 60.0  # the batch series stops sending after this many seconds
RAW_REPEATS = 3
RATIO_GOAL = 0.8

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

# The columns the API's COPY fills, but the id: the floors let the table number the rows.
COLUMNS = [column for column in EVENT_COLUMNS if column != "id"]


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


def request(payload) -> load.Request:
    return load.post_json(PATH, payload)


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


def connector(server: Server, plain_key: str):
    """New connections for one vendor system, signed with its API key."""
    headers = {"Authorization": f"Bearer {plain_key}"}
    return lambda: load.Client(server.url, timeout=REQUEST_TIMEOUT, headers=headers)


def created(body: bytes) -> int:
    """Events a batch answer says were created."""
    try:
        return int(json.loads(body).get("created", 0))
    except (ValueError, AttributeError, TypeError):
        return 0


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


def raw_copy(rows: list[tuple], batch: int) -> float:
    """Copy `rows` with one COPY and one transaction per `batch` rows (formatting included); seconds taken."""
    sql = 'COPY "{}" ({}) FROM STDIN'.format(CameraEvent._meta.db_table, ", ".join(f'"{c}"' for c in COLUMNS))
    started = perf_counter()
    for i in range(0, len(rows), batch):
        text = "".join("\t".join(copy.text(v) for v in row) + "\n" for row in rows[i : i + batch])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, io.StringIO(text))
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


# --- the phases ----------------------------------------------------------------------------------


def phase_warm_up(server: Server, traffic: list[str], security: list[str]) -> None:
    """Imports, connections and the live bus of every worker, with a few batches and single events."""
    plain_key, _source = machine_key("bench-cameras-warmup")
    events = Events(traffic, security, f"warm-{time.time_ns()}", seed=SEED + 1)
    connect = connector(server, plain_key)
    batches = load.concurrent(connect, [request({"events": events.batch(200)}) for _ in range(3)], 1, timeout=60)
    if batches.served != 3:
        raise RuntimeError(f"camera batch POST failed while warming up: {batches.errors()} (see {LOG_PATH})")
    load.concurrent(connect, [request(events.violation()) for _ in range(20)], 1, timeout=60)


def phase_batches(server: Server, traffic: list[str], security: list[str]) -> tuple[load.Results, str, dict, str]:
    """BATCHES batches of BATCH_SIZE from BATCH_CLIENTS clients at once (a closed loop): events/s."""
    plain_key, source = machine_key("bench-cameras-batches")
    events = Events(traffic, security, f"batch-{time.time_ns()}")
    requests = [request({"events": events.batch(BATCH_SIZE)}) for _ in range(BATCHES)]
    with Watch(server) as watch:
        api = load.concurrent(
            connector(server, plain_key),
            requests,
            BATCH_CLIENTS,
            timeout=BATCH_TIMEOUT,
            items=created,
            expected=BATCHES * BATCH_SIZE,
        )
    stored = CameraEvent.objects.filter(source=source).count()
    note = (
        f"{api.items} events created in {api.wall:.1f} s, {stored} rows stored; latency per batch of "
        f"{BATCH_SIZE}; {watch.note()}"
    )
    details = {"batches": BATCHES, "batch_size": BATCH_SIZE, "clients": BATCH_CLIENTS, **api.info()}
    details.update(stored=stored, **watch.info())
    return api, note, details, source


def phase_raw_insert(source: str) -> tuple[load.Results, str, load.Results, str, dict]:
    """The rows the batches stored, written again into an emptied table with execute_values (the floor
    of the batch API) and with COPY (the fastest way in), runs of the two interleaved."""
    written = stored_rows(source)
    runs: dict[str, list[float]] = {"insert": [], "copy": []}
    for _ in range(RAW_REPEATS):
        truncate_events()
        runs["insert"].append(raw_insert(written, BATCH_SIZE))
        truncate_events()
        runs["copy"].append(raw_copy(written, BATCH_SIZE))
    insert, copy = statistics.median(runs["insert"]), statistics.median(runs["copy"])
    insert_note = f"{len(written)} rows in {insert * 1000:.0f} ms (median of {RAW_REPEATS}, psycopg2 execute_values)"
    copy_note = f"{len(written)} rows in {copy * 1000:.0f} ms (median of {RAW_REPEATS}, COPY, text built here)"
    details = {f"raw_{k}_seconds": [round(x, 3) for x in v] for k, v in runs.items()}
    return (
        load.Results.timed(insert, len(written)),
        insert_note,
        load.Results.timed(copy, len(written)),
        copy_note,
        details,
    )


def phase_single_events(server: Server, traffic: list[str], security: list[str]) -> tuple[load.Results, str, dict]:
    """One violation per POST at a fixed PACE for PACE_SECONDS, open loop: latency from each due moment."""
    plain_key, source = machine_key("bench-cameras-single")
    events = Events(traffic, security, f"single-{time.time_ns()}", seed=SEED + 2)
    count = int(PACE * PACE_SECONDS)
    requests = [request(events.violation()) for _ in range(count)]
    with Watch(server) as watch:
        paced = load.offered_rate(
            connector(server, plain_key), requests, PACE, workers=PACE_WORKERS, drain=DRAIN_TIMEOUT
        )
    stored = CameraEvent.objects.filter(source=source).count()
    note = (
        f"open loop, {count} sends scheduled over {PACE_SECONDS} s on up to {PACE_WORKERS} connections; "
        f"{paced.served} created in {paced.wall:.1f} s, {stored} rows stored; {watch.note()}"
    )
    details = {"rate_per_second": PACE, "seconds": PACE_SECONDS, **paced.info(), "stored": stored, **watch.info()}
    return paced, note, details


def _storm_sender(server: Server, keys: tuple[str, str], requests: list, cameras: list[str], step: float) -> dict:
    """The storm on the clock, and beside it one accident every `step` seconds from its own connection.

    `keys`: the storm's API key and the accidents' (another vendor system, so the storm's rows count
    apart). An accident is built when it is due, so that it carries its own time.
    """
    storm_key, accident_key = keys
    sent_at: dict[str, float] = {}

    def accident(camera: str):
        def make() -> load.Request:
            sent_at[camera] = perf_counter()
            return request(
                {
                    "camera": camera,
                    "kind": "accident",
                    "external_id": f"storm-accident-{camera}-{time.time_ns()}",
                    "occurred_at": timezone.now().isoformat(),
                    "plate": plate(random.Random(camera), "car"),
                    "score": 0.91,
                }
            )

        return make

    accidents: list[load.Results] = []
    thread = threading.Thread(
        target=lambda: accidents.append(
            load.offered_rate(
                connector(server, accident_key),
                [accident(camera) for camera in cameras],
                1 / step,
                workers=1,
                drain=REQUEST_TIMEOUT,
                start_in=step,
            )
        ),
        name="bench-cam-accidents",
        daemon=True,
    )
    thread.start()
    storm = load.offered_rate(
        connector(server, storm_key),
        requests,
        STORM_RATE / STORM_BATCH,
        workers=STORM_WORKERS,
        drain=STORM_DRAIN,
        items=created,
        expected=len(requests) * STORM_BATCH,
    )
    thread.join(STORM_SECONDS + REQUEST_TIMEOUT + 5)
    return {"storm": storm, "accidents": accidents[0] if accidents else load.Results(), "sent_at": sent_at}


async def _storm(server: Server, cookie: str, keys: tuple[str, str], requests: list, cameras, step: float) -> dict:
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
        result = await asyncio.to_thread(_storm_sender, server, keys, requests, cameras, step)
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


def phase_storm(server: Server, cookie: str, traffic: list[str], security: list[str]) -> dict:
    """STORM_RATE events/s for STORM_SECONDS with a wall socket listening and accidents sent in the middle."""
    storm_key, source = machine_key("bench-cameras-storm")
    accident_key, _accident_source = machine_key("bench-cameras-accidents")
    events = Events(traffic, security, f"storm-{time.time_ns()}", seed=SEED + 3)
    batches = STORM_RATE // STORM_BATCH * STORM_SECONDS
    requests = [request({"events": events.batch(STORM_BATCH)}) for _ in range(batches)]
    step = STORM_SECONDS / (ACCIDENTS + 1)
    with Watch(server) as watch:
        storm = asyncio.run(_storm(server, cookie, (storm_key, accident_key), requests, traffic[:ACCIDENTS], step))
    storm.update(watch=watch, step=step, stored=CameraEvent.objects.filter(source=source).count())
    storm["start"] = storm["storm"].start if storm["storm"].start is not None else storm["end"]
    return storm


def storm_rows(storm: dict) -> tuple[list[dict], list[dict], dict]:
    """The storm's three rows (events stored, figure updates on the socket, accidents) and checks."""
    results: load.Results = storm["storm"]
    socket: Socket = storm["socket"]
    stored, expected = storm["stored"], results.expected
    sent_events = results.sent * STORM_BATCH
    all_stored = stored == sent_events == expected and results.items == stored
    note = (
        f"{expected // STORM_BATCH} batches scheduled over {STORM_SECONDS} s from {STORM_WORKERS} threads; "
        f"{sent_events} events sent, {results.items} created, {stored} rows stored: "
        f"{'every event stored' if all_stored else 'EVENTS MISSING'}; "
        f"latency per batch from its scheduled moment; {storm['watch'].note()}"
    )
    rows = [
        summary(
            f"cameras: storm {STORM_RATE:,} events/s x {STORM_SECONDS} s, POSTs of {STORM_BATCH}",
            results,
            unit="events/s",
            note=f"goal {STORM_RATE:,}/s, all stored; {note}",
        )
    ]
    checks = [
        {
            "name": f"storm: every event stored ({stored} rows for {sent_events} sent of {expected})",
            "ok": all_stored,
            "must": True,
        }
    ]

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
            load.Results.timed(window_seconds, kpi_total, expected=sent_events),
            unit="msgs/s",
            note=(
                f"goal ~{KPI_GOAL:g}/s per subsystem; {kpi_total} figure updates for {sent_events} events "
                f"over {window_seconds:.1f} s ({per_subsystem}); "
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
    accidents: load.Results = storm["accidents"]
    rows.append(
        summary(
            "cameras: accident during the storm -> traffic.incident.updated on the socket",
            load.Results(latencies, items=len(latencies), expected=ACCIDENTS),
            budget="p99 < 100 ms",
            note=(
                f"{len(latencies)} of {ACCIDENTS} accidents arrived (one per traffic camera, every "
                f"{storm['step']:.0f} s); POST answers: {dict(accidents.statuses)}"
                + (f"; never arrived: {', '.join(missing)}" if missing else "")
            ),
        )
    )
    checks.append(
        {
            "name": f"storm: every accident reached the socket ({len(latencies)}/{ACCIDENTS})",
            "ok": not missing and len(latencies) == ACCIDENTS,
            "must": False,
        }
    )
    details = {
        "rate_per_second": STORM_RATE,
        "seconds": STORM_SECONDS,
        "batch_size": STORM_BATCH,
        "workers": STORM_WORKERS,
        **results.info(),
        "events_sent": sent_events,
        "rows_stored": stored,
        "every_event_stored": all_stored,
        **storm["watch"].info(),
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
    return rows, checks, details


# --- the run -------------------------------------------------------------------------------------


def run(server: Server, cookie: str) -> tuple[list[dict], dict, list[dict]]:
    """(table rows, details for the JSON file, checks: {"name", "ok", "must"})."""
    empty_cameras()
    traffic, security = demo_cameras()
    details: dict = {}

    phase_warm_up(server, traffic, security)
    api, api_note, details["batches"], source = phase_batches(server, traffic, security)
    raw, raw_note, copy, copy_note, raw_details = phase_raw_insert(source)
    details["batches"].update(raw_details)
    single, single_note, details["single"] = phase_single_events(server, traffic, security)
    storm = phase_storm(server, cookie, traffic, security)

    raw_row = summary(
        f"cameras: raw INSERT of the same rows, {BATCH_SIZE:,}/statement and transaction",
        raw,
        unit="rows/s",
        note=raw_note,
    )
    copy_row = summary(
        f"cameras: raw COPY of the same rows, {BATCH_SIZE:,}/COPY and transaction",
        copy,
        unit="rows/s",
        note=copy_note,
    )
    api_row = summary(
        f"cameras: POST {PATH} {BATCHES} x {BATCH_SIZE:,}, {BATCH_CLIENTS} clients",
        api,
        raw_row,
        unit="events/s",
        budget=f">= {RATIO_GOAL * 100:g} % of the floor",
        note=api_note,
    )
    ratio = api_row["ratio"] or 0.0
    copy_share = api_row["rate"] / copy_row["rate"] if api_row["rate"] and copy_row["rate"] else 0.0
    api_row["note"] += f"; {copy_share:.1%} of the rate of COPY"
    details["batches"].update(
        raw_rows_per_second=raw_row["rate"],
        copy_rows_per_second=copy_row["rate"],
        api_share_of_raw=ratio,
        api_share_of_copy=round(copy_share, 4),
    )
    single_row = summary(
        f"cameras: single event POSTs at a fixed {PACE:g}/s", single, budget=SINGLE_BUDGET, note=single_note
    )
    p99 = single_row["p99_ms"]
    storm_table, storm_checks, details["storm"] = storm_rows(storm)
    checks = [
        {
            "name": f"batch API at least {RATIO_GOAL:.0%} of raw INSERT ({ratio:.1%})",
            "ok": ratio >= RATIO_GOAL,
            "must": False,
        },
        {
            "name": f"single event POST p99 < 50 ms at {PACE:g}/s (p99 {p99 or 0:.0f} ms)",
            "ok": p99 is not None and p99 < 50 and single.served == single.expected,
            "must": False,
        },
        *storm_checks,
    ]
    details["server_logged"] = dict(logged_errors())
    return [api_row, raw_row, copy_row, single_row, *storm_table], details, checks
