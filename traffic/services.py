"""Every write of the camera platform: event ingestion with storm folding, camera health, and the
operator's incident workflow. One transaction each; live updates after commit."""

import gc
import io
import json
import math
import re
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import psycopg2
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import Json, execute_values

from ioc import audit, bus, hooks
from ioc.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ioc.ingest import FIRST_YEAR, LAST_YEAR, NUL, in_utc, moment_field, text_field
from ioc.models import SEVERITY_RANK, Unit
from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF, has_role
from ioc.scope import Scope, scope_for
from ioc.services import alert_raise, alert_resolve_by_key
from traffic import selectors
from traffic.models import Camera, CameraEvent, CameraEventDaily, CongestionLevel, EventKind, Incident, Purpose

FUTURE_TOLERANCE = timedelta(minutes=5)
RESEND_WINDOW = timedelta(days=1)  # how far a resend's time may lie from the stored event's
LIFE_RESOLUTION = timedelta(seconds=10)  # a camera's last-seen times are kept to this (offline: minutes)
SUBSYSTEM = {Purpose.TRAFFIC: "traffic", Purpose.SECURITY: "security", Purpose.COUNTER: "onestop"}
HEALTH_KINDS = {"heartbeat", "offline", "tamper"}


def subsystem_of(camera: Camera) -> str:
    return SUBSYSTEM[camera.purpose]


def congestion_level(avg_speed: float, free_flow: float) -> str:
    """DATEX II level from the share of free-flow speed."""
    share = avg_speed / free_flow
    if share < 0.10:
        return CongestionLevel.STATIONARY
    if share < 0.25:
        return CongestionLevel.QUEUING
    if share < 0.75:
        return CongestionLevel.SLOW
    if share < 0.90:
        return CongestionLevel.HEAVY
    return CongestionLevel.FREE


# --- parsing one item ---------------------------------------------------------------------------


class ItemError(Exception):
    def __init__(self, errors: dict):
        self.errors = errors


def _number(item, field, low, high, errors, integer=False):
    value = item.get(field)
    if value is None or value == "":
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and math.isnan(value))
    ):
        errors[field] = _("Must be a number.")
        return None
    if integer and int(value) != value:
        errors[field] = _("Must be a whole number.")
        return None
    if not low <= value <= high:
        errors[field] = _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
        return None
    return int(value) if integer else float(value)


def _web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def parse_item(item, *, cameras: dict, kinds: dict, now: datetime) -> dict:
    """Check one event as sent by a vendor system; raise ItemError with per-field messages."""
    if not isinstance(item, dict):
        raise ItemError({"item": _("Each event must be a JSON object.")})
    errors = {}
    camera = cameras.get(item.get("camera")) if isinstance(item.get("camera"), str) else None
    if camera is None:
        errors["camera"] = _("Unknown camera, or not one of this key's area.")
    kind = kinds.get(item.get("kind")) if isinstance(item.get("kind"), str) else None
    if kind is None:
        errors["kind"] = _("Unknown event kind.")
    occurred_at = moment_field(item, "occurred_at", errors, required=True)
    if occurred_at is not None and occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = _("This time is in the future.")
    parsed = {
        "external_id": text_field(item, "external_id", 100, errors),
        "plate": text_field(item, "plate", 20, errors).upper(),
        "zone": text_field(item, "zone", 100, errors),
        "snapshot_url": text_field(item, "snapshot_url", 500, errors),
        "clip_url": text_field(item, "clip_url", 500, errors),
        "speed_kmh": _number(item, "speed_kmh", 0, 400, errors),
        "vehicle_count": _number(item, "vehicle_count", 0, 1_000_000, errors, integer=True),
        "score": _number(item, "score", 0, 1, errors),
    }
    for field in ("snapshot_url", "clip_url"):
        # Operators' browsers open these: nothing but a web address (no javascript: or file:).
        if parsed[field] and not _web_url(parsed[field]):
            errors[field] = _("Must be an http(s) URL.")
    level = item.get("congestion_level") or ""
    avg, free = _number(item, "avg_speed_kmh", 0, 400, errors), _number(item, "free_flow_kmh", 1, 400, errors)
    if level and level not in CongestionLevel.values:
        errors["congestion_level"] = _("Use one of: %(levels)s.") % {"levels": ", ".join(CongestionLevel.values)}
    elif not level and avg is not None and free:
        level = congestion_level(avg, free)
    data = item.get("data") or {}
    if not isinstance(data, dict):
        errors["data"] = _("Must be a JSON object.")
    if errors:
        raise ItemError(errors)
    if avg is not None:
        data = {**data, "avg_speed_kmh": avg}
    return {
        **parsed,
        "camera": camera,
        "kind": kind,
        "occurred_at": occurred_at,
        "congestion_level": level,
        "data": data,
    }


