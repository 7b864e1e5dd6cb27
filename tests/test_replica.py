"""Screen reads from a real PostgreSQL streaming replica; writes, and reads after them, on the primary.

The replica is made here as in production: `pg_basebackup -R` of the primary the tests use (the
embedded PostgreSQL, or DATABASE_URL), started as a hot standby on a socket of its own. A streaming
replica copies the whole cluster, so the test database is on it too. Pausing its replay makes it
visibly behind: what a screen then shows tells which server answered.
"""

import copy
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connections, transaction
from django.http import JsonResponse
from django.test import AsyncClient, RequestFactory
from django.test.utils import CaptureQueriesContext

from ioc import services
from ioc.dbrouters import REPLICA, reads_from_replica
from ioc.models import Alert
from tests.conftest import PASSWORD
from tests.live import close_worker_thread_connections
from tests.test_channel_shards import settings_with

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

CONFIGURED = bool(os.environ.get("DATABASE_URL"))  # else the embedded PostgreSQL


def _cannot(reason: str):
    """Without replication rights on a configured server the test cannot run; on the embedded one it must."""
    if CONFIGURED:
        pytest.skip(f"no streaming replica of DATABASE_URL's server: {reason}")
    pytest.fail(reason)


def _major(postgres: Path) -> int | None:
    try:
        out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)\.\d+", out)
    return int(found.group(1)) if found else None


def _binaries(major: int) -> Path | None:
    """PostgreSQL programs of the primary's major version (a data directory runs on its own version only)."""
    import pgserver

    candidates = [Path(pgserver.__file__).parent / "pginstall" / "bin", Path(f"/usr/lib/postgresql/{major}/bin")]
    if shutil.which("postgres"):
        candidates.append(Path(shutil.which("postgres")).resolve().parent)
    for directory in candidates:
        if (directory / "pg_basebackup").exists() and _major(directory / "postgres") == major:
            return directory
    return None


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: the user the embedded server runs as, else postgres."""
    if os.geteuid() != 0:
        return None
    for name in ("pgserver", "postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return _cannot("running as root and no pgserver or postgres user to run a second PostgreSQL")


@pytest.fixture(scope="module")
def replica_server(django_db_setup, django_db_blocker):
    """A hot standby streaming from the primary, for this module; stopped and removed afterwards."""
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        major = cursor.fetchone()[0]
        # Where the primary really is (a socket directory may come in OPTIONS rather than HOST).
        primary = connections["default"].connection.get_dsn_parameters()
        primary["PASSWORD"] = connections["default"].settings_dict.get("PASSWORD")
        primary["NAME"] = connections["default"].settings_dict["NAME"]
    connections["default"].close()
    binaries = _binaries(major)
    if binaries is None:
        _cannot(f"no PostgreSQL {major} programs (pg_basebackup, postgres) on this machine")
    user = _system_user()
    # A short path: a unix socket's path is limited to about a hundred characters.
    base = Path(tempfile.mkdtemp(prefix="ioc-replica-"))
    data, log = base / "data", base / "replica.log"
    if user:
        shutil.chown(base, user)
    run = {"user": user, "cwd": base, "timeout": 60, "capture_output": True, "text": True}
    env = dict(os.environ, PGPASSWORD=primary.get("PASSWORD") or "", PGCONNECT_TIMEOUT="10")
    started = time.monotonic()
    try:
        backup = [str(binaries / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream", "-c", "fast", "--no-sync"]
        backup += ["-h", primary["host"], "-p", primary["port"], "-U", primary["user"], "-w"]
        made = subprocess.run(backup, env=env, **run)
        if made.returncode != 0:
            _cannot(f"pg_basebackup failed: {made.stderr.strip()}")
        # A server whose configuration lives outside its data directory (Debian's) sends none.
        for name, text in (("postgresql.conf", ""), ("pg_hba.conf", "local all all trust\n"), ("pg_ident.conf", "")):
            if not (data / name).exists():
                (data / name).write_text(text)
                if user:
                    shutil.chown(data / name, user)
        options = f"-k {base} -h '' -p 5432 -c hot_standby=on -c max_connections=200"
        start = [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-l", str(log), "-o", options, "start"]
        begun = subprocess.run(start, **run)
        if begun.returncode != 0:
            pytest.fail(f"the replica did not start: {begun.stderr}\n{log.read_text() if log.exists() else ''}")
        yield {"HOST": str(base), "PORT": "5432", "USER": primary["user"], "NAME": primary["NAME"]}
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], **run)
        shutil.rmtree(base, ignore_errors=True)
        print(f"replica made, used and removed in {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
def replica_alias(replica_server):
    """The `replica` database alias pointing at the standby, for this module's tests only.

    Added before any test of the module sets its database up, so that a test may use it; marked as a
    mirror of the default database, so that no test database is made or flushed for it.
    """
    before = connections.settings.get(REPLICA)
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update(HOST=replica_server["HOST"], PORT=replica_server["PORT"])
    settings_dict["OPTIONS"].pop("host", None)
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = settings_dict
    try:
        yield settings_dict
    finally:
        connections.close_all()
        del connections[REPLICA]
        if before is None:
            del connections.settings[REPLICA]
        else:
            connections.settings[REPLICA] = before


@pytest.fixture
def replica(replica_server, replica_alias):
    """A control connection to the standby (pause and resume its replay, wait for it)."""
    control = psycopg2.connect(
        host=replica_server["HOST"],
        port=replica_server["PORT"],
        user=replica_server["USER"],
        dbname=replica_server["NAME"],
    )
    control.autocommit = True
    standby = Standby(control)
    try:
        yield standby
    finally:
        standby.resume()
        control.close()


class Standby:
    def __init__(self, control):
        self.control = control

    def query(self, sql, *params):
        with self.control.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def pause(self):
        self.query("SELECT pg_wal_replay_pause()::text")

    def resume(self):
        self.query("SELECT pg_wal_replay_resume()::text")

    def catch_up(self, timeout=10.0):
        """Wait until the standby has replayed everything the primary has written so far."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            target = cursor.fetchone()[0]
        deadline = time.monotonic() + timeout
        while not self.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target):
            assert time.monotonic() < deadline, f"the replica did not reach {target} within {timeout} s"
            time.sleep(0.02)


