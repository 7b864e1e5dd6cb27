"""`python -m bench`: run every benchmark, print the table, write var/bench/results.json.

`python -m bench --only cameras` runs one of them (live, snapshot, reports, cameras, triage);
By default it measures what `make run` serves (uvicorn with IOC_WEB_WORKERS processes);
`--server daphne` or `--workers 1` measure another set-up.
"""

import argparse
import os
import platform
import signal
import sys
import time
from datetime import UTC, datetime

from bench import servers

# Seconds: a bound on the whole run, not a goal. A full run takes about seven minutes on an idle
# 2-core machine (the project's size) and nine to ten when other work shares it; the bound only
# stops a run that hangs.
TIME_LIMIT = 720
BENCHMARKS = ("live", "snapshot", "reports", "cameras", "triage")


def _timeout(signum, frame):
    raise TimeoutError(f"benchmark run exceeded {TIME_LIMIT} s")


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="Run only this benchmark (repeatable).")
    kind, workers, ws = servers.choice()
    parser.add_argument(
        "--server", choices=servers.SERVERS, default=kind, help="ASGI server (IOC_BENCH_SERVER; uvicorn, as make run)."
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="uvicorn worker processes (IOC_BENCH_WORKERS; as make run)."
    )
    parser.add_argument(
        "--ws",
        choices=("websockets", "websockets-sansio", "wsproto"),
        default=ws,
        help="uvicorn's websocket implementation (IOC_BENCH_WS; websockets).",
    )
    options = parser.parse_args(argv)
    if options.workers is None:
        options.workers = 1 if options.server == "daphne" else workers
    return options


def main(argv=None) -> int:
    options = arguments(argv)
    selected = set(options.only or BENCHMARKS)
    if options.workers < 1 or (options.server == "daphne" and options.workers != 1):
        raise SystemExit("--workers must be at least 1, and 1 with daphne")
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(TIME_LIMIT)
    running = servers.Servers(
        embedded_postgres=not os.environ.get("DATABASE_URL"), embedded_redis=not os.environ.get("REDIS_URL")
    )
    try:
        servers.prepare()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ioc.settings")
        import django

        django.setup()
        from bench import cameras, fixtures, live, snapshot, stats, submit

        print("bench: migrating the bench database and loading the demo city", flush=True)
        fixtures.migrate()
        fixtures.demo_city()
        cookies = fixtures.people()
        units = fixtures.wards()
        rows: list[dict] = []
        details: dict = {}
        checks: list[dict] = []
        if selected & {"live", "snapshot", "reports"}:
            # The submission throttle is lifted on this server only: it must not shape the report figures.
            with servers.asgi(options.server, options.workers, env=submit.THROTTLE_ENV, ws=options.ws) as server:
                print(f"bench: {server.label} at {server.url}", flush=True)
                if "live" in selected:
                    paces = ", ".join(live.pace_label(rate) for rate, _ in live.PACES)
                    print(f"bench: live path ({live.SOCKETS} sockets at {paces})", flush=True)
                    live_rows, details["live"] = live.run(server, cookies["leader"], units)
                    rows += live_rows
                if "snapshot" in selected:
                    print(f"bench: snapshot API ({snapshot.ALERTS} alerts)", flush=True)
                    http_rows, details["snapshot"] = snapshot.run(server.url, cookies, units)
                    rows += http_rows
                if "reports" in selected:
                    print(
                        f"bench: report submission ({submit.REPORTS} POSTs, framework floor, raw INSERT and COPY, "
                        f"single POSTs at {submit.PACE_SHARE:.0%} of the floor's rate)",
                        flush=True,
                    )
                    report_rows, details["reports"] = submit.run(server)
                    rows += report_rows
        if "cameras" in selected:
            # A server of its own, with the production settings: the camera figures start from a fresh process.
            with servers.asgi(options.server, options.workers, ws=options.ws) as server:
                print(
                    f"bench: {server.label} at {server.url}; camera events "
                    f"({cameras.BATCHES} x {cameras.BATCH_SIZE:,}, raw INSERT, single at {cameras.PACE:g}/s, "
                    f"storm {cameras.STORM_RATE:,}/s for {cameras.STORM_SECONDS} s with a wall socket)",
                    flush=True,
                )
                camera_rows, details["cameras"], checks = cameras.run(server, cookies["leader"])
                rows += camera_rows
        if "triage" in selected:
            from bench import triage

            print(f"bench: triage suggestions (training on {triage.REPORTS:,} reports, serving, accuracy)", flush=True)
            triage_rows, details["triage"] = triage.run()
            rows += triage_rows
        elapsed = round(time.monotonic() - started, 1)
        print()
        print(stats.table(rows))
        for row in rows:
            if row["note"]:
                print(f"  {row['name']}: {row['note']}")
        missed = [row["name"] for row in rows if row.get("met") is False]
        met = sum(1 for row in rows if row.get("met"))
        print(f"\nGoals: {met} met, {len(missed)} missed" + (": " + "; ".join(missed) if missed else ""))
        if checks:
            print()
            for check in checks:
                verdict = "ok" if check["ok"] else ("FAILED" if check["must"] else "goal missed")
                print(f"  [{verdict}] {check['name']}")
        print(f"\nServer: {servers.describe(options.server, options.workers, options.ws)}. Total run time {elapsed} s")
        path = servers.BENCH_VAR / "results.json"
        stats.write_json(
            path,
            {
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
                "servers": {
                    "asgi": options.server,
                    "workers": options.workers,
                    "uvicorn_ws": options.ws if options.server == "uvicorn" else None,
                    "embedded_postgres": running.embedded_postgres,
                    "embedded_redis": running.embedded_redis,
                },
                "benchmarks": sorted(selected),
                "results": rows,
                **details,
                "checks": checks,
                "run_seconds": elapsed,
            },
        )
        print(f"Results written to {path}")
        return 1 if any(c["must"] and not c["ok"] for c in checks) else 0
    finally:
        signal.alarm(0)
        if "django" in sys.modules and "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        running.stop()


if __name__ == "__main__":
    sys.exit(main())