_PLAIN_KEYS = frozenset(
    {
        "camera",
        "kind",
        "occurred_at",
        "external_id",
        "plate",
        "zone",
        "snapshot_url",
        "clip_url",
        "speed_kmh",
        "vehicle_count",
        "score",
        "congestion_level",
        "avg_speed_kmh",
        "free_flow_kmh",
        "data",
    }
)
_PLAIN_RANGES = {
    "speed_kmh": (0, 400),
    "score": (0, 1),
    "vehicle_count": (0, 1_000_000),
    "avg_speed_kmh": (0, 400),
    "free_flow_kmh": (1, 400),
}


def _plain_text(item, field, limit):
    value = item.get(field)
    if value is None:
        return ""
    if (
        type(value) is not str
        or len(value) > limit
        or NUL in value
        or (value and (value[0].isspace() or value[-1].isspace()))
    ):
        return None
    return value


def parse_plain(item, *, cameras: dict, kinds: dict, now: datetime) -> dict | None:
    """The common event, parsed as parse_item would and several times faster; None for anything
    else (a field to trim, convert, check more closely or refuse), which parse_item then reads."""
    if type(item) is not dict or not _PLAIN_KEYS.issuperset(item):
        return None
    code, kind_code, at = item.get("camera"), item.get("kind"), item.get("occurred_at")
    if type(code) is not str or type(kind_code) is not str or type(at) is not str or NUL in at:
        return None
    camera, kind = cameras.get(code), kinds.get(kind_code)
    if camera is None or kind is None:
        return None
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    if moment.tzinfo is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None
    occurred_at = in_utc(moment)
    if occurred_at > now + FUTURE_TOLERANCE:
        return None
    texts = [_plain_text(item, f, n) for f, n in (("external_id", 100), ("plate", 20), ("zone", 100))]
    if None in texts or item.get("snapshot_url") or item.get("clip_url"):
        return None  # web addresses are checked by parse_item
    numbers = {}
    for field, (low, high) in _PLAIN_RANGES.items():
        value = item.get(field)
        if value is None:
            numbers[field] = None
        elif type(value) is int or (type(value) is float and field != "vehicle_count"):
            if not low <= value <= high:
                return None
            numbers[field] = value if field == "vehicle_count" else float(value)
        else:
            return None
    level = item.get("congestion_level") or ""
    if type(level) is not str or (level and level not in CongestionLevel.values):
        return None
    avg, free = numbers["avg_speed_kmh"], numbers["free_flow_kmh"]
    if not level and avg is not None and free:
        level = congestion_level(avg, free)
    data = item.get("data") or {}
    if type(data) is not dict:
        return None
    if avg is not None:
        data = {**data, "avg_speed_kmh": avg}
    return {
        "external_id": texts[0],
        "plate": texts[1].upper(),
        "zone": texts[2],
        "snapshot_url": item.get("snapshot_url") or "",
        "clip_url": item.get("clip_url") or "",
        "speed_kmh": numbers["speed_kmh"],
        "vehicle_count": numbers["vehicle_count"],
        "score": numbers["score"],
        "camera": camera,
        "kind": kind,
        "occurred_at": occurred_at,
        "congestion_level": level,
        "data": data,
    }


# --- ingestion ----------------------------------------------------------------------------------


def ingest_events(*, source: str, items: list, scope: Scope, snapshots: dict | None = None) -> list[dict]:
    """Store a batch of camera events; returns one result per item, in order.

    Idempotent on (source, external_id): a retried batch creates nothing twice. A bad item is
    reported in its result and the good ones are stored. Repeats of one kind from one camera fold
    into the open incident; only incidents at or above IOC_CAMERA_ALERT_SEVERITY raise alerts.
    """
    if not isinstance(items, list) or not items:
        raise ValidationError({"events": _("Send a list of events.")})
    if len(items) > settings.IOC_CAMERA_BATCH_MAX:
        raise ValidationError({"events": _("At most %(n)s events per batch.") % {"n": settings.IOC_CAMERA_BATCH_MAX}})
    now = timezone.now()
    codes = {i.get("camera") for i in items if isinstance(i, dict) and isinstance(i.get("camera"), str)}
    named = {i.get("kind") for i in items if isinstance(i, dict) and isinstance(i.get("kind"), str)}
    # Only what the batch names, unordered: a single event reads one camera and one kind.
    cameras = {
        c.code: c
        for c in scope.filter(
            Camera.objects.filter(code__in=codes, active=True).select_related("unit").order_by(), "unit"
        )
    }
    kinds = {k.code: k for k in EventKind.objects.filter(code__in=named).order_by()}

    with _collector_paused():
        return _ingest(source, items, scope, snapshots, now, cameras, kinds)


