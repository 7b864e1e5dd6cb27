"""Every write of the indicator subsystems: idempotent observation upserts with history, threshold
alerts and recovery, pull sources. One transaction each; the wall hears of it after commit."""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.models import (
    Direction,
    Indicator,
    IndicatorSource,
    Observation,
    ObservationDaily,
    ObservationRevision,
    Station,
)
from indicators.periods import parse_period
from ioc import audit, bus
from ioc.errors import ValidationError
from ioc.models import SEVERITY_RANK, Alert, Unit
from ioc.scope import Scope
from ioc.services import alert_raise, alert_resolve_by_key

BATCH_MAX = 1000
VALUE_LIMIT = Decimal("1e13")


# --- thresholds -----------------------------------------------------------------------------------


def threshold_status(indicator: Indicator, value) -> str:
    """ok, warning or critical for `value`, respecting the indicator's direction."""
    if value is None:
        return ""
    value = Decimal(value)
    higher_is_better = indicator.direction == Direction.HIGHER
    for level, threshold in (("critical", indicator.critical_threshold), ("warning", indicator.warning_threshold)):
        if threshold is None:
            continue
        if (higher_is_better and value <= threshold) or (not higher_is_better and value >= threshold):
            return level
    return Observation.Status.OK


def alert_key(indicator: Indicator, unit: Unit, station: Station | None = None) -> str:
    key = f"indicator:{indicator.code}:{unit.code}"
    return f"{key}:{station.code}" if station else key


def _sync_alert(observation: Observation) -> None:
    """One open alert per series while its latest value is past a threshold; resolved on recovery."""
    indicator, unit, station = observation.indicator, observation.unit, observation.station
    key = alert_key(indicator, unit, station)
    status = observation.status
    if status in (Observation.Status.WARNING, Observation.Status.CRITICAL):
        open_alert = Alert.objects.exclude(state=Alert.State.RESOLVED).filter(dedup_key=key).first()
        if open_alert is not None and SEVERITY_RANK[open_alert.severity] >= SEVERITY_RANK[status]:
            return  # already raised at this level: a value still out of range is not a new alert
        where = station.name if station else unit.name
        threshold = indicator.critical_threshold if status == "critical" else indicator.warning_threshold
        alert_raise(
            subsystem=indicator.subsystem,
            severity=status,
            title=f"{indicator.label}: {_number(observation.value)} {indicator.unit_of_measure} · {where}".strip(),
            detail=_("Threshold %(threshold)s (%(direction)s), period starting %(start)s.")
            % {
                "threshold": _number(threshold),
                "direction": indicator.get_direction_display().lower(),
                "start": timezone.localtime(observation.period_start).strftime("%Y-%m-%d %H:%M"),
            },
            unit=unit,
            dedup_key=key,
            subject_type="indicators.observation",
            subject_id=str(observation.pk),
        )
    elif status == Observation.Status.OK:
        alert_resolve_by_key(dedup_key=key, note=_("Back within the thresholds."))


def _number(value) -> str:
    if value is None:
        return ""
    value = Decimal(value).normalize()
    return f"{value:f}"


# --- one upsert -----------------------------------------------------------------------------------


def _upsert(*, indicator, unit, station, start: datetime, value: Decimal, source: str, now) -> tuple[Observation, str]:
    """Store one value; returns (observation, "created" | "unchanged" | "replaced"). Inside a transaction."""
    lookup = {"indicator": indicator, "unit": unit, "station": station, "period_start": start}
    existing = Observation.objects.select_for_update().filter(**lookup).first()
    if existing is None:
        try:
            with transaction.atomic():
                created = Observation.objects.create(
                    **lookup,
                    period=indicator.period,
                    value=value,
                    status=threshold_status(indicator, value),
                    source=source,
                    received_at=now,
                )
            return created, "created"
        except IntegrityError:  # someone else stored this period a moment ago: treat theirs as the earlier value
            existing = Observation.objects.select_for_update().get(**lookup)
    if existing.value == value:
        return existing, "unchanged"
    ObservationRevision.objects.create(
        observation=existing,
        value=existing.value,
        source=existing.source,
        received_at=existing.received_at,
        replaced_at=now,
        replaced_by_source=source,
    )
    existing.value = value
    existing.status = threshold_status(indicator, value)
    existing.source = source
    existing.received_at = now
    existing.revisions += 1
    existing.save(update_fields=["value", "status", "source", "received_at", "revisions"])
    return existing, "replaced"


