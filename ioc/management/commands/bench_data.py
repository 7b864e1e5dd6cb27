"""`manage.py bench_data --reports 1000000 --events 5000000 --dossiers 1000000`: a year of a province's
data, by COPY, for measuring the screens at scale (docs/scale.md).

Each app's generator is registered with the core (`ioc.registry.register_scale_generator`); this command
adds one option per generator, runs them in order on the demo city, then analyses the tables, sets
their sequences and lets each app rebuild its roll-ups. `--seed` makes the rows repeat; `--reset`
empties the generators' tables first. The database's comment records what was loaded, so a benchmark
can tell that the same data is already there (`loaded()`).
"""

import json
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from ioc import registry, scale
from ioc.demo import load_demo_city

MARKER = "ioc-bench-data"


def loaded() -> dict | None:
    """What the last complete bench_data run loaded into this database ({"counts", "seed"}), or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    try:
        found = json.loads(row[0]) if row and row[0] else None
    except ValueError:
        return None
    return found if isinstance(found, dict) and found.get("marker") == MARKER else None


def _mark(value: dict | None) -> None:
    text = json.dumps({"marker": MARKER, **value}) if value is not None else None
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{connection.settings_dict["NAME"]}" IS %s', [text])


class Command(BaseCommand):
    help = "Fill the database with a year of generated data by COPY (reports, camera events, dossiers...)."

    def add_arguments(self, parser):
        for generator in registry.scale_generators():
            parser.add_argument(
                f"--{generator.option}",
                type=int,
                default=generator.default,
                help=f"{generator.help} (default {generator.default:,}; 0: none).",
            )
        parser.add_argument("--seed", type=int, default=1, help="Seed: the same seed and sizes give the same rows.")
        parser.add_argument("--days", type=int, default=365, help="How far back the data goes (days).")
        parser.add_argument("--reset", action="store_true", help="Empty the generators' tables first.")

    def handle(self, *args, seed, days, reset, **options):
        generators = registry.scale_generators()
        counts = {g.option: options[g.option.replace("-", "_")] for g in generators}
        if any(n < 0 for n in counts.values()) or days < 1:
            raise CommandError("Sizes must not be negative and --days must be at least 1.")
        started = time.monotonic()
        load_demo_city()
        for config in apps.get_app_configs():
            if hasattr(config, "load_demo"):
                config.load_demo()
        _mark(None)  # an interrupted run is not taken for a complete one
        if reset:
            models = [model for g in generators for model in g.tables()]
            self.say(f"emptying {len(models)} tables")
            scale.truncate(*models)
        now = timezone.now().replace(microsecond=0)
        results = []
        for generator in generators:
            count = counts[generator.option]
            if not count:
                continue
            self.say(f"{generator.code}: {count:,} rows")
            run = scale.Run(count=count, seed=seed, now=now, say=self.say, days=days)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Checked row by row as they arrive, not queued for the commit: a million queued checks
                    # would hold the server's memory.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                generator.generate(run)
            results += run.results
        self.say("analysing tables and setting sequences")
        scale.finish_tables(*[model for g in generators for model in g.tables()])
        for generator in generators:
            if generator.refresh is not None:
                refreshed = time.monotonic()
                generator.refresh()
                self.say(f"{generator.code}: roll-ups rebuilt in {time.monotonic() - refreshed:.1f} s")
        _mark({"counts": counts, "seed": seed, "days": days, "at": now.isoformat()})
        total = time.monotonic() - started
        self.say(f"done in {total:.0f} s")
        for result in results:
            self.say(
                f"  {result.table:<36} {result.rows:>12,} rows {result.seconds:>8.1f} s {result.rate:>12,.0f} rows/s"
            )
        self.results = results

    def say(self, text: str) -> None:
        self.stdout.write(f"{timezone.localtime():%H:%M:%S} {text}")
        self.stdout.flush()
