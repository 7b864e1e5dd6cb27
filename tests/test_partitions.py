"""Monthly partitions of camera events and observations: months ahead, DEFAULT for odd dates,
retention with daily roll-ups, idempotent ingest across months, and reads that touch only the
recent partitions (EXPLAIN)."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from indicators import selectors as indicator_selectors
from indicators.models import Indicator, Observation, ObservationDaily, ObservationRevision, Station
from indicators.services import archive_observation_days, observation_upsert
from ioc import partitions
from ioc.scope import Scope
from tests.test_cameras import vendor  # noqa: F401  (fixture)
from traffic import selectors
from traffic.models import Camera, CameraEvent, CameraEventDaily, EventKind
from traffic.services import archive_event_days

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
EVENTS, OBSERVATIONS = "traffic_cameraevent", "indicators_observation"
# A date no partition made at migration time reaches: every month these tests use is made here.
MARCH_2031 = datetime(2031, 3, 15, 10, 0, tzinfo=LOCAL)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


@pytest.fixture
def camera(city):
    return Camera.objects.create(code="LK-QL1A-01", name="QL1A", purpose="traffic", unit=city["long_khanh"])


def post(client, events):
    response = client.post("/api/v1/traffic/events/", {"events": events}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def event(n, moment, kind="red_light", **extra):
    return {
        "camera": "LK-QL1A-01",
        "kind": kind,
        "external_id": f"evt-{n}",
        "occurred_at": moment.isoformat(),
        **extra,
    }


def partition_of(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def names(table: str) -> set[str]:
    return {p.name for p in partitions.partitions(table)}


def scanned(sql: str, table: str) -> set[str]:
    """The partitions of `table` PostgreSQL's plan for `sql` reads."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return set(re.findall(rf"\b({table}_(?:p\d{{6}}|default))\b", plan))


def reads_of(table: str, run) -> list[set[str]]:
    """For each query `run()` sends that reads `table`: the partitions its plan scans."""
    with CaptureQueriesContext(connection) as queries:
        run()
    found = [scanned(q["sql"], table) for q in queries.captured_queries if f'"{table}"' in q["sql"]]
    assert found, f"no query read {table}"
    return found


# --- the tables and their months -----------------------------------------------------------------


def test_both_tables_are_partitioned_by_month_with_a_default():
    for table in (EVENTS, OBSERVATIONS):
        assert partitions.is_partitioned(table)
        found = partitions.partitions(table)
        assert found[-1].is_default
        months = [p for p in found if not p.is_default]
        # one partition per local month, back to back
        assert all(a.end == b.start for a, b in zip(months, months[1:], strict=False))
        assert all(p.start == partitions.month_start(p.start) for p in months)
        assert all(p.start.astimezone(LOCAL).day == 1 and p.start.astimezone(LOCAL).hour == 0 for p in months)


def test_the_primary_key_holds_the_month_and_ids_keep_coming_from_the_sequence(camera, vendor):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
            [EVENTS],
        )
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, occurred_at)"
    now = timezone.now()
    first = post(vendor, [event(1, now - timedelta(minutes=1))])["results"][0]["id"]
    second = CameraEvent.objects.create(
        camera=camera,
        kind=EventKind.objects.get(code="red_light"),
        unit=camera.unit,
        source="admin",
        occurred_at=now,
        received_at=now,
    )
    assert second.pk > first
    assert CameraEvent.objects.get(pk=first).external_id == "evt-1"


@time_machine.travel(MARCH_2031, tick=False)
def test_the_beat_task_creates_the_months_ahead_once(settings):
    settings.IOC_PARTITION_MONTHS_AHEAD = 3
    settings.IOC_CAMERA_EVENT_RETENTION_MONTHS = settings.IOC_OBSERVATION_RETENTION_MONTHS = 0
    done = partitions.maintain()
    for table in (EVENTS, OBSERVATIONS):
        assert done[table]["created"] == [f"{table}_p2031{m:02d}" for m in (3, 4, 5, 6)]
        assert done[table]["dropped"] == []
        march = next(p for p in partitions.partitions(table) if p.name.endswith("p203103"))
        assert (march.start, march.end) == (at(2031, 3, 1), at(2031, 4, 1))
    assert partitions.maintain() == {
        EVENTS: {"created": [], "dropped": []},
        OBSERVATIONS: {"created": [], "dropped": []},
    }


