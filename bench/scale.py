"""`python -m bench.scale` (`make bench-scale`): the screens on a year of a province's data.

Its own embedded servers and database (ioc_bench_scale), the demo city, then `manage.py bench_data`
at full size (1,000,000 reports, 5,000,000 camera events, 1,000,000 dossiers; `--reports`, `--events`,
`--dossiers` to change it), skipped when the same sizes and seed are already loaded. Then the project
served by the ASGI server, as `make bench` does, and each read measured over HTTP, one request after
the other on one keep-alive connection: the snapshot for a provincial leader and for a ward's staff,
the console's queue, the year's Decision 766 indicators and the public on-time page; the queue's
query count is counted in this process for two page sizes. The table says each figure's goal and
whether it was met; var/bench/scale.json keeps them (docs/scale.md).
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime

from bench import servers

DATABASE = "ioc_bench_scale"
REQUESTS = 200
WARMUP = 10
SERIES_TIMEOUT = 120.0
SIZES = {"reports": 1_000_000, "events": 5_000_000, "dossiers": 1_000_000}
# (name, path, who, goal)
READS = [
    ("snapshot as leader (province)", "/api/v1/dashboard/snapshot/", "leader", "p95 < 50 ms"),
    ("snapshot as ward staff", "/api/v1/dashboard/snapshot/", "staff", "p95 < 50 ms"),
    ("console queue API, page 1", "/api/v1/reports/queue/", "leader", "p95 < 50 ms"),
    ("one-stop indicators, this year", "/api/v1/onestop/indicators/?period=year", "leader", "p95 < 200 ms"),
    ("public on-time page", "/public/units/", None, "p95 < 200 ms"),
]
QUEUE = "/api/v1/reports/queue/"


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    for name, size in SIZES.items():
        parser.add_argument(f"--{name}", type=int, default=size, help=f"Rows of generated {name} (default {size:,}).")
    parser.add_argument("--seed", type=int, default=1, help="bench_data's seed (default 1).")
    parser.add_argument("--requests", type=int, default=REQUESTS, help=f"Timed requests per read ({REQUESTS}).")
    parser.add_argument("--regenerate", action="store_true", help="Generate the data again even if it is there.")
    kind, workers, ws = servers.choice()
    parser.add_argument("--server", choices=servers.SERVERS, default=kind, help="ASGI server (as make bench).")
    parser.add_argument("--workers", type=int, default=None, help="uvicorn worker processes (as make bench).")
    options = parser.parse_args(argv)
    options.ws = ws
    if options.workers is None:
        options.workers = 1 if options.server == "daphne" else workers
    return options


def load_data(options) -> dict:
    """bench_data at the asked size, unless this database already holds exactly that."""
    from django.core.management import call_command

    from ioc.management.commands import bench_data

    wanted = {"reports": options.reports, "events": options.events, "dossiers": options.dossiers}
    found = bench_data.loaded()
    if not options.regenerate and found and found.get("seed") == options.seed and found.get("counts") == wanted:
        print(f"bench-scale: the data is already loaded ({found['at']}); --regenerate to make it again", flush=True)
        return {"reused": True, "loaded_at": found["at"], "counts": wanted, "seed": options.seed}
    print(f"bench-scale: generating {', '.join(f'{n:,} {k}' for k, n in wanted.items())}", flush=True)
    command = bench_data.Command()
    started = time.monotonic()
    call_command(command, reset=True, seed=options.seed, **wanted)
    return {
        "reused": False,
        "counts": wanted,
        "seed": options.seed,
        "seconds": round(time.monotonic() - started, 1),
        "tables": [
            {"table": r.table, "rows": r.rows, "seconds": round(r.seconds, 1), "rows_per_second": round(r.rate)}
            for r in command.results
        ],
    }


def query_counts() -> dict:
    """Queries the queue API makes for 10 and for 100 rows, counted in this process: equal when
    nothing is read row by row."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ioc.models import User

    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(username="bench_leader"))
    counts = {}
    for limit in (10, 100):
        client.get(f"{QUEUE}?limit={limit}")  # warm: sessions, translations
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(f"{QUEUE}?limit={limit}")
        counts[limit] = {"status": answer.status_code, "queries": len(queries), "rows": len(answer.json()["results"])}
    return counts


def snapshot_parts(rounds: int = 10) -> dict:
    """Where a snapshot's time goes: each subsystem's figures for the leader's and the ward's scope,
    the median of `rounds` calls in this process (ms), after one call that fills the caches."""
    from bench.fixtures import STAFF_UNIT
    from bench.stats import percentile
    from ioc import registry
    from ioc.demo import PROVINCE
    from ioc.models import Unit
    from ioc.scope import Scope

    parts = {}
    for who, code in (("leader", PROVINCE), ("staff", STAFF_UNIT)):
        scope = Scope(unit=Unit.objects.get(code=code))
        parts[who] = {}
        for subsystem in registry.enabled():
            subsystem.snapshot(scope)
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                subsystem.snapshot(scope)
                times.append((time.perf_counter() - started) * 1000)
            parts[who][subsystem.code] = round(percentile(times, 50), 1)
    return parts


