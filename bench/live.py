"""Benchmark 1: from a change to the message on 200 connected wall sockets.

200 leader sockets (scope: province 75) are connected to the ASGI server under test. Messages are sent at a
steady rate from a worker thread; each carries a key, and every socket records when it saw it.
The same sockets are measured at two paces: 5 alerts/s (a busy hour of citizens' reports in a
city) and 50 alerts/s (a burst), so the rows show where the server stops keeping up.

- baseline: a raw `group_send` to the province's group from a thread with its own event loop;
- service: `ioc.services.alert_raise` (database write, commit, then the live bus) in a child process,
  as a web or worker process publishes: its bus (and the figures it computes) must not take the
  measuring process's time from the 200 sockets it reads.

All the while, camera events arrive through the batch API at INGEST_RATE a second (batches of
INGEST_BATCH from a vendor key, as bench/cameras.py sends them): the server fans out while it
ingests, and its figure updates for the cameras reach the same sockets.

Latency = arrival on a socket minus the moment just before the send or the service call, on one
clock (`perf_counter`, the system's monotonic clock, the same in the child process). Sends follow
bench.load's open-loop clock; a send is made in the sending thread itself (the baseline's event
loop and the service's database connection belong to it), so a slow one delays the next ones,
which then catch up.
"""

import asyncio
import json
import os
import threading
import time
from time import perf_counter

from django.conf import settings
from django.db import connections
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench import load
from bench.servers import Server, Watch
from bench.stats import summary
from ioc import bus, registry
from ioc.demo import PROVINCE
from ioc.models import Severity

SOCKETS = 200
# (messages per second, messages sent): the slow pace first, so a backlog of the fast one cannot leak into it
PACES = ((5.0, 100), (50.0, 300))
WARMUP = 5
CONNECT_CONCURRENCY = 20
CONNECT_TIMEOUT = 15.0
DRAIN_TIMEOUT = 20.0  # after the last send, how long to wait for stragglers
ORIGIN = "http://localhost"
BUDGET = "p99 < 100 ms"
SEVERITIES = [Severity.WARNING, Severity.CRITICAL, Severity.INFO]
# Camera events per second through the batch API while the sockets are measured (IOC_BENCH_INGEST_RATE;
# 0 measures the fan-out alone).
INGEST_RATE = int(os.environ.get("IOC_BENCH_INGEST_RATE", "500"))
INGEST_BATCH = 50


class Ingest:
    """Camera events through POST /api/v1/traffic/events/ at INGEST_RATE a second, on a thread, until stopped."""

    def __init__(self, server: Server):
        from bench import cameras

        self.cameras = cameras
        traffic, security = cameras.demo_cameras()
        plain_key, _source = cameras.machine_key(f"bench-live-ingest-{time.time_ns()}")
        self.events = cameras.Events(traffic, security, f"live-{time.time_ns()}", seed=cameras.SEED + 7)
        self.connect = cameras.connector(server, plain_key)
        self.stop = threading.Event()
        self.created = self.sent = self.failed = 0
        self.thread = threading.Thread(target=self._run, name="bench-live-ingest", daemon=True)

    def _run(self) -> None:
        client = self.connect()
        rate = INGEST_RATE / INGEST_BATCH
        try:
            for _i, _due in load.ticks(rate):
                if self.stop.is_set():
                    return
                self.sent += INGEST_BATCH
                try:
                    answer = client.send(self.cameras.request({"events": self.events.batch(INGEST_BATCH)}))
                except OSError:
                    client.close()
                    self.failed += INGEST_BATCH
                    continue
                if answer.status in (200, 201):
                    self.created += self.cameras.created(answer.body)
                else:
                    self.failed += INGEST_BATCH
        finally:
            client.close()

    def __enter__(self):
        self.started = perf_counter()
        if INGEST_RATE > 0:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(30)
        self.seconds = perf_counter() - self.started

    def info(self) -> dict:
        return {
            "rate_per_second": INGEST_RATE,
            "sent": self.sent,
            "created": self.created,
            "failed": self.failed,
            "achieved_per_second": round(self.sent / self.seconds, 1) if self.seconds else None,
        }