def test_the_beat_runs_the_partition_task_and_the_apps_registered_their_tables():
    from ioc.celery import app

    assert any(e["task"] == "ioc.partitions.maintain" for e in app.conf.beat_schedule.values())
    assert "ioc.partitions.maintain" in app.tasks
    tables = {t.table: t for t in partitions.registered()}
    assert (tables[EVENTS].column, tables[EVENTS].app) == ("occurred_at", "traffic")
    assert (tables[OBSERVATIONS].column, tables[OBSERVATIONS].app) == ("period_start", "indicators")


# --- DEFAULT ---------------------------------------------------------------------------------------


@time_machine.travel(MARCH_2031, tick=False)
def test_an_event_of_a_month_not_made_yet_waits_in_default_and_moves_into_its_month(camera, vendor, settings):
    settings.IOC_CAMERA_EVENT_RETENTION_MONTHS = 0
    stored = post(vendor, [event(1, at(2031, 3, 15, 9, 0), plate="60A-123.45")])
    pk = stored["results"][0]["id"]
    assert partition_of(EVENTS, pk) == f"{EVENTS}_default"

    assert f"{EVENTS}_p203103" in partitions.maintain()[EVENTS]["created"]
    assert partition_of(EVENTS, pk) == f"{EVENTS}_p203103"
    moved = CameraEvent.objects.get(pk=pk)
    assert (moved.plate, moved.occurred_at) == ("60A-123.45", at(2031, 3, 15, 9, 0))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {EVENTS}_default")
        assert cursor.fetchone()[0] == 0
    # The vendor's retry of the moved event is still a duplicate.
    again = post(vendor, [event(1, at(2031, 3, 15, 9, 0), plate="60A-123.45")])
    assert again["results"][0]["status"] == "duplicate"
    assert CameraEvent.objects.count() == 1


def test_an_event_from_a_camera_with_a_broken_clock_is_stored_not_refused(camera):
    from traffic.services import ingest_events

    results = ingest_events(
        source="vendor",
        items=[{"camera": camera.code, "kind": "red_light", "occurred_at": "1901-01-01T00:00:00+07:00"}],
        scope=Scope(unit=None, everything=True),
    )
    assert results[0]["status"] == "created"
    assert partition_of(EVENTS, results[0]["id"]) == f"{EVENTS}_default"


# --- idempotent ingest across months --------------------------------------------------------------


@time_machine.travel(at(2031, 3, 1, 8, 0), tick=False)
def test_a_retried_batch_over_two_months_creates_nothing_twice(camera, vendor):
    partitions.ensure_months(EVENTS, at(2031, 2, 1), at(2031, 3, 1))
    batch = [
        event(1, at(2031, 2, 28, 23, 59), plate="60A-1"),
        event(2, at(2031, 3, 1, 0, 1), plate="60A-2"),
        event(3, at(2031, 3, 1, 7, 0), kind="vehicle_count", vehicle_count=40),
        event(1, at(2031, 2, 28, 23, 59), plate="60A-1"),  # repeated within the batch
    ]
    first = post(vendor, batch)
    assert [r["status"] for r in first["results"]] == ["created", "created", "created", "duplicate"]
    assert partition_of(EVENTS, first["results"][0]["id"]) == f"{EVENTS}_p203102"
    assert partition_of(EVENTS, first["results"][1]["id"]) == f"{EVENTS}_p203103"
    again = post(vendor, batch)
    assert (again["created"], again["duplicate"]) == (0, 4)
    assert CameraEvent.objects.count() == 3


# --- retention --------------------------------------------------------------------------------------


def _january_events(vendor):
    batch = []
    for day in (3, 17, 31):
        for hour in (0, 12, 23):  # local midnight and late evening: the local day, not the UTC one
            moment = at(2031, 1, day, hour, 30)
            batch.append(event(len(batch), moment, plate=f"60A-{len(batch)}", speed_kmh=40.0 + hour))
            batch.append(event(len(batch), moment, kind="vehicle_count", vehicle_count=10 + day))
    return post(vendor, batch)


@time_machine.travel(at(2031, 1, 31, 23, 50), tick=False)
def _store_january(vendor):
    partitions.ensure_months(EVENTS, at(2031, 1, 1), at(2031, 3, 1))
    partitions.ensure_months(OBSERVATIONS, at(2031, 1, 1), at(2031, 3, 1))
    assert _january_events(vendor)["created"] == 18