def briefing_rows(rounds: int = 3) -> list[dict]:
    """The province's weekly briefing on this data: its figures and page (HTML), then the whole PDF,
    `rounds` times each, in this process (the Celery task that sends it does the same)."""
    from bench.load import Results
    from bench.stats import summary
    from ioc import briefings
    from ioc.demo import PROVINCE
    from ioc.models import Unit

    province = Unit.objects.get(code=PROVINCE)
    when = briefings.window("weekly")
    timings = {"html": [], "pdf": []}
    pages = 0
    for _ in range(rounds):
        started = time.perf_counter()
        briefings.html(province, when)
        timings["html"].append(time.perf_counter() - started)
        started = time.perf_counter()
        _content, pages = briefings.pdf(province, when)
        timings["pdf"].append(time.perf_counter() - started)
    floor = summary(
        "briefing: figures and page (HTML)",
        Results.timed(sum(timings["html"]), rounds, latencies=timings["html"]),
        unit="briefings/s",
    )
    whole = summary(
        "briefing: province weekly, PDF",
        Results.timed(sum(timings["pdf"]), rounds, latencies=timings["pdf"]),
        floor,
        unit="briefings/s",
        budget="p99 < 30000 ms",
        note=f"{pages} pages, A4",
    )
    return [floor, whole]


def measure(server_url: str, cookies: dict, requests: int) -> list[dict]:
    from bench import load
    from bench.stats import summary

    def series(path: str, cookie: str | None) -> load.Results:
        return load.concurrent(
            lambda: load.Client(server_url, cookie),
            [load.get(path)] * (WARMUP + requests),
            1,
            timeout=SERIES_TIMEOUT,
            warmup=WARMUP,
        )

    floor = summary("GET /healthz (baseline)", series("/healthz", None))
    rows = [floor]
    for name, path, who, goal in READS:
        print(f"bench-scale: {name} ({path})", flush=True)
        results = series(path, cookies[who] if who else None)
        rows.append(summary(name, results, floor, budget=goal, note=f"GET {path}"))
    return rows


def main(argv=None) -> int:
    options = arguments(argv)
    started = time.monotonic()
    running = servers.Servers(
        embedded_postgres=not os.environ.get("DATABASE_URL"), embedded_redis=not os.environ.get("REDIS_URL")
    )
    try:
        servers.prepare(DATABASE)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ioc.settings")
        import django

        django.setup()
        from django.core.management import call_command

        from bench import fixtures, stats

        print(f"bench-scale: migrating {DATABASE} and loading the demo city", flush=True)
        fixtures.migrate()
        call_command("collectstatic", interactive=False, verbosity=0)  # the public page is HTML
        fixtures.demo_city()
        data = load_data(options)
        cookies = fixtures.people()
        counts = query_counts()
        parts = snapshot_parts()
        print("bench-scale: the province's weekly briefing", flush=True)
        briefing = briefing_rows()
        with servers.asgi(options.server, options.workers, ws=options.ws) as server:
            print(f"bench-scale: {server.label} at {server.url}", flush=True)
            rows = measure(server.url, cookies, options.requests) + briefing
        constant = counts[10]["queries"] == counts[100]["queries"] and all(c["status"] == 200 for c in counts.values())
        checks = [
            {
                "name": f"queue API queries: {counts[10]['queries']} for 10 rows, {counts[100]['queries']} for 100",
                "ok": constant,
                "must": True,
            }
        ]
        elapsed = round(time.monotonic() - started, 1)
        print()
        print(stats.table(rows))
        for check in checks:
            print(f"  [{'ok' if check['ok'] else 'FAILED'}] {check['name']}")
        for who, times in parts.items():
            line = ", ".join(f"{code} {ms:g}" for code, ms in times.items())
            print(f"  snapshot parts as {who} (median ms in this process): {line}")
        if not data["reused"]:
            print(f"\nbench_data: {data['seconds']} s")
            for t in data["tables"]:
                print(
                    f"  {t['table']:<32} {t['rows']:>12,} rows {t['seconds']:>8.1f} s "
                    f"{t['rows_per_second']:>10,} rows/s"
                )
        print(f"\nServer: {server.label}. Total run time {elapsed} s")
        path = servers.BENCH_VAR / "scale.json"
        stats.write_json(
            path,
            {
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
                "server": server.label,
                "data": data,
                "results": rows,
                "queue_queries": counts,
                "snapshot_parts_ms": parts,
                "checks": checks,
                "run_seconds": elapsed,
            },
        )
        print(f"Results written to {path}")
        missed = [r for r in rows if r["met"] is False]
        return 1 if missed or not constant else 0
    finally:
        if "django" in sys.modules and "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        running.stop()


if __name__ == "__main__":
    sys.exit(main())