class Tracker:
    """Per key: when it was sent, and when each socket received it."""

    def __init__(self, sockets: int):
        self.sockets = sockets
        self.sent: dict[str, float] = {}
        self.arrived: dict[str, list[float | None]] = {}
        self.delivered = 0
        self.other = 0  # frames that are not alert updates (figures updates)
        self.closed = 0

    def expect(self, keys: list[str]) -> None:
        for key in keys:
            self.arrived[key] = [None] * self.sockets

    def on_message(self, index: int, raw: str, now: float) -> None:
        if '"ioc.alert.updated"' not in raw:
            self.other += 1
            return
        try:
            key = json.loads(raw)["data"]["subject_id"]
        except (ValueError, KeyError, TypeError):
            return
        slots = self.arrived.get(key)
        if slots is None or slots[index] is not None:
            return
        slots[index] = now
        self.delivered += 1

    def latencies(self, keys: list[str]) -> tuple[list[float], list[float], int]:
        """(every delivery, the last socket per fully delivered key, number of deliveries)."""
        each, last = [], []
        for key in keys:
            sent = self.sent.get(key)
            if sent is None:
                continue
            times = [t - sent for t in self.arrived[key] if t is not None]
            each.extend(times)
            if len(times) == self.sockets:
                last.append(max(times))
        return each, last, len(each)


def pace_label(rate: float) -> str:
    return f"{rate:g}/s"


def _alert_state(i: int, key: str, unit) -> dict:
    """A payload shaped like `ioc.selectors.alert_state`, for the baseline."""
    return {
        "id": i,
        "subsystem": "reports",
        "severity": SEVERITIES[i % len(SEVERITIES)],
        "title": f"Bench alert {i}",
        "detail": "",
        "unit": unit.code,
        "unit_name": unit.name,
        "subject_type": "bench",
        "subject_id": key,
        "count": 1,
        "state": "open",
        "first_seen_at": "2026-01-01T00:00:00+00:00",
        "last_seen_at": "2026-01-01T00:00:00+00:00",
        "acknowledged_at": None,
        "resolved_at": None,
    }