def test_retention_rolls_a_month_up_by_day_then_drops_it_and_the_figures_agree(camera, vendor, city, settings):
    settings.IOC_CAMERA_EVENT_RETENTION_MONTHS = 2
    settings.IOC_OBSERVATION_RETENTION_MONTHS = 0
    _store_january(vendor)
    scope = Scope(unit=city["province"])
    before = selectors.events_by_day(scope, date(2031, 1, 1), date(2031, 1, 31))
    assert before[(date(2031, 1, 17), "red_light")] == {"count": 3, "vehicles": 0}
    assert before[(date(2031, 1, 31), "vehicle_count")] == {"count": 3, "vehicles": 3 * 41}

    with time_machine.travel(at(2031, 2, 20, 10, 0), tick=False):
        # January is one of the two months kept (older, empty months made at migration time go)
        assert f"{EVENTS}_p203101" not in partitions.maintain()[EVENTS]["dropped"]
    with time_machine.travel(at(2031, 3, 2, 10, 0), tick=False):
        dropped = partitions.maintain()[EVENTS]["dropped"]
    assert f"{EVENTS}_p203101" in dropped and f"{EVENTS}_p203101" not in names(EVENTS)
    assert f"{EVENTS}_p203102" in names(EVENTS)
    assert not CameraEvent.objects.filter(occurred_at__lt=at(2031, 2, 1)).exists()

    after = selectors.events_by_day(scope, date(2031, 1, 1), date(2031, 1, 31))
    assert after == before
    day = CameraEventDaily.objects.get(day=date(2031, 1, 3), kind__code="red_light")
    assert (day.count, day.plates, day.speed_max) == (3, 3, 63.0)
    assert day.avg_speed_kmh == pytest.approx((40 + 52 + 63) / 3)
    assert (day.first_at, day.last_at) == (at(2031, 1, 3, 0, 30), at(2031, 1, 3, 23, 30))

    # Run again, and archive again what is archived: nothing counts twice.
    with time_machine.travel(at(2031, 3, 2, 10, 0), tick=False):
        assert partitions.maintain()[EVENTS]["dropped"] == []
    archive_event_days(at(2031, 1, 1), at(2031, 2, 1))
    assert selectors.events_by_day(scope, date(2031, 1, 1), date(2031, 1, 31)) == before


def test_rolling_up_twice_counts_nothing_twice(camera, vendor, city):
    _store_january(vendor)
    for _ in range(2):
        archive_event_days(at(2031, 1, 1), at(2031, 2, 1))
    assert CameraEventDaily.objects.filter(kind__code="red_light").count() == 3
    assert sum(CameraEventDaily.objects.values_list("count", flat=True)) == 18


@pytest.fixture
def aqi(city):
    indicator = Indicator.objects.create(
        code="aqi", subsystem="environment", name="VN_AQI", period="hourly", direction="lower", scale="vn_aqi"
    )
    station = Station.objects.create(
        code="BH-01", name="Biên Hòa", unit=city["bien_hoa"], latitude=10.95, longitude=106.82
    )
    return indicator, station


def test_observation_retention_keeps_daily_min_max_average_and_last(aqi, city, settings):
    indicator, station = aqi
    settings.IOC_CAMERA_EVENT_RETENTION_MONTHS = 0
    settings.IOC_OBSERVATION_RETENTION_MONTHS = 1
    with time_machine.travel(at(2031, 1, 10, 23, 30), tick=False):
        partitions.ensure_months(OBSERVATIONS, at(2031, 1, 1), at(2031, 2, 1))
        for hour, value in ((0, 40), (12, 90), (23, 65)):
            observation_upsert(
                indicator=indicator,
                unit=city["bien_hoa"],
                station=station,
                period=at(2031, 1, 10, hour),
                value=Decimal(value),
                source="test",
            )
        replaced, status = observation_upsert(
            indicator=indicator,
            unit=city["bien_hoa"],
            station=station,
            period=at(2031, 1, 10, 23),
            value=Decimal(70),
            source="test",
        )
        assert status == "replaced" and ObservationRevision.objects.filter(observation_id=replaced.pk).exists()
    with time_machine.travel(at(2031, 2, 3, 10, 0), tick=False):
        assert f"{OBSERVATIONS}_p203101" in partitions.maintain()[OBSERVATIONS]["dropped"]
    assert not Observation.objects.filter(indicator=indicator).exists()
    assert not ObservationRevision.objects.exists()
    day = ObservationDaily.objects.get(indicator=indicator, station=station, day=date(2031, 1, 10))
    assert (day.count, day.minimum, day.maximum, day.last) == (3, 40, 90, 70)
    assert day.average == pytest.approx(Decimal(200) / 3)
    archive_observation_days(at(2031, 1, 1), at(2031, 2, 1))  # nothing left there: the roll-up stays
    assert ObservationDaily.objects.get(pk=day.pk).count == 3


