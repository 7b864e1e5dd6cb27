"""What every data-at-scale generator shares (`manage.py bench_data`, docs/scale.md): a run's context,
COPY from streamed CSV chunks, id ranges and sequences, timestamps as text, and a working-time
calendar fast enough for a million deadlines.

An app's generator (its `scale.py`) is registered in its `AppConfig.ready()` with
`registry.register_scale_generator(...)`; the command iterates the registry, so the core names no app.
"""

import bisect
import io
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection, models

from ioc.worktime import LOCAL_TZ, MAX_DAYS_AHEAD, WorkCalendar

CHUNK_ROWS = 50_000  # rows per COPY buffer: a few MB of text, a few seconds of progress


@dataclass
class TableResult:
    table: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Run:
    """One generator's run: how many rows it was asked for, the seed, the moment the data ends at,
    where progress goes, and what it wrote (table, rows, seconds)."""

    count: int
    seed: int
    now: datetime
    say: Callable[[str], None] = print
    days: int = 365
    results: list[TableResult] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        """A random stream of its own per purpose: the same seed gives the same rows whatever else changed."""
        return random.Random(f"{self.seed}:{name}")

    @property
    def start(self) -> datetime:
        return self.now - timedelta(days=self.days)

    def copy(self, model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
        """COPY `rows` (tuples of already formatted CSV fields, in the order of `columns`) into the
        model's table, in chunks; every other concrete column gets its default (auto_now ones: now).
        Prints progress and the rate; returns the number of rows."""
        return self.copy_many([(model, columns)], ((0, row) for row in rows))[0]

    def copy_many(self, tables: list[tuple[type[models.Model], list[str]]], rows: Iterable[tuple[int, tuple]]) -> list:
        """COPY into several tables at once: `rows` yields (index into `tables`, fields). Every chunk is
        flushed parents first (the order of `tables`), so a child row always follows its parent."""
        targets = []
        for model, columns in tables:
            names, constants = table_columns(model, columns, self.now)
            quoted = ", ".join(f'"{n}"' for n in names)
            sql = f'COPY "{model._meta.db_table}" ({quoted}) FROM STDIN WITH (FORMAT csv)'
            tail = ("," + ",".join(constants)) if constants else ""
            targets.append({"table": model._meta.db_table, "sql": sql, "tail": tail, "rows": 0, "copy": 0.0})
        buffers = [[] for _ in targets]
        started = time.monotonic()
        pending = 0
        reported = 0
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2's own cursor, for copy_expert
            for index, row in rows:
                buffers[index].append(",".join(row))
                if index == 0:
                    pending += 1
                    if pending >= CHUNK_ROWS:
                        self._flush(raw, targets, buffers)
                        pending = 0
                        if targets[0]["rows"] - reported >= CHUNK_ROWS * 4:
                            reported = targets[0]["rows"]
                            elapsed = time.monotonic() - started
                            self.say(
                                "  "
                                + ", ".join(f"{t['table']} {t['rows']:,}" for t in targets)
                                + f" ({targets[0]['rows'] / elapsed:,.0f} {targets[0]['table']} rows/s)"
                            )
            self._flush(raw, targets, buffers)
        seconds = time.monotonic() - started
        copying = sum(t["copy"] for t in targets)
        counts = []
        for target in targets:
            # The generating time is shared by the tables in proportion to their rows.
            share = target["rows"] / max(1, sum(t["rows"] for t in targets))
            result = TableResult(target["table"], target["rows"], target["copy"] + (seconds - copying) * share)
            self.results.append(result)
            counts.append(target["rows"])
            self.say(
                f"  {result.table}: {result.rows:,} rows in {result.seconds:.1f} s ({result.rate:,.0f} rows/s; "
                f"COPY itself {target['copy']:.1f} s)"
            )
        return counts

    @staticmethod
    def _flush(raw, targets: list[dict], buffers: list[list[str]]) -> None:
        for target, lines in zip(targets, buffers, strict=True):
            if not lines:
                continue
            tail = target["tail"]
            text = (tail + "\n").join(lines) + tail + "\n"
            began = time.monotonic()
            raw.copy_expert(target["sql"], io.StringIO(text))
            target["copy"] += time.monotonic() - began
            target["rows"] += len(lines)
            lines.clear()


def table_columns(model: type[models.Model], columns: list[str], now: datetime) -> tuple[list[str], list[str]]:
    """The column names to COPY: `columns` (attnames the generator fills), then every other concrete
    column of the model, read at run time, with its default as a constant CSV field. A column added
    later with a default keeps the generator working."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = set(columns) - set(fields)
    if unknown:
        raise ValueError(f"{model._meta.label} has no column {', '.join(sorted(unknown))}")
    names = [fields[name].column for name in columns]
    constants = []
    for attname, f in fields.items():
        if attname in columns or (f.primary_key and isinstance(f, models.AutoField)):
            continue
        names.append(f.column)
        constants.append(_default_text(f, now))
    return names, constants


def _default_text(f: models.Field, now: datetime) -> str:
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return iso_datetime(now)
    if f.has_default():
        value = f.get_default()
    elif f.null:
        return ""
    elif isinstance(f, models.CharField | models.TextField | models.FileField):
        value = ""
    else:
        raise ValueError(f"{f.model._meta.label}.{f.name} has no default: the generator must fill it")
    if isinstance(f, models.JSONField):
        return csv_text(json.dumps(value))
    if isinstance(value, bool):
        return "t" if value else "f"
    return csv_text("" if value is None else str(value)) if value != "" else '""'


def csv_text(value: str) -> str:
    """A text field for CSV: quoted (an empty string stays an empty string, not NULL)."""
    return '"' + value.replace('"', '""') + '"'


def iso_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")


_DAYS: dict[int, str] = {}


def ts(seconds: float | None) -> str:
    """A UTC epoch second as a timestamptz CSV field; None as NULL. Days are formatted once."""
    if seconds is None:
        return ""
    whole = int(seconds)
    day, rest = divmod(whole, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{prefix} {hours:02d}:{minutes:02d}:{secs:02d}+00"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of `count` ids after the table's highest; the sequence is set past them after COPY."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0] + 1


def finish_tables(*tables: type[models.Model]) -> None:
    """After COPY: the sequences past the highest id, fresh planner statistics and, outside a
    transaction, a VACUUM: it marks the new pages all-visible, so that the covering indexes are read
    without visiting the table, as they are once autovacuum has passed on a live database."""
    analyse = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in tables:
            table = model._meta.db_table
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(COALESCE(MAX(id), 0), 1), "
                f'MAX(id) IS NOT NULL) FROM "{table}"',
                [table],
            )
            cursor.execute(f'{analyse} "{table}"')


def truncate(*tables: type[models.Model]) -> None:
    names = ", ".join(f'"{m._meta.db_table}"' for m in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


# --- working time, fast --------------------------------------------------------------------------


class FastCalendar:
    """`WorkCalendar.add_working_time` and `working_time_between` over a fixed range, by bisection on
    the working sessions laid out once (epoch seconds): the same answers, a hundred times faster."""

    def __init__(self, calendar: WorkCalendar, first: datetime, last: datetime):
        self.calendar = calendar
        begins, ends, before = [], [], []
        worked = 0.0
        day = first.astimezone(LOCAL_TZ).date() - timedelta(days=1)
        stop = last.astimezone(LOCAL_TZ).date() + timedelta(days=MAX_DAYS_AHEAD // 3)
        while day <= stop:
            if calendar.is_working_day(day):
                for start, end in calendar.sessions:
                    b = datetime.combine(day, start, LOCAL_TZ).timestamp()
                    e = datetime.combine(day, end, LOCAL_TZ).timestamp()
                    begins.append(b)
                    ends.append(e)
                    before.append(worked)
                    worked += e - b
            day += timedelta(days=1)
        self.begins, self.ends, self.before = begins, ends, before
        self.after = [w + (e - b) for w, b, e in zip(before, begins, ends, strict=True)]
        self.day_seconds = float(calendar.hours_per_day) * 3600

    def position(self, moment: float) -> float:
        """Working seconds from the range's start up to `moment`."""
        i = bisect.bisect_right(self.ends, moment)
        if i >= len(self.ends):
            raise ValueError("moment beyond the calendar's range")
        return self.before[i] + max(0.0, moment - self.begins[i])

    def add(self, moment: float, seconds: float) -> float:
        """The epoch second when `seconds` of working time have passed after `moment`."""
        i = bisect.bisect_right(self.ends, moment)
        target = self.before[i] + max(0.0, moment - self.begins[i]) + seconds
        j = bisect.bisect_left(self.after, target, lo=i)
        return self.begins[j] + (target - self.before[j])

    def between(self, start: float, end: float) -> float:
        return max(0.0, self.position(end) - self.position(start)) if end > start else 0.0

    def due(self, moment: float, amount: float, unit: str) -> float:
        """`ioc.worktime.due_at` for an epoch second."""
        if unit == "clock_hours":
            return moment + amount * 3600
        if unit == "working_hours":
            return self.add(moment, amount * 3600)
        if unit == "working_days":
            return self.add(moment, amount * self.day_seconds)
        raise ValueError(f"unknown duration unit {unit!r}")


# --- when things happen -------------------------------------------------------------------------

# Share of a day's activity in each local hour: quiet nights, a morning and an afternoon peak.
DAILY_RHYTHM = (1, 0.6, 0.4, 0.4, 0.6, 1.5, 3.5, 6, 7.5, 7, 6.5, 6, 4.5, 5, 6, 6.5, 7, 7.5, 6, 4.5, 3.5, 2.8, 2, 1.4)
WEEKDAY_RHYTHM = (1.0, 1.0, 1.0, 1.0, 0.95, 0.7, 0.55)  # Monday first


class Moments:
    """Random moments over [start, end) with the daily and weekly rhythm, as epoch seconds."""

    def __init__(self, start: datetime, end: datetime, hourly=DAILY_RHYTHM, weekly=WEEKDAY_RHYTHM):
        first = start.astimezone(LOCAL_TZ).replace(minute=0, second=0, microsecond=0)
        hours, weights = [], []
        moment = first
        while moment < end:
            hours.append(moment.timestamp())
            weights.append(hourly[moment.hour] * weekly[moment.weekday()])
            moment += timedelta(hours=1)
        self.hours = hours
        self.cumulative = list(_accumulate(weights))
        self.low, self.high = start.timestamp(), end.timestamp() - 1

    def sorted(self, rng: random.Random, count: int) -> list[float]:
        """`count` moments in time order: rows arrive as they would have, so the time indexes grow at
        their ends instead of everywhere at once (several times faster on a large table)."""
        return sorted(self.draw(rng) for _ in range(count))

    def draw(self, rng: random.Random) -> float:
        hour = self.hours[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]
        return min(self.high, max(self.low, hour + rng.random() * 3600))


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def weighted(rng: random.Random, choices: list, weights: list[float]):
    """A chooser: `pick()` returns one of `choices` by weight (cumulative weights computed once)."""
    cumulative = list(_accumulate(weights))
    top = cumulative[-1]

    def pick():
        return choices[bisect.bisect_right(cumulative, rng.random() * top)]

    return pick