@contextmanager
def _collector_paused():
    """A batch makes tens of thousands of short-lived objects, none of them in a cycle; each of the
    garbage collector's passes they trigger walks the whole process (milliseconds a batch). Paused
    for the batch, resumed after, whatever happens."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _ingest(source, items, scope, snapshots, now, cameras, kinds) -> list[dict]:
    results: list[dict] = [None] * len(items)  # type: ignore[list-item]
    parsed: list[tuple[int, dict]] = []
    for index, item in enumerate(items):
        try:
            plain = parse_plain(item, cameras=cameras, kinds=kinds, now=now)
            parsed.append((index, plain or parse_item(item, cameras=cameras, kinds=kinds, now=now)))
        except ItemError as bad:
            results[index] = {"index": index, "status": "error", "errors": bad.errors}

    with transaction.atomic():
        fresh = _drop_duplicates(source, parsed, results)
        heartbeats = [(i, p) for i, p in fresh if p["kind"].code == "heartbeat"]
        stored = _store_events(
            source, [(i, p) for i, p in fresh if p["kind"].code != "heartbeat"], now, snapshots or {}, results
        )
        # Only now lock the cameras whose rows change, in one order: the rows above went in without
        # waiting for another batch of the same cameras, and what follows (signs of life, the incident
        # fold) runs one batch at a time per camera, without deadlocks on camera and incident rows.
        # NO KEY UPDATE, so that the key-share locks the new rows' foreign keys take never wait on it.
        live = [(i, p) for i, p in fresh if results[i] is None or results[i]["status"] != "duplicate"]
        rows = list(stored.values())
        # One entry per batch, not per event: how many were stored and from which source. Written
        # before the cameras are locked: the lock is then held for as short a time as can be.
        audit.record(
            action="camera_events.ingest",
            obj=CameraEvent,
            unit=scope.unit,
            count=len(rows) + len(heartbeats),
            label=source,
            detail={"items": len(items), "events": len(rows), "heartbeats": len(heartbeats)},
        )
        _lock_cameras_and_record_signs_of_life(live, now)
        events = [(i, p) for i, p in live if i in stored]
        _link_incidents(stored, _fold(events, now))
        hooks.emit(hooks.CAMERA_EVENTS_STORED, events=rows)
        for index, _p in heartbeats:
            results[index] = {"index": index, "status": "accepted"}
        _health_changes(live)
        _announce_units({(subsystem_of(p["camera"]), p["camera"].unit) for _i, p in live})
    return results


def _link_incidents(stored: dict[int, CameraEvent], incidents: dict[int, Incident]) -> None:
    """Point the stored events at the incidents they were folded into (one UPDATE)."""
    if not incidents:
        return
    pairs = []
    for index, incident in incidents.items():
        event = stored[index]
        event.incident_id = incident.pk
        event._state.fields_cache["incident"] = incident
        pairs.append((event.pk, event.occurred_at, incident.pk))
    ids, moments, targets = zip(*pairs, strict=True)
    with connection.cursor() as cursor:
        # One statement that finds the rows by primary key (id = ANY), bounded on occurred_at so that
        # PostgreSQL looks in the batch's months only. (A join with a VALUES list is planned as a scan
        # of the whole month.)
        cursor.execute(
            f"UPDATE {CameraEvent._meta.db_table} SET incident_id = "
            "(%(targets)s::bigint[])[array_position(%(ids)s::bigint[], id)] "
            "WHERE id = ANY(%(ids)s::bigint[]) AND occurred_at >= %(first)s AND occurred_at <= %(last)s",
            {"ids": list(ids), "targets": list(targets), "first": min(moments), "last": max(moments)},
        )


def _drop_duplicates(source, parsed, results):
    """Items already stored (or repeated within the batch) under the same source and external id.

    The look-up is bounded by the batch's times widened by RESEND_WINDOW: the table is partitioned by
    month of occurred_at (docs/partitions.md), so PostgreSQL reads only the months the batch is
    about. A vendor's resend carries the event's time (give or take the seconds a Frigate update
    moves it), and the database's unique key (source, external_id, occurred_at) backs this up."""
    keyed = [p for _i, p in parsed if p["external_id"]]
    known = set()
    if keyed:
        moments = [p["occurred_at"] for p in keyed]
        with connection.cursor() as cursor:
            # NOT (external_id = ''): the unique index's own condition, so PostgreSQL reads that index.
            cursor.execute(
                f"SELECT external_id FROM {CameraEvent._meta.db_table} WHERE source = %s "
                "AND external_id = ANY(%s) AND NOT (external_id = '') AND occurred_at >= %s AND occurred_at <= %s",
                [
                    source,
                    list({p["external_id"] for p in keyed}),
                    min(moments) - RESEND_WINDOW,
                    max(moments) + RESEND_WINDOW,
                ],
            )
            known = {row[0] for row in cursor.fetchall()}
    fresh = []
    for index, p in parsed:
        key = p["external_id"]
        if key and key in known:
            results[index] = {"index": index, "status": "duplicate"}
            continue
        if key:
            known.add(key)
        fresh.append((index, p))
    return fresh