def send_raw(keys: list[str], units: list, tracker: Tracker, rate: float, deadline: float) -> None:
    """Baseline: `group_send` straight to the province's group, no database, no bus thread."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    group = bus.unit_group(PROVINCE)
    loop = asyncio.new_event_loop()
    try:
        for i, _due in load.ticks(rate, count=len(keys), until=deadline):
            key = keys[i]
            unit = units[i % len(units)]
            message = bus.envelope(
                type="ioc.alert.updated", subsystem="reports", unit_code=unit.code, data=_alert_state(i, key, unit)
            )
            tracker.sent[key] = perf_counter()
            loop.run_until_complete(layer.group_send(group, bus.layer_message(message)))
    finally:
        loop.close()  # channels_redis closes this loop's connections


def raise_alerts(keys: list[str], units: list, tracker: Tracker, rate: float, deadline: float) -> None:
    """The real path: the service writes the alert and the bus announces it after commit."""
    from ioc.services import alert_raise

    subsystems = [s.code for s in registry.enabled()]
    try:
        for i, _due in load.ticks(rate, count=len(keys), until=deadline):
            key = keys[i]
            tracker.sent[key] = perf_counter()
            alert_raise(
                subsystem=subsystems[i % len(subsystems)],
                severity=SEVERITIES[i % len(SEVERITIES)],
                title=f"Bench alert {i}",
                unit=units[i % len(units)],
                dedup_key=f"bench:{key}",
                subject_type="bench",
                subject_id=key,
            )
    finally:
        connections.close_all()


class _Sent:
    def __init__(self):
        self.sent: dict[str, float] = {}


class AlertProcess:
    """`raise_alerts` in a child process, called like a sender (see `phase_pace`)."""

    __name__ = "raise_alerts"

    def __init__(self):
        import multiprocessing

        self.conn, child = multiprocessing.Pipe()
        from bench.publisher import serve_alerts

        self.process = multiprocessing.get_context("spawn").Process(
            target=serve_alerts, args=(child,), name="bench-alerts", daemon=True
        )

    def __enter__(self):
        self.process.start()
        return self

    def __exit__(self, *exc):
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(15)
        if self.process.is_alive():
            self.process.kill()

    def __call__(self, keys, units, tracker, rate, deadline) -> None:
        self.conn.send((keys, [u.pk for u in units], rate, deadline - perf_counter()))
        tracker.sent.update(self.conn.recv())


def _in_thread(target, *args) -> asyncio.Future:
    """Run `target` on a fresh thread (no event loop there, so Django's ORM is allowed)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def run():
        try:
            result = target(*args)
        except BaseException as exc:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(future.set_exception, exc)
        else:
            loop.call_soon_threadsafe(future.set_result, result)

    threading.Thread(target=run, name=f"bench-{target.__name__}", daemon=True).start()
    return future


async def _open(ws_url: str, cookie: str):
    ws = await connect(
        ws_url,
        origin=ORIGIN,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        open_timeout=CONNECT_TIMEOUT,
        close_timeout=2,
        compression=None,
        ping_interval=None,
        max_queue=None,
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
    if hello.get("type") != "ioc.hello" or hello.get("scope") != PROVINCE:
        await ws.close()
        raise RuntimeError(f"unexpected first message on /ws/live/: {hello}")
    return ws


async def _read(index: int, ws, tracker: Tracker) -> None:
    try:
        async for raw in ws:
            tracker.on_message(index, raw, perf_counter())
    except ConnectionClosed:
        pass
    finally:
        tracker.closed += 1


async def phase_connect(server: Server, cookie: str, tracker: Tracker) -> tuple[list, list, float]:
    """Open SOCKETS leader sockets, CONNECT_CONCURRENCY at a time: (sockets, their readers, seconds)."""
    ws_url = server.url.replace("http://", "ws://", 1) + "/ws/live/"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one():
        async with gate:
            return await _open(ws_url, cookie)

    t0 = perf_counter()
    opened = await asyncio.gather(*(open_one() for _ in range(SOCKETS)), return_exceptions=True)
    sockets = [ws for ws in opened if not isinstance(ws, BaseException)]
    failures = [ws for ws in opened if isinstance(ws, BaseException)]
    readers = [asyncio.create_task(_read(i, ws, tracker)) for i, ws in enumerate(sockets)]
    if failures:
        await phase_close(sockets, readers)
        raise RuntimeError(f"{len(failures)} of {SOCKETS} sockets failed to open: {failures[0]!r}")
    return sockets, readers, perf_counter() - t0


async def phase_pace(sender, keys: list[str], rate: float, units: list, tracker: Tracker, server: Server) -> dict:
    """Send `keys` at `rate` and wait for them to reach every socket: wall and CPU seconds, never-sent keys."""
    tracker.expect(keys)
    before, other = tracker.delivered, tracker.other
    expected = len(keys) * tracker.sockets
    with Watch(server, sessions=False) as watch:
        started = perf_counter()
        await _in_thread(sender, keys, units, tracker, rate, started + len(keys) / rate + 30)
        sent = perf_counter()
        deadline = sent + DRAIN_TIMEOUT
        while tracker.delivered - before < expected and perf_counter() < deadline:
            await asyncio.sleep(0.05)
    return {
        "send_seconds": round(sent - started, 2),
        "drain_seconds": round(perf_counter() - sent, 2),
        "never_sent": sum(1 for key in keys if key not in tracker.sent),
        "other_frames": tracker.other - other,
        "server_cpu_seconds": round(watch.server_cpu, 2),
        "bench_process_cpu_seconds": round(watch.own_cpu, 2),
    }


async def phase_warm_up(units: list, tracker: Tracker, server: Server, run_id: str, alerts) -> None:
    """Both paths once at the fast pace (imports, connections, the bus thread), before anything is measured."""
    fast = max(rate for rate, _ in PACES)
    await phase_pace(send_raw, [f"w-raw-{run_id}-{i}" for i in range(WARMUP)], fast, units, tracker, server)
    await phase_pace(alerts, [f"w-svc-{run_id}-{i}" for i in range(WARMUP)], fast, units, tracker, server)


async def phase_close(sockets: list, readers: list) -> None:
    try:
        closing = asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await asyncio.wait_for(closing, timeout=15)
    except TimeoutError:
        pass  # the server is stopped next anyway
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


async def _run(server: Server, cookie: str, units: list, run_id: str, ingest: Ingest, alerts) -> tuple:
    tracker = Tracker(SOCKETS)
    sockets, readers, connect_seconds = await phase_connect(server, cookie, tracker)
    try:
        await phase_warm_up(units, tracker, server, run_id, alerts)
        phases = {}
        with ingest:
            for rate, messages in PACES:
                for prefix, sender in (("raw", send_raw), ("svc", alerts)):
                    await asyncio.sleep(1)
                    keys = _keys(prefix, rate, run_id, messages)
                    phases[(prefix, rate)] = await phase_pace(sender, keys, rate, units, tracker, server)
    finally:
        await phase_close(sockets, readers)
    timings = {"connect_seconds": round(connect_seconds, 2), "phases": phases}
    return tracker, timings, {"sockets": len(sockets), "ingest": ingest.info()}


def _keys(prefix: str, rate: float, run_id: str, messages: int) -> list[str]:
    return [f"{prefix}@{rate:g}-{run_id}-{i}" for i in range(messages)]


def run(server: Server, cookie: str, units: list) -> tuple[list[dict], dict]:
    run_id = str(time.time_ns())
    ingest = Ingest(server)  # its key and cameras are read here: no database calls inside the event loop
    with AlertProcess() as alerts:
        tracker, timings, info = asyncio.run(_run(server, cookie, units, run_id, ingest, alerts))
    rows, paces = [], []
    for rate, messages in PACES:
        pace = pace_label(rate)
        for label, prefix in (("raw group_send", "raw"), ("alert_raise", "svc")):
            each, last, delivered = tracker.latencies(_keys(prefix, rate, run_id, messages))
            t = timings["phases"][(prefix, rate)]
            wall = t["send_seconds"] + t["drain_seconds"]
            note = (
                f"{delivered} alert frames (+{t['other_frames']} figures frames) in {wall:.1f} s "
                f"({(delivered + t['other_frames']) / wall:,.0f} frames/s), camera ingest at {INGEST_RATE}/s "
                f"alongside; CPU seconds: server {t['server_cpu_seconds']}, "
                f"bench process {t['bench_process_cpu_seconds']}"
            )
            name = f"live @ {pace}: {label} -> "
            # No floor here: both paths follow the same offered pace, so their rates match by design;
            # what the service adds to the raw send is in the latencies, side by side in the table.
            frames = load.Results.timed(wall, delivered, expected=SOCKETS * messages, latencies=each)
            rows.append(summary(f"{name}each of {SOCKETS} sockets", frames, unit="frames/s", budget=BUDGET, note=note))
            # Throughput here: alerts that reached every socket, per second from the first send to the drain.
            alerts = load.Results.timed(wall, len(last), expected=messages, latencies=last)
            alerts.never_sent = t["never_sent"]
            rows.append(summary(f"{name}last of {SOCKETS} sockets", alerts, unit="alerts/s"))
            paces.append({"pace": pace, "phase": label, "messages": messages, "rate_per_second": rate, **t})
    details = {
        "sockets": info["sockets"],
        "connect_seconds": timings["connect_seconds"],
        "paces": paces,
        "bus_stats": dict(bus.stats),
        "camera_ingest": info["ingest"],
    }
    return rows, details