def raise_alert(unit, title):
    services.alert_raise(subsystem="reports", severity="critical", title=title, unit=unit, dedup_key=title)


def snapshot_titles(client) -> set[str]:
    response = client.get("/api/v1/dashboard/snapshot/")
    assert response.status_code == 200
    return {alert["title"] for alert in response.json()["alerts"]}


def test_the_wall_snapshot_is_read_from_the_replica_and_catches_up(city, people, replica, client):
    raise_alert(city["long_khanh"], "Ngập đường Hùng Vương")
    replica.catch_up()
    assert replica.query("SELECT pg_is_in_recovery()")

    # Signing in writes the session on the primary; the next request finds it although the replica lags.
    replica.pause()
    assert client.post("/login/", {"username": "leader", "password": PASSWORD}).status_code == 302
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        assert snapshot_titles(client) == {"Ngập đường Hùng Vương"}
    assert any("ioc_alert" in q["sql"] for q in on_replica.captured_queries)
    assert not any("ioc_alert" in q["sql"] for q in on_primary.captured_queries)
    assert all("django_session" in q["sql"] or "ioc_user" in q["sql"] for q in on_primary.captured_queries)

    # Written on the primary while the replica stands still: the snapshot (replica) does not show it
    # yet, the alert list (primary) does.
    raise_alert(city["long_khanh"], "Cây đổ đường Trần Phú")
    assert snapshot_titles(client) == {"Ngập đường Hùng Vương"}
    listed = {a["title"] for a in client.get("/api/v1/alerts/").json()["results"]}
    assert "Cây đổ đường Trần Phú" in listed

    # The replica replays again: the row appears on it within moments.
    replica.resume()
    started = time.monotonic()
    while "Cây đổ đường Trần Phú" not in snapshot_titles(client):
        assert time.monotonic() - started < 10, "the replica did not catch up within 10 s"
        time.sleep(0.05)
    print(f"a row written on the primary appeared on the replica's snapshot in {time.monotonic() - started:.3f} s")


def test_the_walls_map_and_the_public_portal_read_from_the_replica(city, people, replica, client):
    replica.catch_up()
    client.force_login(people["leader"])
    anonymous = type(client)()
    reads = [
        (client, "/wall/"),
        (client, "/api/v1/map/units/"),
        (client, "/api/v1/reports/map/"),
        (anonymous, "/public/"),
        (anonymous, "/public/reports.json"),
        (anonymous, "/public/units/"),
        (anonymous, "/open311/v2/services.json"),
        (anonymous, "/open311/v2/requests.json"),
    ]
    for reader, path in reads:
        with (
            CaptureQueriesContext(connections[REPLICA]) as on_replica,
            CaptureQueriesContext(connections["default"]) as on_primary,
        ):
            assert reader.get(path).status_code == 200, path
        assert on_replica.captured_queries, f"{path}: nothing read from the replica"
        assert all("django_session" in q["sql"] or "ioc_user" in q["sql"] for q in on_primary.captured_queries), path

    # What is not a screen read stays on the primary: the console's queue, the portal's tracking page,
    # and an Open311 client following its own request by id.
    for reader, path in [(client, "/api/v1/alerts/"), (anonymous, "/open311/v2/requests.json?service_request_id=X")]:
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert reader.get(path).status_code == 200, path
        assert not on_replica.captured_queries, path