# --- storing the rows: one INSERT for a few, COPY for many ------------------------------------------------------

EVENT_COLUMNS = (
    "id",
    "camera_id",
    "kind_id",
    "unit_id",
    "incident_id",
    "source",
    "external_id",
    "occurred_at",
    "received_at",
    "plate",
    "speed_kmh",
    "vehicle_count",
    "congestion_level",
    "score",
    "zone",
    "snapshot_url",
    "snapshot",
    "clip_url",
    "data",
)
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder, not one per row


def _copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab and line breaks escaped."""
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


NULL = "\\N"  # COPY's NULL


def _event_instance(values: dict, camera: Camera, kind: EventKind) -> CameraEvent:
    """A CameraEvent for rows already stored, without the cost of Model.__init__ per row (the hook's
    listeners read it like any other instance)."""
    event = CameraEvent.__new__(CameraEvent)
    state = ModelState()
    state.adding, state.db = False, "default"
    state.fields_cache = {"camera": camera, "kind": kind}
    values["_state"] = state
    event.__dict__ = values
    return event


SMALL_BATCH = 20  # up to this many events go as one INSERT; more as one COPY


def _insert(table: str, values_of: list[dict], *, with_ids: bool) -> set:
    """INSERT ... ON CONFLICT DO NOTHING of the rows; the ids of those stored (written into the rows
    when the table gives them). A row the unique key skips was stored meanwhile by another batch."""
    columns = EVENT_COLUMNS if with_ids else EVENT_COLUMNS[1:]
    with connection.cursor() as cursor:
        returned = execute_values(
            cursor.cursor,
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s ON CONFLICT (source, external_id, occurred_at) "
            "WHERE NOT (external_id = '') DO NOTHING RETURNING id, external_id, occurred_at",
            [tuple(Json(v[c]) if c == "data" else v[c] for c in columns) for v in values_of],
            page_size=len(values_of),
            fetch=True,
        )
    if not with_ids:
        # The answer lists the stored rows in the order sent, skipping the others: match them in turn.
        pending = iter(returned)
        row = next(pending, None)
        for values in values_of:
            if row is not None and (row[1], row[2]) == (values["external_id"], values["occurred_at"]):
                values["id"] = row[0]
                row = next(pending, None)
    return {row[0] for row in returned}


def _store_events(source, events, now, snapshots, results) -> dict[int, CameraEvent]:
    """Insert the batch's events and fill their results; returns {index: the stored row}.

    A few go as one INSERT. Many get their ids from the sequence first and go as one COPY; should
    another batch have stored one of them meanwhile (the unique key refuses the COPY), they go again
    as one INSERT ... ON CONFLICT DO NOTHING. The rows the unique key skips are duplicates."""
    if not events:
        return {}
    table = CameraEvent._meta.db_table
    small = len(events) <= SMALL_BATCH
    if small:  # ids come with the INSERT's answer
        ids = [None] * len(events)
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [f"{table}_id_seq", len(events)])
            ids = [row[0] for row in cursor.fetchall()]
    received, source_text = now.isoformat(), _copy_text(source)
    values_of, lines = [], []
    for (index, p), pk in zip(events, ids, strict=True):
        camera = p["camera"]
        snapshot = ""
        if index in snapshots:  # a single multipart event's image: saved where the model would put it
            holder = CameraEvent(camera=camera, occurred_at=p["occurred_at"])
            holder.snapshot.save(snapshots[index].name, snapshots[index], save=False)
            snapshot = holder.snapshot.name
        data = p["data"]
        values = {
            "id": pk,
            "camera_id": camera.pk,
            "kind_id": p["kind"].pk,
            "unit_id": camera.unit_id,
            "incident_id": None,  # set by the fold, which comes after
            "source": source,
            "external_id": p["external_id"],
            "occurred_at": p["occurred_at"],
            "received_at": now,
            "plate": p["plate"],
            "speed_kmh": p["speed_kmh"],
            "vehicle_count": p["vehicle_count"],
            "congestion_level": p["congestion_level"],
            "score": p["score"],
            "zone": p["zone"],
            "snapshot_url": p["snapshot_url"],
            "snapshot": snapshot,
            "clip_url": p["clip_url"],
            "data": data,
        }
        values_of.append(values)
        if small:
            continue
        texts = (
            p["external_id"],
            p["plate"],
            p["zone"],
            p["snapshot_url"],
            snapshot,
            p["clip_url"],
            _json(data) if data else "{}",
        )
        if _COPY_SPECIAL.search("".join(texts)):  # rare: escape each text only then
            texts = tuple(_copy_text(t) for t in texts)
        external_id, plate, zone, snapshot_url, snapshot_name, clip_url, data_text = texts
        speed, count, score = p["speed_kmh"], p["vehicle_count"], p["score"]
        lines.append(
            f"{pk}\t{camera.pk}\t{p['kind'].pk}\t{camera.unit_id}\t\\N\t{source_text}\t{external_id}\t"
            f"{p['occurred_at'].isoformat()}\t{received}\t{plate}\t{NULL if speed is None else speed}\t"
            f"{NULL if count is None else count}\t{p['congestion_level']}\t{NULL if score is None else score}\t"
            f"{zone}\t{snapshot_url}\t{snapshot_name}\t{clip_url}\t{data_text}"
        )
    if small:
        stored = _insert(table, values_of, with_ids=False)
    else:
        stored = set(ids)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                buffer = io.StringIO("\n".join(lines) + "\n")
                cursor.cursor.copy_expert(f"COPY {table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN", buffer)
        except (IntegrityError, psycopg2.IntegrityError):
            stored = _insert(table, values_of, with_ids=True)
    rows = {}
    for (index, p), values in zip(events, values_of, strict=True):
        if values["id"] in stored:
            rows[index] = _event_instance(values, p["camera"], p["kind"])
            results[index] = {"index": index, "status": "created", "id": values["id"]}
        else:
            results[index] = {"index": index, "status": "duplicate"}
    return rows


def _foldable(kind: EventKind) -> bool:
    """Whether events of this kind fold into operator incidents (the others are records)."""
    return not (
        kind.purpose == "health" or kind.is_violation or kind.code in ("vehicle_count", "attended", "unattended")
    )


def _behind(camera: Camera, at: datetime, is_event: bool) -> bool:
    """Whether the camera's stored health or last-seen times are behind this sign of life."""
    return (
        camera.health != Camera.Health.ONLINE
        or camera.last_heartbeat_at is None
        or at - camera.last_heartbeat_at >= LIFE_RESOLUTION
        or (is_event and (camera.last_event_at is None or at - camera.last_event_at >= LIFE_RESOLUTION))
    )


