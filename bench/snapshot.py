"""Benchmark 2: GET /api/v1/dashboard/snapshot/ on a table of 20,000 alerts, through the ASGI server under test.

The alerts are spread over the demo province's wards, most resolved, 500 still open. Each
series is 300 sequential requests on one keep-alive connection; the baseline is /healthz
(no database, no session) on the same server in the same run.
"""

import http.client
import json
from datetime import timedelta
from time import perf_counter
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone

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


def seed(units: list) -> dict:
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


class Client:
    """Sequential requests on one keep-alive HTTP/1.1 connection to the local server."""

    def __init__(self, base_url: str, cookie: str | None = None, timeout: float = 10):
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError("benchmarks only talk to 127.0.0.1")
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.headers = {"Accept": "application/json"}
        if cookie:
            self.headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[float, int, bytes]:
        return self.request("GET", path)

    def post_json(self, path: str, payload) -> tuple[float, int, bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json; charset=utf-8"})

    def request(self, method: str, path: str, body: bytes | None = None, headers=None) -> tuple[float, int, bytes]:
        # A GET is retried once on a connection the server closed while idle; a POST never is.
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                started = perf_counter()
                self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
                response = self.conn.getresponse()
                answer = response.read()
                elapsed = perf_counter() - started
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return elapsed, response.status, answer
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def series(client: Client, path: str) -> tuple[list[float], int, bytes]:
    """WARMUP untimed requests, then up to REQUESTS timed ones; (seconds of 200 answers, errors, last body)."""
    body = b""
    for _ in range(WARMUP):
        client.get(path)
    times, errors = [], 0
    deadline = perf_counter() + SERIES_TIMEOUT
    for _ in range(REQUESTS):
        if perf_counter() > deadline:
            break
        elapsed, status, body = client.get(path)
        if status == 200:
            times.append(elapsed)
        else:
            errors += 1
    client.close()
    return times, errors, body


def run(base_url: str, cookies: dict[str, str], units: list) -> tuple[list[dict], dict]:
    details = seed(units)
    plan = [
        ("http: GET /healthz (baseline)", None, "/healthz", ""),
        ("http: snapshot as leader (province)", cookies["leader"], SNAPSHOT, BUDGET),
        ("http: snapshot as ward staff", cookies["staff"], SNAPSHOT, BUDGET),
    ]
    rows = []
    for name, cookie, path, budget in plan:
        times, errors, body = series(Client(base_url, cookie), path)
        note = f"{errors} errors" if errors else ""
        if path == SNAPSHOT and not errors:
            snapshot = json.loads(body)
            note = f"scope {snapshot['scope']['unit']}, {len(snapshot['alerts'])} alerts, {len(body)} bytes"
        rows.append(summary(name, times, expected=REQUESTS, budget=budget, note=note))
    return rows, details
