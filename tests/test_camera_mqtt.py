"""The camera MQTT bridge against a real Mosquitto broker: Frigate and generic topics, bad payloads,
idempotency, broker restarts, and the management command's start and clean stop."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from paho.mqtt import publish

from tests.browser import test_database_url as database_url
from traffic import services
from traffic.catalogue import EVENT_KINDS
from traffic.models import Camera, CameraEvent, EventKind
from traffic.mqtt import Bridge, Counters, frigate_item, frigate_kind, generic_items, parse_camera_map, parse_url

BROKER_HOST, BROKER_PORT = "127.0.0.1", 1883
MOSQUITTO = "/usr/sbin/mosquitto"
CAMERA = "LK-QL1A-01"
ROOT = Path(__file__).resolve().parent.parent


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout=5.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def broker():
    """The machine's Mosquitto on 127.0.0.1:1883."""
    if not reachable(BROKER_HOST, BROKER_PORT):
        unavailable(f"No MQTT broker on {BROKER_HOST}:{BROKER_PORT} (apt-get install mosquitto); MQTT tests skipped.")
    return f"mqtt://{BROKER_HOST}:{BROKER_PORT}"


@pytest.fixture
def prefix():
    """Topics of this test only, so that runs and tests sharing the broker do not see each other."""
    return f"ioc-test/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def camera(city):
    # Tests with real transactions empty the tables after each test, the migrated catalogue too.
    for code, purpose, name, name_en, severity, violation in EVENT_KINDS:
        EventKind.objects.get_or_create(
            code=code,
            defaults={
                "purpose": purpose,
                "name": name,
                "name_en": name_en,
                "severity": severity,
                "is_violation": violation,
            },
        )
    return Camera.objects.create(
        code=CAMERA,
        name="QL1A - Ngã tư Long Khánh",
        purpose="traffic",
        unit=city["long_khanh"],
        latitude=10.9412,
        longitude=107.2389,
        road="QL1A",
    )


@contextmanager
def running_bridge(url, prefix, **options):
    """The bridge's main loop in a thread, stopped through its stop event at the end."""
    bridge = Bridge(url, topic_prefix=prefix, counters=Counters(), reconnect_max_delay=2, **options)
    stop = threading.Event()
    thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield bridge
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the bridge did not stop"


def send(topic, payload, port=BROKER_PORT):
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    publish.single(topic, body, qos=1, hostname=BROKER_HOST, port=port)


def frigate(event_id, kind="new", **after):
    side = {
        "id": event_id,
        "camera": CAMERA,
        "label": "car",
        "sub_label": None,
        "score": 0.8,
        "top_score": 0.91,
        "start_time": time.time() - 3,
        "end_time": None,
        "current_zones": ["red_light_north"],
        "entered_zones": ["red_light_north"],
        "has_snapshot": True,
        "has_clip": False,
        "false_positive": False,
        "recognized_license_plate": "60a-123.45",
        "current_estimated_speed": 48.5,
    }
    return {"type": kind, "before": side, "after": {**side, **after}}


def generic(external_id, kind="intrusion", **extra):
    at = timezone.now() - timedelta(seconds=5)
    return {"camera": CAMERA, "kind": kind, "external_id": external_id, "occurred_at": at.isoformat(), **extra}


def processed(bridge, n):
    """True once n messages were received and each ended stored, duplicate or skipped."""
    c = bridge.counters.snapshot()
    return c["received"] >= n and c["stored"] + c["duplicate"] + c["skipped"] >= n


# --- the mapping, without a broker ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "names", "kind"),
    [
        ("car", ["red_light_north"], "red_light"),
        ("motorcycle", ["Đèn đỏ Hùng Vương"], "red_light"),
        ("truck", ["wrong_way"], "wrong_way"),
        ("bus", ["bus_lane_ql1a"], "bus_lane"),
        ("car", ["no_parking"], "illegal_parking"),
        ("car", ["illegal_parking_market"], "illegal_parking"),
        ("person", ["khu_vuc_cam"], "intrusion"),
        ("person", ["Khu vực cấm"], "intrusion"),
        ("person", ["restricted_area"], "intrusion"),
        ("person", ["square", "crowd"], "crowd"),
        ("fire", [], "fire_smoke"),
        ("smoke", ["kitchen"], "fire_smoke"),
        ("person", ["camera_gate"], None),  # "cam" matches whole words only
        ("person", ["red_light_north"], None),
        ("car", ["driveway"], None),
        ("dog", ["restricted"], None),
    ],
)
def test_frigate_labels_and_zones_map_to_event_kinds(label, names, kind):
    assert frigate_kind(label, names) == kind