def _lock_cameras_and_record_signs_of_life(live, now) -> None:
    """Lock the cameras whose rows this batch changes (NO KEY UPDATE, in id order, their health read
    afresh) and record that they are alive: any event shows it; heartbeats say only that.

    The last-seen times are kept to LIFE_RESOLUTION: a camera seen online a moment ago is not written
    again, so single events and violations (which fold into nothing) take no camera lock at all and
    never queue behind each other. A batch that changes one camera does it in one UPDATE, whose row
    lock is the lock."""
    latest: dict[int, tuple[Camera, datetime, bool]] = {}
    locked: set[int] = set()
    for _index, p in live:
        camera, kind = p["camera"], p["kind"]
        if kind.code in ("offline", "tamper"):
            locked.add(camera.pk)  # its health changes
            continue  # a report that the camera is unwell is no sign that it is well
        if _foldable(kind):
            locked.add(camera.pk)  # its incidents change
        at = min(p["occurred_at"], now)
        seen = latest.get(camera.pk)
        is_event = kind.code != "heartbeat"
        if seen is None or at > seen[1]:
            latest[camera.pk] = (camera, at, is_event or (seen[2] if seen else False))
    behind = sorted((s for s in latest.values() if _behind(*s)), key=lambda seen: seen[0].pk)
    locked |= {camera.pk for camera, _at, _is_event in behind}
    if not locked:
        return
    cameras = {p["camera"].pk: p["camera"] for _i, p in live if p["camera"].pk in locked}
    touch = (
        f"UPDATE {Camera._meta.db_table} AS c SET last_heartbeat_at = GREATEST(c.last_heartbeat_at, v.at), "
        "last_event_at = CASE WHEN v.is_event THEN GREATEST(c.last_event_at, v.at) ELSE c.last_event_at END "
        "FROM (VALUES %s) AS v(id, at, is_event) WHERE c.id = v.id RETURNING c.id, c.health"
    )
    rows = [(camera.pk, at, is_event) for camera, at, is_event in behind]
    with connection.cursor() as cursor:
        if len(locked) == 1 and rows:
            health = dict(execute_values(cursor.cursor, touch, rows, template="(%s, %s::timestamptz, %s)", fetch=True))
        else:
            cursor.execute(
                f"SELECT id, health FROM {Camera._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                [sorted(locked)],
            )
            health = dict(cursor.fetchall())
            if rows:
                execute_values(cursor.cursor, touch, rows, template="(%s, %s::timestamptz, %s)", fetch=True)
    for pk, camera in cameras.items():
        camera.health = health.get(pk, camera.health)
    for camera, at, is_event in behind:
        back = camera.health == Camera.Health.OFFLINE
        camera.last_heartbeat_at = max(at, camera.last_heartbeat_at or at)
        if is_event:
            camera.last_event_at = max(at, camera.last_event_at or at)
        if back:
            _set_health(camera, Camera.Health.ONLINE)