def _after_changes(changed: list[Observation]) -> None:
    """Thresholds on the latest value of each touched series; then the wall hears of it."""
    changed_by_pk = {o.pk: o for o in changed}
    for indicator_id, unit_id, station_id in {(o.indicator_id, o.unit_id, o.station_id) for o in changed}:
        latest = (
            Observation.objects.filter(indicator_id=indicator_id, unit_id=unit_id, station_id=station_id)
            .order_by("-period_start")
            .values_list("pk", flat=True)
            .first()
        )
        if latest in changed_by_pk:  # a correction of an old period says nothing about now
            _sync_alert(changed_by_pk[latest])
    for (subsystem, _unit_id), unit in {(o.indicator.subsystem, o.unit_id): o.unit for o in changed}.items():
        bus.publish_kpis(subsystem=subsystem, unit=unit)


def observation_upsert(
    *, indicator: Indicator, unit: Unit, period, value, source: str, station: Station | None = None
) -> tuple[Observation, str]:
    """Store the value of `indicator` for `unit` and the period holding `period`.

    Re-sending the same value changes nothing and announces nothing; a different value replaces the
    stored one, which is kept in the history. Returns (observation, "created"|"unchanged"|"replaced").
    """
    start = parse_period(indicator.period, period)
    if start is None:
        raise ValidationError({"period": _("Not a period.")})
    value = parse_value(value)
    if value is None:
        raise ValidationError({"value": _("Must be a number.")})
    with transaction.atomic():
        observation, status = _upsert(
            indicator=indicator, unit=unit, station=station, start=start, value=value, source=source, now=timezone.now()
        )
        observation.indicator, observation.unit, observation.station = indicator, unit, station
        if status != "unchanged":
            _after_changes([observation])
    return observation, status


# --- batches from API keys, imports and pull sources ------------------------------------------------


