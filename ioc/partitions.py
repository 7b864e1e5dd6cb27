"""Monthly partitions of the big time-series tables (PostgreSQL declarative partitioning).

An app that keeps a table partitioned by month registers it in its AppConfig.ready():

    partitions.register(partitions.PartitionedTable(
        table="traffic_cameraevent", column="occurred_at", app="traffic",
        retention_setting="IOC_CAMERA_EVENT_RETENTION_MONTHS", archive=archive_event_days))

Months follow the deployment's time zone (settings.TIME_ZONE, Asia/Ho_Chi_Minh): a partition holds
one local calendar month, so a local day (what the daily roll-ups and a leader's charts count) never
straddles two partitions and a month dropped by retention is archived whole. Vietnam keeps no summer
time, so every bound is local midnight of the 1st.

Every table also has a DEFAULT partition, so an insert for an odd date (a camera whose clock says 1970)
never fails; when the month of such rows is created they are moved out of DEFAULT into it.

`maintain()` (the daily beat task `ioc.partitions.maintain`) creates IOC_PARTITION_MONTHS_AHEAD months
ahead of the current one, then applies each table's retention: the months older than the setting
are handed to the table's `archive(start, end)` (daily roll-ups, idempotent) and then DETACHed and
DROPped. docs/partitions.md says more.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

Archive = Callable[[datetime, datetime], object]  # (start, end) of the rows about to go


@dataclass(frozen=True)
class PartitionedTable:
    table: str
    column: str  # the partition key, a timestamptz column
    app: str
    retention_setting: str = ""  # the setting holding the months kept; 0 keeps everything
    archive: Archive | None = None  # called inside the transaction that drops the rows

    @property
    def retention_months(self) -> int:
        return int(getattr(settings, self.retention_setting, 0) or 0) if self.retention_setting else 0


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None for the DEFAULT partition
    end: datetime | None
    rows: int | None = None

    @property
    def is_default(self) -> bool:
        return self.start is None


_tables: dict[str, PartitionedTable] = {}


def register(table: PartitionedTable) -> None:
    existing = _tables.get(table.table)
    if existing is not None and existing.app != table.app:
        raise ValueError(f"table {table.table!r} is already registered by {existing.app}")
    _tables[table.table] = table


def registered() -> list[PartitionedTable]:
    return sorted(_tables.values(), key=lambda t: t.table)


def get(table: str) -> PartitionedTable:
    return _tables[table]


# --- months ------------------------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(moment: datetime) -> datetime:
    """Local midnight of the 1st of `moment`'s local month (an aware datetime)."""
    local = moment.astimezone(zone()) if timezone.is_aware(moment) else moment.replace(tzinfo=zone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return month.replace(year=index // 12, month=index % 12 + 1)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def _moment(text: str) -> datetime:
    if re.search(r"[+-]\d\d$", text):
        text += ":00"
    return datetime.fromisoformat(text)


def partitions(table: str, count_rows: bool = False) -> list[Partition]:
    """The table's partitions, by start (DEFAULT last); with their row counts when asked."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname, pg_get_expr(child.relpartbound, child.oid)
            FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname = %s AND parent.relnamespace = to_regnamespace(current_schema())::oid
            """,
            [table],
        )
        rows = cursor.fetchall()
        found = []
        for name, bound in rows:
            match = _BOUND.search(bound or "")
            start, end = (_moment(match[1]), _moment(match[2])) if match else (None, None)
            count = None
            if count_rows:
                cursor.execute(f"SELECT count(*) FROM {_q(name)}")
                count = cursor.fetchone()[0]
            found.append(Partition(name, start, end, count))
    return sorted(found, key=lambda p: (p.start is None, p.start or datetime.min.replace(tzinfo=zone())))


def is_partitioned(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def ensure_default(table: str) -> bool:
    """The DEFAULT partition, created if missing; True when it was created."""
    if any(p.is_default for p in partitions(table)):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT")
    return True


def create_month(table: str, month: datetime) -> str | None:
    """The partition of `month` (any moment in it), created if missing; rows of that month waiting in
    DEFAULT move into it. Returns its name when created, None when the month was already covered."""
    start = month_start(month)
    end = add_months(start, 1)
    existing = partitions(table)
    if any(p.start is not None and p.start < end and start < p.end for p in existing):
        return None
    name, key = partition_name(table, start), get(table).column if table in _tables else None
    default = next((p for p in existing if p.is_default), None)
    with transaction.atomic(), connection.cursor() as cursor:
        if default is not None and key is None:
            raise ValueError(f"table {table!r} is not registered: its partition key is unknown")
        waiting = False
        if default is not None:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {_q(default.name)} WHERE {_q(key)} >= %s AND {_q(key)} < %s)",
                [start, end],
            )
            waiting = cursor.fetchone()[0]
        if not waiting:
            cursor.execute(
                f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} FOR VALUES FROM (%s) TO (%s)", [start, end]
            )
            return name
        # PostgreSQL refuses a new partition while DEFAULT holds rows of its range: build the month
        # apart, move the rows into it, then attach it (which builds its indexes and checks it).
        columns = ", ".join(_q(c) for c in _columns(table))
        cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {_q(default.name)} WHERE {_q(key)} >= %s AND {_q(key)} < %s "
            f"RETURNING {columns}) INSERT INTO {_q(name)} ({columns}) SELECT {columns} FROM moved",
            [start, end],
        )
        cursor.execute(
            f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM (%s) TO (%s)", [start, end]
        )
    return name


def ensure_months(table: str, first: datetime, last: datetime) -> list[str]:
    """Partitions for every month from `first` to `last` (inclusive); the names created."""
    created, month, last = [], month_start(first), month_start(last)
    while month <= last:
        name = create_month(table, month)
        if name:
            created.append(name)
        month = add_months(month, 1)
    return created