def _fold(events, now) -> dict[int, Incident]:
    """Fold incident-worthy events into open incidents per (camera, kind); returns index -> incident."""
    groups: dict[tuple[int, int], list[tuple[int, dict]]] = defaultdict(list)
    for index, p in events:
        if not _foldable(p["kind"]):
            continue  # records, not operator incidents
        groups[(p["camera"].pk, p["kind"].pk)].append((index, p))
    if not groups:
        return {}
    open_incidents = {
        (i.camera_id, i.kind_id): i
        for i in Incident.objects.select_for_update().filter(
            status__in=Incident.OPEN, camera_id__in={c for c, _k in groups}, kind_id__in={k for _c, k in groups}
        )
    }
    assigned: dict[int, Incident] = {}
    for key, members in groups.items():
        members.sort(key=lambda pair: pair[1]["occurred_at"])
        incident = open_incidents.get(key)
        for index, p in members:
            window = timedelta(seconds=p["kind"].fold_seconds)
            quiet_too_long = incident is not None and p["occurred_at"] - incident.last_event_at > window
            if quiet_too_long and incident.status == Incident.Status.NEW:
                # Nobody took it up and it went quiet: that one is over, this is a new incident.
                _close_incident(incident, Incident.Status.RESOLVED, note=_("No repeat within the fold window."))
                incident = None
            if incident is None:
                incident = Incident.objects.create(
                    camera=p["camera"],
                    kind=p["kind"],
                    unit_id=p["camera"].unit_id,
                    severity=p["kind"].severity,
                    first_event_at=p["occurred_at"],
                    last_event_at=p["occurred_at"],
                    event_count=1,
                    congestion_level=p["congestion_level"],
                )
                incident._is_new = True
            else:
                incident.event_count += 1
                incident.last_event_at = max(incident.last_event_at, p["occurred_at"])
                # A late event older than the first keeps the incident's span true: its events are
                # read back by that span (only those months' partitions).
                incident.first_event_at = min(incident.first_event_at, p["occurred_at"])
                if p["congestion_level"]:
                    incident.congestion_level = p["congestion_level"]
                incident._changed = True
            assigned[index] = incident
    touched = list({id(i): i for i in assigned.values()}.values())
    changed = [i for i in touched if getattr(i, "_changed", False) or i.event_count > 1]
    if changed:  # one statement for all the incidents the batch counts onto
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                f"UPDATE {Incident._meta.db_table} AS i SET event_count = v.n, first_event_at = v.first, "
                "last_event_at = v.last, congestion_level = v.level FROM (VALUES %s) AS v(id, n, first, last, level) "
                "WHERE i.id = v.id",
                [(i.pk, i.event_count, i.first_event_at, i.last_event_at, i.congestion_level) for i in changed],
                template="(%s, %s, %s::timestamptz, %s::timestamptz, %s)",
            )
    for incident in touched:
        if getattr(incident, "_is_new", False):
            _incident_opened(incident)
    return assigned