def parse_value(raw) -> Decimal | None:
    """A number from JSON, a spreadsheet cell or CSV text ("12.5" or "12,5"); None if it is none."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, float) and (math.isnan(raw) or math.isinf(raw)):
        return None
    if isinstance(raw, int | float | Decimal):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip().replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
    else:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= VALUE_LIMIT:
        return None
    return value.quantize(Decimal("0.0001"))


@dataclass
class Catalogue:
    """What a batch may refer to, loaded once per batch."""

    indicators: dict
    units: dict
    stations: dict
    default_unit: Unit | None

    @classmethod
    def load(cls, items: list, scope: Scope, default_unit: Unit | None) -> "Catalogue":
        def codes(field):
            return {i.get(field) for i in items if isinstance(i, dict) and isinstance(i.get(field), str)}

        indicators = {i.code: i for i in Indicator.objects.filter(code__in=codes("indicator"), active=True)}
        units = {u.code: u for u in scope.units().filter(code__in=codes("unit"))}
        stations = {
            s.code: s
            for s in scope.filter(Station.objects.filter(code__in=codes("station")).select_related("unit"), "unit")
        }
        return cls(indicators=indicators, units=units, stations=stations, default_unit=default_unit)


def parse_item(item, catalogue: Catalogue, subsystems: list[str] | None) -> dict:
    """Check one observation; returns the parsed fields or {"errors": {...}}."""
    if not isinstance(item, dict):
        return {"errors": {"item": _("Each observation must be an object.")}}
    errors = {}
    indicator = catalogue.indicators.get(item.get("indicator")) if isinstance(item.get("indicator"), str) else None
    if indicator is None:
        errors["indicator"] = _("Unknown indicator.")
    elif subsystems and indicator.subsystem not in subsystems:
        errors["indicator"] = _("This source may not report %(subsystem)s figures.") % {
            "subsystem": indicator.subsystem
        }
    station = None
    if item.get("station") not in (None, ""):
        station = catalogue.stations.get(item["station"]) if isinstance(item["station"], str) else None
        if station is None:
            errors["station"] = _("Unknown station, or not one of this source's area.")
    unit_code = item.get("unit")
    if unit_code in (None, ""):
        unit = station.unit if station else catalogue.default_unit
    else:
        unit = catalogue.units.get(str(unit_code))
        if unit is None:
            errors["unit"] = _("Unknown unit, or not one of this source's area.")
    if unit is None and "unit" not in errors:
        errors["unit"] = _("This field is required.")
    if station and unit and station.unit_id != unit.pk:
        errors["station"] = _("This station belongs to another unit.")
    value = parse_value(item.get("value"))
    if value is None:
        errors["value"] = _("Must be a number.")
    start = None
    if indicator is not None:
        start = parse_period(indicator.period, item.get("period"))
        if start is None:
            errors["period"] = _("Give the period as 2026, 2026-Q3, 2026-11, 2026-11-26 or an ISO 8601 time.")
        elif start > timezone.now():
            errors["period"] = _("This period has not started yet.")
    if errors:
        return {"errors": errors}
    return {"indicator": indicator, "unit": unit, "station": station, "start": start, "value": value}


def observations_ingest(
    *, items: list, source: str, scope: Scope, subsystems: list[str] | None = None, default_unit: Unit | None = None
) -> list[dict]:
    """Store a batch of observations; one result per item, in order: created, unchanged, replaced, error.

    Items: {"indicator": code, "unit": code, "station": code, "period": "2026-11", "value": 123.4}.
    Units and stations must lie in `scope`; indicators in `subsystems` (None or empty: any). A bad item is
    named in its result and the good ones are stored.
    """
    if not isinstance(items, list) or not items:
        raise ValidationError({"observations": _("Send a list of observations.")})
    if len(items) > BATCH_MAX:
        raise ValidationError({"observations": _("At most %(n)s observations per batch.") % {"n": BATCH_MAX}})
    catalogue = Catalogue.load(items, scope, default_unit)
    now = timezone.now()
    results: list[dict] = []
    parsed = []
    for index, item in enumerate(items):
        fields = parse_item(item, catalogue, subsystems)
        if "errors" in fields:
            results.append({"index": index, "status": "error", "errors": fields["errors"]})
        else:
            results.append({"index": index})
            parsed.append((index, fields))
    with transaction.atomic():
        changed = []
        for index, fields in parsed:
            observation, status = _upsert(**fields, source=source, now=now)
            observation.indicator, observation.unit, observation.station = (
                fields["indicator"],
                fields["unit"],
                fields["station"],
            )
            results[index] = {"index": index, "status": status, "id": observation.pk}
            if status != "unchanged":
                changed.append(observation)
        if changed:
            _after_changes(changed)
        # One entry per batch, with how many values it created or replaced.
        audit.record(
            action="observations.ingest",
            obj=Observation,
            unit=scope.unit,
            count=len(changed),
            label=source,
            detail={"items": len(items), "changed": len(changed)},
        )
    return results


def summarize(results: list[dict]) -> dict:
    return {s: sum(1 for r in results if r["status"] == s) for s in ("created", "replaced", "unchanged", "error")}


def subsystems_allowed(api_key) -> list[str]:
    """The subsystems an API key may report; empty means all of them."""
    source = IndicatorSource.objects.filter(api_key=api_key).first()
    return list(source.subsystems) if source else []


def indicator_source_set(*, api_key, subsystems: list[str], note: str = "") -> IndicatorSource:
    """Restrict (or, with an empty list, open) what an API key may report."""
    from indicators.models import IndicatorSubsystem

    known = set(IndicatorSubsystem.objects.values_list("code", flat=True))
    unknown = sorted(set(subsystems) - known)
    if unknown:
        raise ValidationError(_("Unknown subsystem(s): %(bad)s") % {"bad": ", ".join(unknown)})
    source, _created = IndicatorSource.objects.update_or_create(
        api_key=api_key, defaults={"subsystems": sorted(set(subsystems)), "note": note}
    )
    audit.record(action="indicator_source.set", obj=source, unit=api_key.unit)
    return source


# --- pull sources -----------------------------------------------------------------------------------


def pull_source_run(*, source) -> dict:
    """Fetch one pull source and ingest what it holds; the outcome is kept on the source."""
    from indicators.adapters import AdapterError, adapter_for
    from ioc.scope import Scope as UnitScope

    now = timezone.now()
    try:
        items = adapter_for(source.format, source.url).items()
        if not items:
            summary, message, status = summarize([]), _("The source held no observations."), "ok"
        else:
            summary, message = {}, ""
            for start in range(0, len(items), BATCH_MAX):
                chunk = observations_ingest(
                    items=items[start : start + BATCH_MAX],
                    source=f"pull:{source.name}"[:100],
                    scope=UnitScope(unit=source.unit),
                    subsystems=list(source.subsystems),
                    default_unit=source.unit,
                )
                for key, count in summarize(chunk).items():
                    summary[key] = summary.get(key, 0) + count
                errors = [r for r in chunk if r["status"] == "error"][:5]
                message += "".join(f"#{r['index'] + start}: {r['errors']}\n" for r in errors)
            status = "error" if summary["error"] and not (summary["created"] + summary["replaced"]) else "ok"
    except (AdapterError, ValidationError) as exc:
        summary, message, status = summarize([]), str(exc), "error"
    type(source).objects.filter(pk=source.pk).update(
        last_run_at=now, last_status=status, last_message=(message or str(summary))[:2000]
    )
    return {"source": source.name, "status": status, **summary}


def pull_sources_due(*, now=None) -> list:
    """Active pull sources whose schedule has come round, each claimed by this caller only.

    The claim is a conditional update of `last_run_at`, so two workers never run the same source.
    """
    from datetime import timedelta

    from indicators.models import PullSource

    now = now or timezone.now()
    due = []
    for source in PullSource.objects.filter(active=True).select_related("unit"):
        if source.last_run_at and now - source.last_run_at < timedelta(minutes=source.schedule_minutes):
            continue
        claimed = PullSource.objects.filter(pk=source.pk, last_run_at=source.last_run_at).update(last_run_at=now)
        if claimed:
            due.append(source)
    return due


# --- retention ----------------------------------------------------------------------------------


def archive_observation_days(start: datetime, end: datetime) -> int:
    """Roll the observations of [start, end) up by local day and series into ObservationDaily
    (count, min, max, total, last), and delete their history of replaced values, before retention
    drops them (ioc.partitions). Each day's row is recomputed, so running it twice counts nothing
    twice. Returns the day rows written."""
    table, daily = Observation._meta.db_table, ObservationDaily._meta.db_table
    history = ObservationRevision._meta.db_table
    window = {"zone": settings.TIME_ZONE, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {daily} (indicator_id, unit_id, station_id, day, count, minimum, maximum, total, last,
                                 last_period_start)
            SELECT indicator_id, unit_id, station_id, (period_start AT TIME ZONE %(zone)s)::date, count(*),
                   min(value), max(value), sum(value), (array_agg(value ORDER BY period_start DESC))[1],
                   max(period_start)
            FROM {table}
            WHERE period_start >= %(start)s AND period_start < %(end)s
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (indicator_id, unit_id, station_id, day) DO UPDATE SET
                count = EXCLUDED.count, minimum = EXCLUDED.minimum, maximum = EXCLUDED.maximum,
                total = EXCLUDED.total, last = EXCLUDED.last, last_period_start = EXCLUDED.last_period_start
            """,
            window,
        )
        written = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {history} WHERE observation_id IN "
            f"(SELECT id FROM {table} WHERE period_start >= %(start)s AND period_start < %(end)s)",
            window,
        )
    return written