def ensure_ahead(table: str, now: datetime | None = None, months: int | None = None) -> list[str]:
    """The current month and `months` (IOC_PARTITION_MONTHS_AHEAD) after it."""
    now = now or timezone.now()
    months = settings.IOC_PARTITION_MONTHS_AHEAD if months is None else months
    return ensure_months(table, now, add_months(month_start(now), months))


def drop(table: str, name: str) -> None:
    """DETACH then DROP one partition (its rows are gone: archive them first)."""
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit; rows written earlier in this transaction would keep
        # the partition busy ("pending trigger events"), so check them now, then defer again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
        cursor.execute(f"DROP TABLE {_q(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def apply_retention(table: PartitionedTable, now: datetime | None = None) -> list[str]:
    """Archive, detach and drop the months older than the table's retention; the names dropped.

    The current month and the `retention_months - 1` before it are kept. Rows older than that which
    wait in DEFAULT are archived and deleted the same way."""
    months = table.retention_months
    if months <= 0:
        return []
    cutoff = add_months(month_start(now or timezone.now()), -(months - 1))
    dropped = []
    for partition in partitions(table.table):
        if partition.is_default:
            with transaction.atomic(), connection.cursor() as cursor:
                key = _q(table.column)
                cursor.execute(f"SELECT min({key}) FROM {_q(partition.name)} WHERE {key} < %s", [cutoff])
                oldest = cursor.fetchone()[0]
                if oldest is not None:
                    if table.archive is not None:
                        table.archive(oldest, cutoff)
                    cursor.execute(f"DELETE FROM {_q(partition.name)} WHERE {key} < %s", [cutoff])
            continue
        if partition.end > cutoff:
            continue
        with transaction.atomic():
            if table.archive is not None:
                table.archive(partition.start, partition.end)
            drop(table.table, partition.name)
        dropped.append(partition.name)
    return dropped


def maintain(now: datetime | None = None) -> dict:
    """Months ahead and retention for every registered table (the daily beat task). Safe to run twice."""
    now = now or timezone.now()
    done = {}
    for table in registered():
        if not is_partitioned(table.table):
            continue
        ensure_default(table.table)
        done[table.table] = {"created": ensure_ahead(table.table, now), "dropped": apply_retention(table, now)}
    return done


@shared_task(name="ioc.partitions.maintain")
def maintain_task() -> dict:
    return maintain()


# --- converting a table ------------------------------------------------------------------------


def convert(schema_editor, table: str, column: str, months_back: int = 24, months_ahead: int = 3) -> None:
    """Turn a plain table with an `id` primary key into one partitioned by month on `column`,
    keeping its rows, ids, sequence, indexes and foreign keys (a migration's RunPython step).

    Partitions cover the months of the existing rows, the last `months_back` and `months_ahead`
    ahead, plus DEFAULT. The primary key becomes (id, column): PostgreSQL wants the partition key in
    every unique key. A unique index without the key must be dropped (or widened) before. Foreign
    keys pointing at the table must be dropped before (a partitioned table can only be referenced
    through a key holding its partition key)."""
    if is_partitioned(table):
        return
    old = f"{table}_unpartitioned"
    run = schema_editor.execute
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) "
            "AND (i.indisprimary OR NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid))",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND contype IN ('f', 'c', 'u')",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT min({_q(column)}), max({_q(column)}) FROM {_q(table)}")
        oldest, newest = cursor.fetchone()
    uniques = [(n, d) for n, d, unique, primary in indexes if unique and not primary]
    uniques += [(n, d) for n, d in constraints if d.startswith("UNIQUE")]
    for name, definition in uniques:
        if not re.search(r"\b" + re.escape(column) + r"\b", definition):
            raise ValueError(f"{table}: the unique key {name} must hold {column} before partitioning")

    run(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    # The id sequence outlives the old table: the new table's id takes its next values.
    seq = f"{table}_id_seq"
    run(f"CREATE SEQUENCE {_q(seq + '_p')} AS bigint")
    if sequence:
        run(f"SELECT setval('{seq}_p', (SELECT last_value FROM {sequence}), (SELECT is_called FROM {sequence}))")
    run(
        f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING STORAGE) "
        f"PARTITION BY RANGE ({_q(column)})"
    )
    run(f"ALTER TABLE {_q(table)} ALTER COLUMN id SET DEFAULT nextval('{seq}_p')")
    run(f"ALTER SEQUENCE {_q(seq + '_p')} OWNED BY {_q(table)}.id")

    now = timezone.now()
    first = min(x for x in (oldest, add_months(month_start(now), -months_back)) if x is not None)
    last = max(x for x in (newest, add_months(month_start(now), months_ahead)) if x is not None)
    registered_before = table in _tables
    if not registered_before:
        _tables[table] = PartitionedTable(table=table, column=column, app="")
    try:
        ensure_months(table, first, last)
        ensure_default(table)
    finally:
        if not registered_before:
            del _tables[table]
    columns = ", ".join(_q(c) for c in _columns(table))
    run(f"INSERT INTO {_q(table)} ({columns}) SELECT {columns} FROM {_q(old)}")
    run(f"DROP TABLE {_q(old)}")  # with its indexes, so their names are free again
    run(f"ALTER SEQUENCE {_q(seq + '_p')} RENAME TO {_q(seq)}")
    run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id, {_q(column)})")
    for _name, definition, _unique, primary in indexes:
        if not primary:
            run(definition)  # read before the rename: it names the table as it is called again now
    for name, definition in constraints:
        run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