def test_a_frigate_message_becomes_one_ingestion_item():
    message = frigate("1700000000.1-abc", recognized_license_plate=["51F-999.99", 0.93], current_zones=["a", "b"])
    message["after"].update(camera="ql1a_north", start_time=1_700_000_000.5, current_zones=["den_do", "b"])
    item = frigate_item(message, camera_map={"ql1a_north": CAMERA}, frigate_url="http://frigate:5000/")
    assert item["camera"] == CAMERA and item["kind"] == "red_light"
    assert item["external_id"] == "frigate:1700000000.1-abc"
    assert datetime.fromisoformat(item["occurred_at"]) == datetime.fromtimestamp(1_700_000_000.5, tz=UTC)
    assert item["plate"] == "51F-999.99" and item["speed_kmh"] == 48.5 and item["score"] == 0.91
    assert item["zone"] == "den_do,b"
    assert item["snapshot_url"] == "http://frigate:5000/api/events/1700000000.1-abc/snapshot.jpg"
    assert frigate_item(frigate("x", false_positive=True)) is None
    assert frigate_item(frigate("x", label="dog")) is None


def test_options_and_generic_shapes_are_checked():
    assert parse_camera_map("a=LK-1, b = LK-2,") == {"a": "LK-1", "b": "LK-2"}
    with pytest.raises(ValueError):
        parse_camera_map("a")
    assert parse_url("mqtts://u:p%40ss@broker").port == 8883
    assert parse_url("mqtts://u:p%40ss@broker").password == "p@ss"
    assert "p@ss" not in str(parse_url("mqtt://u:p%40ss@broker:1884"))
    with pytest.raises(ValueError):
        parse_url("http://broker")
    assert generic_items({"events": [1, 2]}) == [1, 2] and generic_items({"kind": "x"}) == [{"kind": "x"}]


def test_a_database_error_is_retried_once_then_skipped_and_the_bridge_goes_on(monkeypatch):
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return [{"index": 0, "status": "created", "id": 1}]

    monkeypatch.setattr(services, "ingest_events", flaky)
    bridge = Bridge("mqtt://127.0.0.1", counters=Counters())
    body = json.dumps(generic("db-1")).encode()
    bridge.handle(bridge.generic_topic, body)  # fails, and fails again on retry: skipped
    bridge.handle(bridge.generic_topic, body)  # the database is back
    assert len(calls) == 3 and calls[-1]["source"] == "mqtt:generic"
    assert bridge.counters.snapshot() == {"received": 2, "stored": 1, "duplicate": 0, "skipped": 1}


def test_the_command_needs_a_broker(settings):
    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="MQTT_URL"):
        call_command("camera_mqtt_bridge")


# --- through the real broker ---------------------------------------------------------------------

pytest_db = pytest.mark.django_db(transaction=True)


@pytest_db
def test_a_frigate_event_is_stored_with_plate_and_speed(broker, prefix, camera):
    with running_bridge(broker, prefix) as bridge:
        assert bridge.subscribed.wait(5), "the bridge did not subscribe"
        send(bridge.frigate_topic, frigate("1764100000.52-red1"))
        wait_for(lambda: CameraEvent.objects.exists(), what="the event")
    event = CameraEvent.objects.select_related("kind").get()
    assert event.source == "mqtt:frigate" and event.external_id == "frigate:1764100000.52-red1"
    assert event.kind.code == "red_light" and event.camera == camera
    assert event.plate == "60A-123.45" and event.speed_kmh == 48.5 and event.score == 0.91
    assert event.zone == "red_light_north" and event.data["frigate"]["label"] == "car"
    camera.refresh_from_db()
    assert camera.health == Camera.Health.ONLINE


