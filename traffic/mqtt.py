"""Camera events from an MQTT broker: Frigate NVR's `frigate/events` and the IOC's generic topic.

Both end in `services.ingest_events`, the one write path for camera events, so idempotency on
(source, external_id), per-item checks, storm folding and alerts are the same as over HTTP. The
broker is trusted infrastructure inside the command centre's network (whoever can publish on it can
already reach the cameras), so events are ingested with the EVERYTHING scope. See docs/cameras-mqtt.md.
"""

import logging
import math
import threading
import unicodedata
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

from ioc import ingest
from ioc.errors import ValidationError
from ioc.scope import EVERYTHING
from traffic import services

logger = logging.getLogger("traffic.mqtt")

FRIGATE_TOPIC = "frigate/events"
SOURCE_FRIGATE = "mqtt:frigate"
SOURCE_GENERIC = "mqtt:generic"
STATS_EVERY_SECONDS = 60
RECENT_IDS = 10_000  # Frigate ids already handled, so that its many `update` messages skip the database

# --- Frigate: label and zones -> IOC event kind ----------------------------------------------------

VEHICLES = frozenset({"car", "motorcycle", "bus", "truck"})
PEOPLE = frozenset({"person"})
FIRE = frozenset({"fire", "smoke"})

# Read top to bottom; the first row that matches gives the event kind. A row matches when the
# object's label is one of `labels` and, if `words` is not empty, one of the words appears in the
# name of a zone the object is in or has entered, or in its sub_label. Words match whole words of
# the name, lower-cased, without Vietnamese diacritics, with `_`, `-`, `.` and spaces alike:
# zone "khu_vuc_cam" or "Khu vực cấm" matches "cam", "camera_gate" does not. Anything that matches
# no row (a car in no special zone, a dog) is not an event for the IOC and is skipped.
FRIGATE_KINDS: tuple[tuple[frozenset[str], tuple[str, ...], str], ...] = (
    (FIRE, (), "fire_smoke"),
    (PEOPLE, ("crowd", "dong_nguoi"), "crowd"),
    (PEOPLE, ("restricted", "cam", "intrusion"), "intrusion"),
    (VEHICLES, ("red_light", "den_do"), "red_light"),
    (VEHICLES, ("wrong_way", "nguoc_chieu"), "wrong_way"),
    (VEHICLES, ("bus_lane",), "bus_lane"),
    (VEHICLES, ("no_parking", "illegal_parking"), "illegal_parking"),
)


class Malformed(Exception):
    """A message that is not what its topic carries; logged as a warning and skipped."""


def _words(name: str) -> str:
    """`_khu_vuc_cam_` for "Khu vực cấm": lower case, no diacritics, words between underscores."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return "_" + "".join(c if c.isalnum() else "_" for c in plain) + "_"


def frigate_kind(label: str, names: list[str]) -> str | None:
    """The IOC event kind for a Frigate label seen in zones (and sub_label) `names`, or None."""
    texts = [_words(n) for n in names if n]
    for labels, words, kind in FRIGATE_KINDS:
        if label not in labels:
            continue
        if not words or any(f"_{w}_" in t for w in words for t in texts):
            return kind
    return None


def _first(value):
    """Frigate gives some values as a plain value, others as [value, score]."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _names(value) -> list[str]:
    return [z for z in value if isinstance(z, str)] if isinstance(value, list) else []