def _incident_opened(incident: Incident) -> None:
    if SEVERITY_RANK[incident.severity] >= SEVERITY_RANK[settings.IOC_CAMERA_ALERT_SEVERITY]:
        alert_raise(
            subsystem=subsystem_of(incident.camera),
            severity=incident.severity,
            title=_("%(kind)s at %(camera)s") % {"kind": incident.kind.name, "camera": incident.camera.name},
            unit=incident.camera.unit,
            dedup_key=f"traffic:incident:{incident.pk}",
            subject_type="traffic.incident",
            subject_id=str(incident.pk),
        )
    _announce_incident(incident)


def _health_changes(fresh) -> None:
    for _index, p in fresh:
        code = p["kind"].code
        if code == "offline":
            _set_health(p["camera"], Camera.Health.OFFLINE)
        elif code == "tamper":
            _set_health(p["camera"], Camera.Health.TAMPERED)


def _set_health(camera: Camera, health: str) -> None:
    """Record a camera's health; offline and tampered are alerts, back online resolves them."""
    if camera.health == health:
        return
    Camera.objects.filter(pk=camera.pk).update(health=health)
    camera.health = health
    subsystem = subsystem_of(camera)
    if health == Camera.Health.ONLINE:
        for problem in ("offline", "tamper"):
            alert_resolve_by_key(dedup_key=f"camera:{camera.code}:{problem}", note=_("The camera is back online."))
    elif health == Camera.Health.OFFLINE:
        alert_raise(
            subsystem=subsystem,
            severity="warning",
            unit=camera.unit,
            dedup_key=f"camera:{camera.code}:offline",
            title=_("Camera offline: %(name)s") % {"name": camera.name},
            subject_type="traffic.camera",
            subject_id=camera.code,
        )
    else:
        alert_raise(
            subsystem=subsystem,
            severity="critical",
            unit=camera.unit,
            dedup_key=f"camera:{camera.code}:tamper",
            title=_("Camera tampered with: %(name)s") % {"name": camera.name},
            subject_type="traffic.camera",
            subject_id=camera.code,
        )
    bus.publish(type="traffic.camera.updated", subsystem=subsystem, unit=camera.unit, data=camera_state(camera))
    bus.publish_kpis(subsystem=subsystem, unit=camera.unit)


def camera_health_sweep(now=None) -> int:
    """Mark cameras offline after their silence limit (a beat task, every minute). Safe to run twice."""
    now = now or timezone.now()
    marked = 0
    for camera in Camera.objects.filter(active=True).exclude(health=Camera.Health.OFFLINE).select_related("unit"):
        limit = timedelta(minutes=camera.offline_after_minutes or settings.IOC_CAMERA_OFFLINE_MINUTES)
        last = camera.last_heartbeat_at
        if last is None or now - last > limit:
            with transaction.atomic():
                locked = Camera.objects.select_for_update().select_related("unit").get(pk=camera.pk)
                if locked.health != Camera.Health.OFFLINE:
                    _set_health(locked, Camera.Health.OFFLINE)
                    marked += 1
    return marked


def _announce_units(pairs) -> None:
    for subsystem, unit in pairs:
        bus.publish_kpis(subsystem=subsystem, unit=unit)


def camera_state(camera: Camera) -> dict:
    return {
        "code": camera.code,
        "name": camera.name,
        "purpose": camera.purpose,
        "health": camera.health,
        "unit": camera.unit.code,
        "latitude": camera.latitude,
        "longitude": camera.longitude,
        "road": camera.road,
        "last_heartbeat_at": camera.last_heartbeat_at.isoformat() if camera.last_heartbeat_at else None,
    }


def _announce_incident(incident: Incident) -> None:
    camera = incident.camera
    extra = [incident.dispatched_to] if incident.dispatched_to_id else []
    bus.publish(
        type="traffic.incident.updated",
        subsystem=subsystem_of(camera),
        unit=camera.unit,
        extra_units=extra,
        data=selectors.incident_state(incident),
    )
    bus.publish_kpis(subsystem=subsystem_of(camera), unit=camera.unit)


# --- the operator's workflow --------------------------------------------------------------------


def _locked_incident(incident_id: int, user) -> Incident:
    queryset = Incident.objects.select_for_update(of=("self",)).select_related("camera__unit", "kind", "unit")
    incident = scope_for(user).filter(queryset, "unit", "dispatched_to").filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(_("No such incident."))
    return incident


