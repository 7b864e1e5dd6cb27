"""The camera demo feed: plausible events on the demo cameras, through the camera services, clean stop."""

import io
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count

from ioc.demo import load_demo_city
from tests import browser
from traffic import demo as demo_feed
from traffic.demo import CAMERAS
from traffic.models import Camera, CameraEvent, Incident

pytestmark = pytest.mark.django_db

PLATE = re.compile(r"^\d{2}[A-Z]{1,2}\d?-(\d{3}\.\d{2}|\d{4})$")
DEMO_CODES = {c[0] for c in CAMERAS}


def feed(*args) -> str:
    out = io.StringIO()
    call_command("traffic_demo_feed", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_city():
    load_demo_city()


def test_a_short_fast_run_reports_on_the_demo_cameras(demo_city):
    output = feed("--speed", "2000", "--duration", "2.5", "--seed", "1")

    events = CameraEvent.objects.filter(source=demo_feed.SOURCE)
    assert set(events.values_list("camera__code", flat=True)) <= DEMO_CODES
    kinds = set(events.values_list("kind__code", flat=True))
    assert {"vehicle_count", "congestion"} <= kinds
    assert kinds & {"red_light", "no_helmet", "wrong_lane", "illegal_parking"}

    violations = events.filter(kind__is_violation=True)
    assert violations.count() >= 10
    assert set(violations.values_list("camera__purpose", flat=True)) == {"traffic"}
    plates = [p for p in violations.values_list("plate", flat=True) if p]
    assert plates and all(PLATE.match(p) for p in plates), plates[:5]
    moving = violations.exclude(kind__code="illegal_parking").exclude(speed_kmh=None)
    assert moving.exists() and all(0 < s < 120 for s in moving.values_list("speed_kmh", flat=True))

    counts = events.filter(kind__code="vehicle_count")
    assert all(n is not None and n >= 0 for n in counts.values_list("vehicle_count", flat=True))
    # Heartbeats are not stored, but they bring every active demo camera online.
    assert not Camera.objects.filter(code__in=DEMO_CODES, active=True).exclude(health="online").exists()
    assert "last minute:" in output
    assert re.search(r"done: \d+ events, \d+ heartbeats, [1-9]\d* storms", output)


def test_a_storm_folds_into_one_incident(demo_city):
    output = feed("--speed", "2000", "--duration", "3", "--seed", "4")

    assert re.search(r"storm 1 over: 300 events in [\d.]+ s, incident #\d+$", output, re.MULTILINE), output
    storm = CameraEvent.objects.filter(source=demo_feed.SOURCE, external_id__contains="-storm1-")
    assert storm.count() == demo_feed.BURST_SIZE
    assert len(set(storm.values_list("camera", flat=True))) == 1
    (incident,) = set(storm.values_list("incident", flat=True))
    assert incident is not None
    assert Incident.objects.get(pk=incident).event_count >= demo_feed.BURST_SIZE


def test_every_incident_is_one_per_camera_and_kind(demo_city):
    feed("--speed", "5000", "--duration", "2", "--seed", "9")
    open_ones = Incident.objects.filter(status__in=Incident.OPEN).values("camera", "kind").annotate(n=Count("id"))
    assert open_ones and all(row["n"] == 1 for row in open_ones)


def test_a_silent_camera_sends_nothing_until_its_spell_ends(demo_city):
    said = []
    feed_ = demo_feed.TrafficFeed(say=said.append, seed=2)
    feed_.load_cameras()
    feed_.task_silence()
    (code,) = feed_.silent
    camera = next(c for c in feed_.cameras if c.code == code)
    # The spell outlasts the offline limit on the clock, whatever the speed.
    assert feed_.silent[code] - time.monotonic() > camera.offline_minutes * 60
    assert code not in {c.code for c in feed_.speaking()}
    feed_.task_heartbeats()
    assert Camera.objects.get(code=code).health == "offline"
    assert Camera.objects.exclude(code=code).filter(code__in=DEMO_CODES, health="online").count() == len(DEMO_CODES) - 1
    feed_.silent[code] = time.monotonic() - 1
    feed_.task_heartbeats()
    assert Camera.objects.get(code=code).health == "online"
    assert f"{code} speaks again" in said


def test_rush_hours_are_busier_and_nights_quieter():
    def at(hour, minute=0):
        return datetime(2026, 11, 26, hour, minute)  # naive: local time

    assert demo_feed.is_rush_hour(at(7, 15)) and demo_feed.is_rush_hour(at(17, 45))
    assert not demo_feed.is_rush_hour(at(8, 30)) and not demo_feed.is_rush_hour(at(16, 29))
    assert demo_feed.traffic_level(at(7, 30)) > demo_feed.traffic_level(at(10)) > demo_feed.traffic_level(at(23))


def test_plates_look_vietnamese():
    rng = random.Random(5)
    plates = [demo_feed.plate(rng, vehicle, road) for vehicle in ("motorbike", "car", "truck") for road in ("QL1A", "")]
    plates += [demo_feed.plate(rng, "motorbike") for _ in range(200)]
    assert all(PLATE.match(p) for p in plates), [p for p in plates if not PLATE.match(p)]
    assert any(p.startswith("60") for p in plates)
    assert any(re.match(r"^\d{2}[A-Z]\d-\d{3}\.\d{2}$", p) for p in plates)  # e.g. 60B2-456.78
    assert re.match(r"^\d{2}(A|D|LD)-", demo_feed.plate(random.Random(1), "car"))


def test_without_demo_data_it_says_what_to_run():
    with pytest.raises(CommandError, match="load_demo"):
        feed("--duration", "1")


def test_bad_options_are_refused(demo_city):
    with pytest.raises(CommandError):
        feed("--speed", "0")


class SignalOnFirstLine(io.StringIO):
    """Output that sends this process a signal when the feed announces itself."""

    def __init__(self, signum):
        super().__init__()
        self.signum, self.sent = signum, False

    def write(self, text):
        if " feeding " in text and not self.sent:
            self.sent = True
            os.kill(os.getpid(), self.signum)
        return super().write(text)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_feed_stops_on_a_signal(demo_city, signum):
    before = signal.getsignal(signum)
    out = SignalOnFirstLine(signum)
    started = time.monotonic()
    call_command("traffic_demo_feed", stdout=out)  # endless until the signal
    assert time.monotonic() - started < 5
    assert out.sent
    assert out.getvalue().rstrip().endswith("stopped")
    assert signal.getsignal(signum) == before


def _read_until(process, needle: str, timeout: float) -> str:
    """The child's output until a line containing `needle` (or the timeout, or its end)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _w, _x = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
    return seen


@pytest.mark.django_db(transaction=True)
def test_the_feed_process_exits_cleanly_on_sigterm():
    load_demo_city()
    env = dict(
        os.environ,
        DATABASE_URL=browser.test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DB_CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "traffic_demo_feed", "--speed", "20"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _read_until(process, " feeding ", 30)
        assert " feeding 13 demo cameras" in output, output
        deadline = time.monotonic() + 15
        while not Camera.objects.filter(code__in=DEMO_CODES, health="online").exists():
            assert time.monotonic() < deadline, "no heartbeat reached the database"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output + rest
    assert rest.rstrip().endswith("stopped")