def frigate_item(payload, *, camera_map: dict[str, str] | None = None, frigate_url: str = "") -> dict | None:
    """One ingestion item from a `frigate/events` message, or None when it is not an IOC event.

    Raises Malformed when the message does not have Frigate's shape.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("after"), dict):
        raise Malformed("expected {type, before, after} with `after` an object")
    after = payload["after"]
    event_id, camera, label = after.get("id"), after.get("camera"), after.get("label")
    start = _number(after.get("start_time"))
    if not (isinstance(event_id, str) and event_id and isinstance(camera, str) and camera):
        raise Malformed("`after` needs `id` and `camera`")
    if not isinstance(label, str) or start is None:
        raise Malformed("`after` needs `label` and a numeric `start_time`")
    if after.get("false_positive") is True:
        logger.debug("Frigate event %s is a false positive; skipped", event_id)
        return None
    current, entered = _names(after.get("current_zones")), _names(after.get("entered_zones"))
    sub_label = _first(after.get("sub_label"))
    kind = frigate_kind(label, [*current, *entered, sub_label if isinstance(sub_label, str) else ""])
    if kind is None:
        logger.debug("Frigate event %s (%s in %s) maps to no event kind; skipped", event_id, label, current or entered)
        return None
    try:
        occurred_at = datetime.fromtimestamp(start, tz=UTC)
    except (OverflowError, OSError, ValueError) as bad:
        raise Malformed("`start_time` is not a time") from bad
    item = {
        "camera": (camera_map or {}).get(camera, camera),
        "kind": kind,
        "external_id": f"frigate:{event_id}",
        "occurred_at": occurred_at.isoformat(),
        "zone": ",".join(current)[:100],
        "data": {
            "frigate": {
                "id": event_id,
                "camera": camera,
                "label": label,
                "sub_label": sub_label if isinstance(sub_label, str) else None,
                "type": payload.get("type"),
                "entered_zones": entered,
            }
        },
    }
    plate = _first(after.get("recognized_license_plate"))
    if isinstance(plate, str) and plate.strip():
        item["plate"] = plate.strip()
    speed = _number(after.get("current_estimated_speed"))
    if speed is not None:
        item["speed_kmh"] = speed
    score = _number(after.get("top_score"))
    score = score if score is not None else _number(after.get("score"))
    if score is not None:
        item["score"] = score
    if frigate_url and after.get("has_snapshot") is True:
        item["snapshot_url"] = f"{frigate_url.rstrip('/')}/api/events/{event_id}/snapshot.jpg"
    if frigate_url and after.get("has_clip") is True:
        item["clip_url"] = f"{frigate_url.rstrip('/')}/api/events/{event_id}/clip.mp4"
    return item


def generic_items(payload) -> list:
    """The items of a generic-topic message: one event object, {"events": [...]} or a list."""
    if isinstance(payload, dict) and "events" in payload:
        payload = payload["events"]
    elif isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not payload:
        raise Malformed('expected an event object, a non-empty list or {"events": [...]}')
    return payload


# --- counters ----------------------------------------------------------------------------------


class Counters:
    """Messages received and events stored, duplicate (already stored) or skipped, for this process."""

    NAMES = ("received", "stored", "duplicate", "skipped")

    def __init__(self):
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._values[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


COUNTERS = Counters()


# --- the bridge --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self):  # never shows the password
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_url(url: str) -> Broker:
    """`mqtt://[user:password@]host[:1883]` or `mqtts://…[:8883]` (TLS, system CAs)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"not an MQTT URL: {url!r}; use mqtt://host:1883 or mqtts://host:8883")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as bad:
        raise ValueError(f"bad port in {url!r}") from bad
    return Broker(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def parse_camera_map(text: str) -> dict[str, str]:
    """`frigate_name=IOC-CODE,other=IOC-CODE-2` -> {frigate_name: IOC-CODE, ...}."""
    mapping = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        name, sep, code = (s.strip() for s in pair.partition("="))
        if not sep or not name or not code:
            raise ValueError(f"camera map entry {pair.strip()!r} is not frigate_name=IOC-CODE")
        mapping[name] = code
    return mapping


def _topic(prefix: str, topic: str) -> str:
    return f"{prefix.rstrip('/')}/{topic}" if prefix else topic


class Bridge:
    """Subscribes to the Frigate and generic topics and ingests what arrives, until `stop` is set.

    Survives bad messages, database errors and broker restarts (paho reconnects with back-off and
    `on_connect` subscribes again). `subscribed` is set while both subscriptions stand.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str = "",
        camera_map: dict[str, str] | None = None,
        topic_prefix: str = "",
        generic_topic: str | None = None,
        frigate_url: str = "",
        stats_every: float = STATS_EVERY_SECONDS,
        reconnect_min_delay: int = 1,
        reconnect_max_delay: int = 30,
        counters: Counters = COUNTERS,
    ):
        self.broker = parse_url(url)
        self.client_id = client_id
        self.camera_map = camera_map or {}
        self.frigate_topic = _topic(topic_prefix, FRIGATE_TOPIC)
        self.generic_topic = _topic(topic_prefix, generic_topic or settings.IOC_MQTT_GENERIC_TOPIC)
        self.frigate_url = frigate_url
        self.stats_every = stats_every
        self.reconnect_delays = (reconnect_min_delay, reconnect_max_delay)
        self.counters = counters
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        self._recent: OrderedDict[str, bool] = OrderedDict()  # Frigate external id -> stored (or refused)

    # paho objects are built here, not at import, so that the web process never needs paho
    def _client(self):
        from paho.mqtt.client import CallbackAPIVersion, Client

        # A named client keeps its session on the broker (QoS 1 messages wait while the bridge is
        # down); an unnamed one gets a fresh id and a clean session each run.
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id or f"ioc-camera-bridge-{uuid.uuid4().hex[:12]}",
            clean_session=not self.client_id,
        )
        client.suppress_exceptions = True
        client.reconnect_delay_set(*self.reconnect_delays)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def run(self, stop: threading.Event) -> None:
        """The main loop: returns once `stop` is set (and the client has disconnected)."""
        client = self._client()
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(client, stop, done), name="mqtt-bridge-watch", daemon=True)
        logger.info(
            "MQTT bridge connecting to %s, topics %s and %s", self.broker, self.frigate_topic, self.generic_topic
        )
        client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        watcher.start()
        try:
            client.loop_forever(retry_first_connection=True)
        finally:
            done.set()
            watcher.join(timeout=5)
            self.subscribed.clear()
            connections.close_all()  # this thread's database connections
            self._log_counters("MQTT bridge stopped")

    def _watch(self, client, stop: threading.Event, done: threading.Event) -> None:
        """Logs the counters every `stats_every` seconds; disconnects the client once `stop` is set."""
        last = 0.0
        while not done.is_set():
            if stop.wait(0.2):
                self._stopping.set()
                # Repeated: a disconnect that lands in the middle of a reconnect attempt is undone by it.
                client.disconnect()
                done.wait(0.5)
                continue
            last += 0.2
            if last >= self.stats_every:
                last = 0.0
                self._log_counters("MQTT bridge counters")

    def _log_counters(self, message: str) -> None:
        values = self.counters.snapshot()
        logger.info("%s: %s", message, ", ".join(f"{k}={v}" for k, v in values.items()), extra={"counters": values})

    # --- paho callbacks (run in the loop's thread) ---

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.warning("MQTT broker %s refused the connection: %s", self.broker, reason_code)
            return
        logger.info("MQTT bridge connected to %s", self.broker)
        client.subscribe([(self.frigate_topic, 1), (self.generic_topic, 1)])

    def _on_connect_fail(self, client, userdata):
        logger.warning("MQTT broker %s unreachable; retrying", self.broker)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        failed = [str(rc) for rc in reason_codes if rc.is_failure]
        if failed:
            logger.warning("MQTT broker %s refused a subscription: %s", self.broker, ", ".join(failed))
            return
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.subscribed.clear()
        if not self._stopping.is_set():
            logger.warning("MQTT bridge lost %s (%s); reconnecting", self.broker, reason_code)

    def _on_message(self, client, userdata, message):
        try:
            self.handle(message.topic, message.payload)
        except Exception:  # the bridge never dies on one message
            self.counters.add("skipped")
            logger.exception("MQTT message on %s could not be handled; skipped", message.topic)

    # --- one message ---

    def handle(self, topic: str, payload: bytes) -> None:
        self.counters.add("received")
        try:
            data = ingest.loads(payload)  # bounded depth, no NUL character
        except (UnicodeDecodeError, ValueError):
            self.counters.add("skipped")
            logger.warning("MQTT message on %s is not JSON; skipped", topic, extra={"payload": _preview(payload)})
            return
        try:
            if topic == self.frigate_topic:
                item = frigate_item(data, camera_map=self.camera_map, frigate_url=self.frigate_url)
                if item is None:
                    self.counters.add("skipped")
                    return
                stored = self._recent.get(item["external_id"])
                if stored is not None:
                    # A later message about an object already stored, or already refused (an
                    # unknown camera would otherwise warn on every update Frigate sends).
                    self.counters.add("duplicate" if stored else "skipped")
                    return
                self._ingest(SOURCE_FRIGATE, [item], topic)
            elif topic == self.generic_topic:
                self._ingest(SOURCE_GENERIC, generic_items(data), topic)
            else:
                self.counters.add("skipped")
                logger.debug("MQTT message on unexpected topic %s; skipped", topic)
        except Malformed as bad:
            self.counters.add("skipped")
            logger.warning(
                "MQTT message on %s is malformed (%s); skipped", topic, bad, extra={"payload": _preview(payload)}
            )

    def _ingest(self, source: str, items: list, topic: str) -> None:
        try:
            results = self._store(source, items)
        except ValidationError as bad:
            self.counters.add("skipped", len(items))
            logger.warning("MQTT message on %s refused: %s", topic, "; ".join(bad.messages))
            return
        except DatabaseError:
            self.counters.add("skipped", len(items))
            logger.exception("Database error storing MQTT camera events from %s; skipped", topic)
            return
        for item, result in zip(items, results, strict=True):
            status = result["status"]
            if status in ("created", "accepted"):
                self.counters.add("stored")
            elif status == "duplicate":
                self.counters.add("duplicate")
            else:
                self.counters.add("skipped")
                logger.warning(
                    "MQTT camera event on %s refused: %s",
                    topic,
                    result.get("errors"),
                    extra={"item": item if isinstance(item, dict) else repr(item)[:200]},
                )
            if source == SOURCE_FRIGATE:
                self._remember(item["external_id"], stored=status != "error")

    @staticmethod
    def _store(source: str, items: list) -> list[dict]:
        """ingest_events, tried a second time on a fresh connection after a database error.

        Safe to repeat: ingestion is idempotent. This also covers a connection the database server
        dropped while the bridge sat idle, and a second bridge storing the same event at once.
        """
        try:
            return services.ingest_events(source=source, items=items, scope=EVERYTHING)
        except DatabaseError:
            logger.warning("Database error storing MQTT camera events; retrying once", exc_info=True)
            close_old_connections()  # drops a broken connection; the retry opens a new one
        return services.ingest_events(source=source, items=items, scope=EVERYTHING)

    def _remember(self, external_id: str, *, stored: bool) -> None:
        self._recent[external_id] = stored
        if len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)


def _preview(payload: bytes) -> str:
    return payload[:200].decode("utf-8", "replace")


def run_bridge(url: str, stop: threading.Event, **options) -> None:
    """Run a Bridge until `stop` is set (the management command's main loop)."""
    Bridge(url, **options).run(stop)