# --- partition pruning --------------------------------------------------------------------------------


@time_machine.travel(MARCH_2031, tick=False)
def test_the_walls_camera_figures_and_the_recent_events_read_only_the_current_months(camera, city, people):
    partitions.ensure_months(EVENTS, at(2030, 10, 1), at(2031, 6, 1))
    scope = Scope(unit=city["province"])
    for plan in reads_of(EVENTS, lambda: selectors.traffic_figures(scope)):
        assert plan == {f"{EVENTS}_p203103"}, plan
    client = APIClient()
    client.force_login(people["operator"])
    for plan in reads_of(EVENTS, lambda: client.get("/api/v1/traffic/events/list/")):
        assert plan <= {f"{EVENTS}_p203102", f"{EVENTS}_p203103"} and plan, plan


@time_machine.travel(MARCH_2031, tick=False)
def test_the_observations_of_the_last_days_read_only_the_current_months(aqi, city):
    partitions.ensure_months(OBSERVATIONS, at(2030, 10, 1), at(2031, 6, 1))
    indicator, _station = aqi
    scope = Scope(unit=city["province"])
    for plan in reads_of(OBSERVATIONS, lambda: indicator_selectors.series_map([indicator], scope)):
        assert plan and plan <= {f"{OBSERVATIONS}_p203102", f"{OBSERVATIONS}_p203103"}, plan
    for plan in reads_of(OBSERVATIONS, lambda: indicator_selectors.station_map(scope)):
        assert plan <= {f"{OBSERVATIONS}_p203102", f"{OBSERVATIONS}_p203103"} and plan, plan


# --- the COPY path ------------------------------------------------------------------------------------


def test_a_large_batch_keeps_every_character_and_number_it_was_sent(camera, vendor):
    now = timezone.now()
    odd = 'tab\there, line\nbreak, back\\slash, quote " and ü'
    batch = [
        event(n, now - timedelta(seconds=n), zone=f"{odd} {n}", speed_kmh=12.5, score=0.9, data={"note": odd, "n": n})
        for n in range(30)
    ]
    results = post(vendor, batch)["results"]
    assert [r["status"] for r in results] == ["created"] * 30
    stored = CameraEvent.objects.get(pk=results[7]["id"])
    assert (stored.zone, stored.data, stored.speed_kmh, stored.score) == (f"{odd} 7", {"note": odd, "n": 7}, 12.5, 0.9)
    assert stored.external_id == "evt-7" and stored.incident_id is None


def test_rows_another_batch_stored_meanwhile_are_duplicates_not_errors(camera, vendor, monkeypatch):
    """Two batches carrying the same events at once both pass the look-up; the unique key then
    refuses the second one's COPY, and its rows go again as INSERT ... ON CONFLICT DO NOTHING."""
    from traffic import services

    now = timezone.now()
    batch = [event(n, now - timedelta(seconds=n)) for n in range(25)]
    first = post(vendor, batch[:10])
    assert first["created"] == 10
    monkeypatch.setattr(services, "_drop_duplicates", lambda source, parsed, results: parsed)
    second = post(vendor, batch)
    assert [r["status"] for r in second["results"]] == ["duplicate"] * 10 + ["created"] * 15
    assert CameraEvent.objects.count() == 25
    ids = [r["id"] for r in second["results"][10:]]
    assert sorted(CameraEvent.objects.filter(pk__in=ids).values_list("external_id", flat=True)) == sorted(
        f"evt-{n}" for n in range(10, 25)
    )
    small = post(vendor, batch[:3] + [event(99, now)])  # the few-rows INSERT skips them too
    assert [r["status"] for r in small["results"]] == ["duplicate"] * 3 + ["created"]