@reads_from_replica
def raise_then_read(request):
    before = Alert.objects.filter(title="Sạt lở bờ sông").count()
    raise_alert(request.user.home_unit, "Sạt lở bờ sông")
    after = Alert.objects.filter(title="Sạt lở bờ sông").count()
    return JsonResponse({"before": before, "after": after})


@reads_from_replica
def count_alerts(request):
    return JsonResponse({"alerts": Alert.objects.count()})


def test_a_write_and_the_reads_after_it_in_the_same_request_go_to_the_primary(city, people, replica):
    replica.catch_up()
    replica.pause()
    request = RequestFactory().get("/anything/")
    request.user = people["staff_lk"]
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        answer = raise_then_read(request)
    # Read first from the replica; after the write the request reads its own row from the primary,
    # which the paused replica does not have.
    assert answer.status_code == 200
    assert answer.content == b'{"before": 0, "after": 1}'
    assert [q["sql"] for q in on_replica.captured_queries if "ioc_alert" in q["sql"]] != []
    assert all("COUNT" in q["sql"].upper() for q in on_replica.captured_queries if "ioc_alert" in q["sql"])
    assert len([q for q in on_replica.captured_queries if "ioc_alert" in q["sql"]]) == 1
    assert Alert.objects.using(REPLICA).filter(title="Sạt lở bờ sông").count() == 0  # still behind

    # Inside a transaction every read is the primary's, and a POST never reads from the replica.
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        with transaction.atomic():
            inside = count_alerts(request)
        posted = RequestFactory().post("/anything/")
        posted.user = request.user
        by_post = count_alerts(posted)
    assert not on_replica.captured_queries
    assert inside.content == by_post.content == b'{"alerts": 1}'


async def test_under_asgi_the_snapshot_is_read_from_the_replica(city, people, replica):
    from asgiref.sync import sync_to_async

    await sync_to_async(raise_alert)(city["long_khanh"], "Ùn tắc cầu Ghềnh")
    await sync_to_async(replica.catch_up)()
    await sync_to_async(replica.pause)()
    await sync_to_async(raise_alert)(city["long_khanh"], "Tai nạn Quốc lộ 1")
    client = AsyncClient()
    await client.aforce_login(people["leader"])
    try:
        # The view runs in asgiref's worker thread; the replica (paused) answered, so the second is missing.
        response = await client.get("/api/v1/dashboard/snapshot/")
        assert response.status_code == 200
        assert {a["title"] for a in response.json()["alerts"]} == {"Ùn tắc cầu Ghềnh"}
    finally:
        await close_worker_thread_connections()


def test_with_the_replica_away_the_screens_read_from_the_primary(city, people, replica, client, monkeypatch):
    from ioc import dbrouters

    monkeypatch.setattr(dbrouters, "_replica_away_until", 0.0)  # and back to "answers" afterwards
    client.force_login(people["leader"])
    raise_alert(city["long_khanh"], "Mất điện khu phố 3")
    connections[REPLICA].close()
    monkeypatch.setitem(connections[REPLICA].settings_dict, "HOST", "/nonexistent-replica")
    started = time.monotonic()
    assert snapshot_titles(client) == {"Mất điện khu phố 3"}  # from the primary, not a 503
    assert snapshot_titles(client) == {"Mất điện khu phố 3"}  # and no second attempt meanwhile
    assert time.monotonic() - started < 2
    assert dbrouters._replica_away_until > time.monotonic()


@pytest.mark.django_db(transaction=False, databases=["default"])  # reads no database itself
def test_the_replica_database_exists_only_when_configured():
    assert set(settings_with()["databases"]) == {"default"}
    databases = settings_with(DATABASE_REPLICA_URL="postgres://ioc:pw@db-replica:5433/ioc")["databases"]
    replica = databases["replica"]
    assert (replica["HOST"], replica["PORT"], replica["NAME"], replica["USER"]) == ("db-replica", 5433, "ioc", "ioc")
    # The same options as the primary's (connect timeout, health checks, connection age).
    assert replica["OPTIONS"]["connect_timeout"] == 5
    assert replica["CONN_HEALTH_CHECKS"] is True
    assert replica["CONN_MAX_AGE"] == databases["default"]["CONN_MAX_AGE"]
    assert replica["TEST"]["MIRROR"] == "default"  # no test database of its own
