"""`python -m bench`: run every benchmark, print the table, write var/bench/results.json."""

import os
import platform
import signal
import sys
import time
from datetime import UTC, datetime

from bench import servers

TIME_LIMIT = 285  # seconds: the whole run stays under five minutes


def _timeout(signum, frame):
    raise TimeoutError(f"benchmark run exceeded {TIME_LIMIT} s")


def main() -> int:
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
        from bench import fixtures, live, snapshot, stats, submit

        print("bench: migrating the bench database and loading the demo city", flush=True)
        fixtures.migrate()
        fixtures.demo_city()
        cookies = fixtures.people()
        units = fixtures.wards()
        # The submission throttle is lifted on this server only: it must not shape the report figures.
        with servers.daphne(env=submit.THROTTLE_ENV) as server:
            paces = ", ".join(live.pace_label(rate) for rate, _ in live.PACES)
            print(f"bench: daphne at {server.url}; live path ({live.SOCKETS} sockets at {paces})", flush=True)
            live_rows, live_details = live.run(server, cookies["leader"], units)
            print(f"bench: snapshot API ({snapshot.ALERTS} alerts)", flush=True)
            http_rows, http_details = snapshot.run(server.url, cookies, units)
            print(f"bench: report submission ({submit.REPORTS} POSTs, raw INSERT, {submit.PACE:g}/s)", flush=True)
            report_rows, report_details = submit.run(server)
        rows = live_rows + http_rows + report_rows
        elapsed = round(time.monotonic() - started, 1)
        print()
        print(stats.table(rows))
        for row in rows:
            if row["note"]:
                print(f"  {row['name']}: {row['note']}")
        print(f"\nTotal run time {elapsed} s")
        path = servers.BENCH_VAR / "results.json"
        stats.write_json(
            path,
            {
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
                "servers": {"embedded_postgres": running.embedded_postgres, "embedded_redis": running.embedded_redis},
                "results": rows,
                "live": live_details,
                "snapshot": http_details,
                "reports": report_details,
                "run_seconds": elapsed,
            },
        )
        print(f"Results written to {path}")
        return 0
    finally:
        signal.alarm(0)
        if "django" in sys.modules and "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        running.stop()


if __name__ == "__main__":
    sys.exit(main())