def test_events_folded_into_an_incident_point_at_it(camera, vendor):
    now = timezone.now()
    batch = [
        event(n, now - timedelta(seconds=60 - n), kind="congestion", avg_speed_kmh=5, free_flow_kmh=60)
        for n in range(25)
    ]
    results = post(vendor, batch)["results"]
    incidents = set(CameraEvent.objects.filter(pk__in=[r["id"] for r in results]).values_list("incident", flat=True))
    assert len(incidents) == 1 and None not in incidents
    incident = camera.incidents.get()
    assert incident.event_count == 25
    detail = selectors.incident_detail(incident)
    assert len(detail["events"]) == 20 and detail["folded"][0]["count"] == 25


def test_the_quick_reading_of_an_event_agrees_with_the_careful_one(camera, city):
    from traffic.services import ItemError, parse_item, parse_plain

    cameras, kinds = {camera.code: camera}, {k.code: k for k in EventKind.objects.all()}
    now = timezone.now()
    base = {"camera": camera.code, "kind": "red_light", "occurred_at": (now - timedelta(seconds=5)).isoformat()}
    variants = [
        {},
        {"external_id": "e-1", "plate": "60a-123.45", "speed_kmh": 42, "score": 1, "zone": "Làn 1", "data": {"v": 1}},
        {"kind": "congestion", "avg_speed_kmh": 9, "free_flow_kmh": 60},
        {"kind": "congestion", "congestion_level": "slow", "avg_speed_kmh": 30.5, "free_flow_kmh": 60},
        {"kind": "vehicle_count", "vehicle_count": 40},
        {"kind": "vehicle_count", "vehicle_count": 40.0},
        {"kind": "vehicle_count", "vehicle_count": 4.5},
        {"speed_kmh": True},
        {"speed_kmh": float("nan")},
        {"speed_kmh": 401},
        {"speed_kmh": ""},
        {"score": -0.1},
        {"plate": " 60A "},
        {"plate": "x" * 21},
        {"external_id": 123},
        {"external_id": "a\x00b"},
        {"zone": ["a"]},
        {"camera": ["LK"]},
        {"camera": "nope"},
        {"kind": "teleport"},
        {"occurred_at": "2026-02-30T10:00:00+07:00"},
        {"occurred_at": "2026-11-26T08:15:00"},
        {"occurred_at": " " + base["occurred_at"]},
        {"occurred_at": "1800-01-01T00:00:00+07:00"},
        {"occurred_at": (now + timedelta(minutes=10)).isoformat()},
        {"occurred_at": "2026-11-26T08:15:00-19:58"},
        {"congestion_level": "gridlock"},
        {"congestion_level": 3},
        {"snapshot_url": "https://vendor.example/s.jpg"},
        {"clip_url": "javascript:alert(1)"},
        {"data": [1]},
        {"data": None},
        {"surprise": 1},
    ]
    quick = 0
    for variant in variants:
        item = {**base, **variant}
        try:
            careful = parse_item(item, cameras=cameras, kinds=kinds, now=now)
        except ItemError:
            careful = "error"
        plain = parse_plain(item, cameras=cameras, kinds=kinds, now=now)
        if plain is not None:
            quick += 1
            assert plain == careful, variant
    assert quick >= 6  # the common events take the quick way


def test_the_events_keep_their_foreign_keys_and_only_the_indexes_they_need():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [EVENTS],
        )
        keys = sorted(row[0].split(" REFERENCES ")[0] for row in cursor.fetchall())
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [EVENTS])
        indexes = [row[0].split(" USING btree ")[1] for row in cursor.fetchall()]
    assert keys == [
        "FOREIGN KEY (camera_id)",
        "FOREIGN KEY (incident_id)",
        "FOREIGN KEY (kind_id)",
        "FOREIGN KEY (unit_id)",
    ]
    assert sorted(indexes) == [
        "(camera_id, occurred_at)",
        "(id, occurred_at)",
        "(incident_id) WHERE (incident_id IS NOT NULL)",
        "(kind_id, occurred_at)",
        "(source, external_id, occurred_at) WHERE (NOT ((external_id)::text = ''::text))",
        "(unit_id)",
    ]