def _require_worker(user) -> None:
    if not has_role(user, OPERATOR, ADMIN, UNIT_STAFF, LEADER):
        raise PermissionDenied(_("Your role cannot work camera incidents."))


def _require_open(incident: Incident) -> None:
    if incident.status not in Incident.OPEN:
        raise Conflict(_("This incident is already %(status)s.") % {"status": incident.get_status_display().lower()})


def incident_acknowledge(*, incident_id: int, user) -> Incident:
    _require_worker(user)
    with transaction.atomic():
        incident = _locked_incident(incident_id, user)
        if incident.status != Incident.Status.NEW:
            raise Conflict(
                _("This incident is already %(status)s.") % {"status": incident.get_status_display().lower()}
            )
        incident.status = Incident.Status.ACKNOWLEDGED
        incident.acknowledged_by, incident.acknowledged_at = user, timezone.now()
        incident.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit.record(action="incident.acknowledge", obj=incident)
        _announce_incident(incident)
    return incident


def incident_dispatch(*, incident_id: int, user, unit: Unit, note: str = "") -> Incident:
    """Send a unit (traffic police, a ward) to the scene."""
    if not has_role(user, OPERATOR, ADMIN):
        raise PermissionDenied(_("Only operators dispatch units."))
    if not scope_for(user).contains(unit):
        raise ValidationError({"unit": _("That unit is outside your area.")})
    with transaction.atomic():
        incident = _locked_incident(incident_id, user)
        _require_open(incident)
        incident.status = Incident.Status.DISPATCHED
        incident.dispatched_to = unit
        incident.note = note.strip()[:2000] or incident.note
        if incident.acknowledged_at is None:
            incident.acknowledged_by, incident.acknowledged_at = user, timezone.now()
        incident.save(update_fields=["status", "dispatched_to", "note", "acknowledged_by", "acknowledged_at"])
        audit.record(action="incident.dispatch", obj=incident, detail={"dispatched_to": unit.code})
        _announce_incident(incident)
    return incident


def incident_resolve(*, incident_id: int, user, note: str = "", false_alarm: bool = False) -> Incident:
    _require_worker(user)
    with transaction.atomic():
        incident = _locked_incident(incident_id, user)
        _require_open(incident)
        status = Incident.Status.FALSE_ALARM if false_alarm else Incident.Status.RESOLVED
        _close_incident(incident, status, note=note, user=user)
        audit.record(action="incident.resolve", obj=incident, detail={"status": status})
    return incident


def _close_incident(incident: Incident, status: str, *, note: str = "", user=None) -> None:
    incident.status = status
    incident.closed_at = timezone.now()
    incident.closed_by = user
    if note:
        incident.note = note.strip()[:2000]
    incident.save(update_fields=["status", "closed_at", "closed_by", "note"])
    alert_resolve_by_key(dedup_key=f"traffic:incident:{incident.pk}", note=incident.note)
    _announce_incident(incident)


# --- retention ----------------------------------------------------------------------------------


def archive_event_days(start: datetime, end: datetime) -> int:
    """Roll the events of [start, end) up by local day, camera and kind into CameraEventDaily, before
    retention drops them (ioc.partitions). Each day's row is recomputed from the events, never added
    to, so running it twice counts nothing twice. Returns the day rows written."""
    events, daily = CameraEvent._meta.db_table, CameraEventDaily._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {daily} (day, camera_id, kind_id, unit_id, count, vehicles, speed_sum, speed_count,
                                 speed_max, plates, first_at, last_at)
            SELECT (occurred_at AT TIME ZONE %(zone)s)::date, camera_id, kind_id, max(unit_id), count(*),
                   coalesce(sum(vehicle_count), 0), coalesce(sum(speed_kmh), 0), count(speed_kmh),
                   max(speed_kmh), count(*) FILTER (WHERE plate <> ''), min(occurred_at), max(occurred_at)
            FROM {events}
            WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
            GROUP BY 1, 2, 3
            ON CONFLICT (day, camera_id, kind_id) DO UPDATE SET
                unit_id = EXCLUDED.unit_id, count = EXCLUDED.count, vehicles = EXCLUDED.vehicles,
                speed_sum = EXCLUDED.speed_sum, speed_count = EXCLUDED.speed_count,
                speed_max = EXCLUDED.speed_max, plates = EXCLUDED.plates,
                first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at
            """,
            {"zone": settings.TIME_ZONE, "start": start, "end": end},
        )
        return cursor.rowcount
