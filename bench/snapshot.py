"""Benchmark 2: GET /api/v1/dashboard/snapshot/ on a table of 20,000 alerts, through the ASGI server under test.

The alerts are spread over the demo province's wards, most resolved, 500 still open. Each
series is 300 sequential requests on one keep-alive connection (a closed loop of one client,
after 10 untimed ones); the baseline is /healthz (no database, no session) on the same server in
the same run, the floor of the snapshot rows.
"""

import json
from datetime import timedelta
from time import perf_counter

from django.db import connection
from django.utils import timezone

from bench import load
from bench.stats import summary
from ioc import registry
from ioc.models import Alert, Severity

ALERTS = 20_000
OPEN = 500
REQUESTS = 300
WARMUP = 10
SERIES_TIMEOUT = 60.0  # seconds per series of requests
SNAPSHOT = "/api/v1/dashboard/snapshot/"
BUDGET = "p95 < 50 ms"
SEVERITIES = [Severity.INFO, Severity.WARNING, Severity.CRITICAL]


def phase_seed(units: list) -> dict:
    """Replace the alert table with ALERTS rows across `units`, OPEN of them unresolved."""
    Alert.objects.all().delete()
    subsystems = [s.code for s in registry.enabled()]
    now = timezone.now()
    rows = []
    for i in range(ALERTS):
        resolved = i >= OPEN
        seen = now - timedelta(minutes=i)
        rows.append(
            Alert(
                subsystem=subsystems[i % len(subsystems)],
                severity=SEVERITIES[i % len(SEVERITIES)],
                title=f"Seeded alert {i}",
                unit=units[i % len(units)],
                subject_type="bench",
                subject_id=str(i),
                dedup_key=f"seed:{i}",
                count=1 + i % 5,
                state=Alert.State.RESOLVED if resolved else Alert.State.OPEN,
                last_seen_at=seen,
                resolved_at=seen + timedelta(minutes=5) if resolved else None,
            )
        )
    started = perf_counter()
    Alert.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{Alert._meta.db_table}"')
    return {"alerts": ALERTS, "open": OPEN, "units": len(units), "seed_seconds": round(perf_counter() - started, 2)}


def phase_series(base_url: str, cookie: str | None, path: str) -> load.Results:
    """WARMUP untimed GETs, then up to REQUESTS timed ones, one after the other on one connection."""
    requests = [load.get(path)] * (WARMUP + REQUESTS)
    return load.concurrent(lambda: load.Client(base_url, cookie), requests, 1, timeout=SERIES_TIMEOUT, warmup=WARMUP)


def _note(path: str, series: load.Results) -> str:
    if path != SNAPSHOT or series.errors() or not series.last_body:
        return ""
    snapshot = json.loads(series.last_body)
    return f"scope {snapshot['scope']['unit']}, {len(snapshot['alerts'])} alerts, {len(series.last_body)} bytes"


def run(base_url: str, cookies: dict[str, str], units: list) -> tuple[list[dict], dict]:
    details = phase_seed(units)
    healthz = phase_series(base_url, None, "/healthz")
    floor = summary("http: GET /healthz (baseline)", healthz, note=_note("/healthz", healthz))
    rows = [floor]
    for name, cookie in (("leader (province)", cookies["leader"]), ("ward staff", cookies["staff"])):
        series = phase_series(base_url, cookie, SNAPSHOT)
        rows.append(summary(f"http: snapshot as {name}", series, floor, budget=BUDGET, note=_note(SNAPSHOT, series)))
    return rows, details