@pytest_db
def test_bad_messages_are_skipped_and_the_next_good_one_is_stored(broker, prefix, camera):
    bad = [
        ("frigate", b"\xff not json"),
        ("frigate", {"type": "new", "after": 3}),
        ("frigate", {"type": "new", "after": {"id": "x", "camera": CAMERA}}),
        ("frigate", frigate("unknown-cam", camera="nowhere")),
        ("frigate", frigate("unknown-cam", "update", camera="nowhere")),  # refused once, then skipped
        ("generic", 42),
        ("generic", {"events": []}),
        ("generic", generic("g-0", kind="teleport")),
    ]
    with running_bridge(broker, prefix) as bridge:
        assert bridge.subscribed.wait(5), "the bridge did not subscribe"
        topics = {"frigate": bridge.frigate_topic, "generic": bridge.generic_topic}
        for topic, payload in bad:
            send(topics[topic], payload)
        send(bridge.generic_topic, generic("g-1", plate="60a-1"))
        send(bridge.generic_topic, {"events": [generic("g-2"), generic("", kind="heartbeat")]})
        wait_for(lambda: processed(bridge, len(bad) + 2), what="every message")
        counters = bridge.counters.snapshot()
    assert counters["skipped"] == len(bad) and counters["stored"] == 3
    assert sorted(CameraEvent.objects.values_list("external_id", flat=True)) == ["g-1", "g-2"]
    assert set(CameraEvent.objects.values_list("source", flat=True)) == {"mqtt:generic"}


@pytest_db
def test_new_update_and_end_of_one_frigate_event_are_stored_once(broker, prefix, camera):
    event_id = "1764100100.10-once"
    with running_bridge(broker, prefix) as bridge:
        assert bridge.subscribed.wait(5), "the bridge did not subscribe"
        for kind in ("new", "update", "end"):
            send(bridge.frigate_topic, frigate(event_id, kind))
        wait_for(lambda: processed(bridge, 3), what="three messages")
    assert CameraEvent.objects.filter(external_id=f"frigate:{event_id}").count() == 1
    # A restarted bridge remembers nothing; the database still refuses the repeat.
    with running_bridge(broker, prefix) as bridge:
        assert bridge.subscribed.wait(5), "the bridge did not subscribe"
        send(bridge.frigate_topic, frigate(event_id, "end"))
        wait_for(lambda: processed(bridge, 1), what="the repeat")
        assert bridge.counters.snapshot()["duplicate"] == 1
    assert CameraEvent.objects.count() == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnBroker:
    """A Mosquitto of this test's own, to stop and start again on the same port."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        )
        self.process = None

    def start(self):
        def listening():
            # Started again on the same port, it may exit at once while the old socket lingers: retry.
            if self.process is None or self.process.poll() is not None:
                self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdin=subprocess.DEVNULL)
            return reachable("127.0.0.1", self.port)

        self.process = None
        wait_for(listening, timeout=15, what="mosquitto to listen")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)


@pytest.fixture
def own_broker(tmp_path):
    if not os.path.exists(MOSQUITTO):
        unavailable(f"{MOSQUITTO} is missing (apt-get install mosquitto); the broker restart test is skipped.")
    server = OwnBroker(tmp_path)
    yield server
    server.stop()


@pytest_db
def test_after_the_broker_restarts_the_bridge_resumes(own_broker, prefix, camera):
    url = f"mqtt://127.0.0.1:{own_broker.port}"
    with running_bridge(url, prefix) as bridge:
        own_broker.start()  # after the bridge: the first connection is retried too
        assert bridge.subscribed.wait(5), "the bridge did not connect once the broker came up"
        own_broker.stop()
        wait_for(lambda: not bridge.subscribed.is_set(), what="the bridge to notice")
        own_broker.start()
        assert bridge.subscribed.wait(8), "the bridge did not come back"
        send(bridge.frigate_topic, frigate("1764100200.20-back"), port=own_broker.port)
        wait_for(lambda: CameraEvent.objects.filter(external_id="frigate:1764100200.20-back").exists(), what="event")


@pytest_db
def test_the_command_stores_events_and_stops_cleanly_on_sigterm(broker, prefix, camera):
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        DB_CONN_MAX_AGE="0",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, "manage.py", "camera_mqtt_bridge", "--url", broker, "--topic-prefix", prefix]
    argv += ["--camera-map", f"ql1a_north={CAMERA}"]
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
        reader.start()
        wait_for(lambda: any("connected" in line for line in lines), timeout=15, what="the command to connect")
        # Subscribed a moment after connecting: repeat the (idempotent) event until it lands.
        message = frigate("1764100300.30-cmd", camera="ql1a_north")
        deadline = time.monotonic() + 10
        while not CameraEvent.objects.filter(camera=camera).exists():
            assert time.monotonic() < deadline, "the command stored nothing:\n" + "".join(lines)
            publish.single(f"{prefix}/frigate/events", json.dumps(message), qos=1, hostname=BROKER_HOST)
            time.sleep(0.2)
        child.send_signal(signal.SIGTERM)
        assert child.wait(10) == 0, "".join(lines)
        reader.join(5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert CameraEvent.objects.count() == 1
    assert any("MQTT bridge stopped" in line for line in lines)
