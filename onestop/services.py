"""Every write of the one-stop subsystem: dossier sync from the one-stop software, queue figures,
counter cameras, and the deadline sweep. One transaction each; figures announced after commit."""

import math
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from ioc import audit, bus
from ioc.errors import ValidationError
from ioc.ingest import moment_field, text_field
from ioc.models import Alert, Unit
from ioc.scope import Scope
from ioc.services import alert_raise, alert_resolve_by_key
from ioc.worktime import LOCAL_TZ, DurationUnit, WorkCalendar
from ioc.worktime import due_at as deadline_after
from onestop import conf
from onestop.models import (
    OPEN_STATUSES,
    Channel,
    Counter,
    Dossier,
    DossierMonth,
    DossierStatus,
    DossierStatusChange,
    DossierSupplement,
    Procedure,
    QueueFigure,
    Satisfaction,
)

SUBSYSTEM = "onestop"
FUTURE_TOLERANCE = timedelta(minutes=5)
SATISFACTION_WORDS = {
    "dislike": Satisfaction.DISLIKE,
    "neutral": Satisfaction.NEUTRAL,
    "satisfied": Satisfaction.SATISFIED,
}
DOSSIER_TIMES = ("submitted_at", "received_at", "due_at", "processing_ended_at", "returned_at")
DOSSIER_FLAGS = ("paid_online", "digitized", "electronic_result", "complaint")
APPLIED_FIELDS = [
    "procedure",
    "unit",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "status",
    "channel",
    *DOSSIER_TIMES,
    "has_fees",
    *DOSSIER_FLAGS,
    "satisfaction",
    "updated_at",
    "finished_at",
    "supplement_requested_at",
    "supplement_supplied_at",
    "second_supplement_requested_at",
    "extended_due_at",
    "due_soon_alerted_at",
    "overdue_alerted_at",
]


class ItemError(Exception):
    def __init__(self, errors: dict):
        self.errors = errors


# --- parsing one item ---------------------------------------------------------------------------


def _moment(item, field, errors, now, required=False) -> datetime | None:
    moment = moment_field(item, field, errors, required=required)
    if moment is None:
        return None
    if moment > now + FUTURE_TOLERANCE and field != "due_at":
        errors[field] = _("This time is in the future.")
        return None
    return moment


def _code_number(item, field, choices, errors) -> int | None:
    value = item.get(field)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in choices:
        errors[field] = _("Use one of: %(codes)s.") % {"codes": ", ".join(str(c) for c in choices)}
        return None
    return value


def _flag(item, field, errors, default=False) -> bool:
    value = item.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    errors[field] = _("Must be true or false.")
    return default


def _satisfaction(item, errors) -> int | None:
    value = item.get("satisfaction")
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().lower() in SATISFACTION_WORDS:
        return SATISFACTION_WORDS[value.strip().lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in Satisfaction.values:
        return value
    errors["satisfaction"] = _("Use dislike, neutral or satisfied (or 1, 2, 3).")
    return None


def _supplements(item, errors, now) -> list[tuple[datetime, datetime | None]]:
    value = item.get("supplements") or []
    if not isinstance(value, list):
        errors["supplements"] = _("Must be a list of {requested_at, supplied_at}.")
        return []
    found = []
    for number, entry in enumerate(value, start=1):
        inner: dict = {}
        if not isinstance(entry, dict):
            errors["supplements"] = _("Must be a list of {requested_at, supplied_at}.")
            return []
        requested = _moment(entry, "requested_at", inner, now, required=True)
        supplied = _moment(entry, "supplied_at", inner, now)
        if requested and supplied and supplied < requested:
            inner["supplied_at"] = _("Cannot be before the request.")
        if inner:
            errors[f"supplements.{number}"] = inner
            continue
        found.append((requested, supplied))
    found.sort(key=lambda pair: pair[0])
    return found


def parse_dossier(item, *, procedures: dict, units: dict, scope: Scope, now: datetime) -> dict:
    """Check one dossier as sent by the one-stop software; raise ItemError with per-field messages."""
    if not isinstance(item, dict):
        raise ItemError({"item": _("Each dossier must be a JSON object.")})
    errors: dict = {}
    code = text_field(item, "code", 64, errors, required=True)
    procedure = procedures.get(item.get("procedure")) if isinstance(item.get("procedure"), str) else None
    if procedure is None:
        errors["procedure"] = _("Unknown procedure code.")
    unit = units.get(item.get("unit")) if isinstance(item.get("unit"), str) else None
    if unit is None or not scope.contains(unit):
        errors["unit"] = _("Unknown unit, or not one of this key's area.")
    applicant = item.get("applicant") or {}
    if not isinstance(applicant, dict):
        errors["applicant"] = _("Must be an object {name, id_number, phone}.")
        applicant = {}
    parsed = {
        "code": code,
        "procedure": procedure,
        "unit": unit,
        "applicant_name": text_field(applicant, "name", 200, errors),
        "applicant_id_number": text_field(applicant, "id_number", 20, errors),
        "applicant_phone": text_field(applicant, "phone", 20, errors),
        "status": _code_number(item, "status", DossierStatus.values, errors),
        "channel": _code_number(item, "channel", Channel.values, errors),
        "updated_at": _moment(item, "updated_at", errors, now, required=True),
        **{field: _moment(item, field, errors, now) for field in DOSSIER_TIMES},
        **{field: _flag(item, field, errors) for field in DOSSIER_FLAGS},
        "has_fees": _flag(item, "has_fees", errors, default=procedure.has_fees if procedure else False),
        "satisfaction": _satisfaction(item, errors),
        "supplements": _supplements(item, errors, now),
    }
    if errors:
        raise ItemError(errors)
    return parsed


# --- dossier sync -------------------------------------------------------------------------------


def dossiers_upsert(*, items: list, scope: Scope) -> list[dict]:
    """Create or update dossiers by code; returns one result per item, in order.

    Results: created, updated, unchanged (same `updated_at` as stored: a repeat), stale (older than
    what is stored: not applied, but its status still enters the history), error (with per-field
    messages; the good items are stored). Items of one batch are applied in `updated_at` order.
    """
    if not isinstance(items, list) or not items:
        raise ValidationError({"dossiers": _("Send a list of dossiers.")})
    if len(items) > conf.BATCH_MAX:
        raise ValidationError({"dossiers": _("At most %(n)s dossiers per batch.") % {"n": conf.BATCH_MAX}})
    now = timezone.now()
    wanted_units = {i.get("unit") for i in items if isinstance(i, dict) and isinstance(i.get("unit"), str)}
    wanted_procedures = {
        i.get("procedure") for i in items if isinstance(i, dict) and isinstance(i.get("procedure"), str)
    }
    units = {u.code: u for u in Unit.objects.filter(code__in=wanted_units)}
    procedures = {p.code: p for p in Procedure.objects.filter(code__in=wanted_procedures)}

    results: list[dict] = [None] * len(items)  # type: ignore[list-item]
    parsed: list[tuple[int, dict]] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, parse_dossier(item, procedures=procedures, units=units, scope=scope, now=now)))
        except ItemError as bad:
            code = item.get("code") if isinstance(item, dict) and isinstance(item.get("code"), str) else None
            results[index] = {"index": index, "code": code, "status": "error", "errors": bad.errors}
    if not parsed:
        return results

    calendar = WorkCalendar.load()
    touched_units: dict[int, Unit] = {}
    with transaction.atomic():
        stored = {
            d.code: d
            for d in Dossier.objects.select_for_update(of=("self",))
            .select_related("unit")
            .filter(code__in={p["code"] for _i, p in parsed})
        }
        before_keys = {rollup_key(d) for d in stored.values()}  # the months a changed dossier leaves
        created: dict[str, Dossier] = {}
        changed: dict[str, Dossier] = {}
        supplements: dict[str, list] = {}
        history: list[tuple[str, int, datetime]] = []
        for index, p in sorted(parsed, key=lambda pair: pair[1]["updated_at"]):
            code = p["code"]
            dossier = stored.get(code)
            if dossier is not None and not scope.contains(dossier.unit):
                results[index] = {
                    "index": index,
                    "code": code,
                    "status": "error",
                    "errors": {"code": _("This dossier belongs to a unit outside this key's area.")},
                }
                continue
            history.append((code, p["status"], p["updated_at"]))
            if dossier is None:
                dossier = Dossier(code=code)
                _apply(dossier, p, calendar)
                stored[code] = created[code] = dossier
                outcome = "created"
            elif p["updated_at"] < dossier.updated_at:
                outcome = "stale"
            elif p["updated_at"] == dossier.updated_at:
                outcome = "unchanged"
            else:
                touched_units[dossier.unit_id] = dossier.unit
                _apply(dossier, p, calendar)
                if code not in created:
                    changed[code] = dossier
                outcome = "updated"
            if outcome in ("created", "updated"):
                supplements[code] = p["supplements"]
                touched_units[dossier.unit_id] = dossier.unit
            results[index] = {"index": index, "code": code, "status": outcome}

        Dossier.objects.bulk_create(created.values(), batch_size=500)
        if changed:
            _update_rows(list(changed.values()), now)
            DossierSupplement.objects.filter(dossier__in=[d.pk for d in changed.values()]).delete()
        DossierSupplement.objects.bulk_create(
            [
                DossierSupplement(dossier=stored[code], number=number, requested_at=requested, supplied_at=supplied)
                for code, entries in supplements.items()
                for number, (requested, supplied) in enumerate(entries, start=1)
            ],
            batch_size=1000,
        )
        DossierStatusChange.objects.bulk_create(
            [DossierStatusChange(dossier=stored[code], status=status, at=at) for code, status, at in history],
            batch_size=1000,
            ignore_conflicts=True,
        )
        for result in results:
            if result.get("status") in ("created", "updated"):
                result["id"] = stored[result["code"]].pk
        rollup_refresh(before_keys | {rollup_key(d) for d in [*created.values(), *changed.values()]})
        for unit in touched_units.values():
            bus.publish_kpis(subsystem=SUBSYSTEM, unit=unit)
        # One entry per batch, with how many dossiers it created and updated.
        audit.record(
            action="dossiers.upsert",
            obj=Dossier,
            unit=scope.unit,
            count=len(created) + len(changed),
            detail={"items": len(items), "created": len(created), "updated": len(changed)},
        )
    return results


def _update_rows(dossiers: list[Dossier], now: datetime) -> None:
    """One UPDATE ... FROM (VALUES ...) per 500 rows: Django's bulk_update builds a CASE per field
    and row in Python, which measured at about 200 dossiers a second."""
    fields = [Dossier._meta.get_field(name) for name in APPLIED_FIELDS]
    columns = ", ".join(f'"{f.column}" = v."{f.column}"' for f in fields)
    template = "(%s, " + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
    names = ", ".join(["id"] + [f'"{f.column}"' for f in fields])
    sql = (
        f'UPDATE "{Dossier._meta.db_table}" AS d SET {columns}, "synced_at" = %s '
        f"FROM (VALUES {{rows}}) AS v({names}) WHERE d.id = v.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(dossiers), 500):
            chunk = dossiers[start : start + 500]
            values = []
            for dossier in chunk:
                values.append(dossier.pk)
                values.extend(f.get_db_prep_save(getattr(dossier, f.attname), connection) for f in fields)
            cursor.execute(sql.format(rows=", ".join([template] * len(chunk))), [now, *values])


def _apply(dossier: Dossier, p: dict, calendar: WorkCalendar) -> None:
    """Copy a parsed item onto the dossier and recompute what the indicators read."""
    before = (dossier.due_at, dossier.extended_due_at) if dossier.pk else None
    for field in ("procedure", "unit", "applicant_name", "applicant_id_number", "applicant_phone", "status",
                  "channel", *DOSSIER_TIMES, "has_fees", *DOSSIER_FLAGS, "satisfaction", "updated_at"):  # fmt: skip
        setattr(dossier, field, p[field])
    if dossier.due_at is None and dossier.received_at and dossier.procedure.duration_days is not None:
        dossier.due_at = deadline_after(
            dossier.received_at, dossier.procedure.duration_days, DurationUnit.WORKING_DAYS, calendar
        )
    dossier.finished_at = dossier.processing_ended_at or dossier.returned_at
    entries = p["supplements"]
    first = entries[0] if entries else (None, None)
    dossier.supplement_requested_at, dossier.supplement_supplied_at = first
    dossier.second_supplement_requested_at = entries[1][0] if len(entries) > 1 else None
    dossier.extended_due_at = None
    if dossier.due_at and first[1]:
        # The citizen's time (request to answer, in working time) does not count against the office.
        extra = calendar.working_time_between(first[0], first[1])
        dossier.extended_due_at = calendar.add_working_time(dossier.due_at, extra) if extra else dossier.due_at
    if before is not None and before != (dossier.due_at, dossier.extended_due_at):
        dossier.due_soon_alerted_at = dossier.overdue_alerted_at = None  # a new deadline earns new warnings


# --- monthly roll-ups of the Decision 766 counts ----------------------------------------------------
#
# One row per receiving unit, procedure, month received and month finished (DossierMonth), rebuilt
# for the (unit, procedure, month received) of every dossier a sync creates or changes, in the same
# transaction; `rollup_rebuild` redoes the whole table (after a bulk load). The counts follow
# onestop.selectors' definitions: the selectors read them for whole months and judge the rest (open
# dossiers, and those finished before a second supplement request) from the dossiers.

_MONTH = "date_trunc('month', d.received_at AT TIME ZONE %(tz)s)::date"
_ROLLED = (
    "d.finished_at IS NOT NULL AND d.status NOT IN (1, 3, 7, 8)"
    " AND (d.second_supplement_requested_at IS NULL OR d.second_supplement_requested_at <= d.finished_at)"
)
_ROLLUP_SELECT = f"""
    SELECT d.unit_id, d.procedure_id, {_MONTH},
        CASE WHEN {_ROLLED} THEN date_trunc('month', d.finished_at AT TIME ZONE %(tz)s)::date END AS finished_month,
        count(*) FILTER (WHERE {_ROLLED}),
        count(*) FILTER (WHERE {_ROLLED} AND d.second_supplement_requested_at IS NULL
            AND (d.due_at IS NULL OR d.finished_at <= COALESCE(d.extended_due_at, d.due_at))),
        count(*) FILTER (WHERE {_ROLLED} AND (d.complaint OR d.satisfaction = 1)),
        count(*) FILTER (WHERE d.status NOT IN (1, 3)),
        count(*) FILTER (WHERE d.status NOT IN (1, 3) AND d.due_at IS NOT NULL),
        count(*) FILTER (WHERE d.status NOT IN (1, 3) AND d.channel = {int(Channel.ONLINE)}),
        count(*) FILTER (WHERE d.status NOT IN (1, 3) AND d.digitized AND d.electronic_result),
        count(*) FILTER (WHERE d.status NOT IN (1, 3) AND d.has_fees),
        count(*) FILTER (WHERE d.status NOT IN (1, 3) AND d.has_fees AND d.paid_online)
    FROM "{Dossier._meta.db_table}" d
    WHERE d.received_at IS NOT NULL {{where}}
    GROUP BY 1, 2, 3, 4
"""
_ROLLUP_COLUMNS = (
    "unit_id, procedure_id, received_month, finished_month, handled, on_time, complaints, received, "
    "with_due_date, online, digitized, with_fees, paid_online"
)


def rollup_key(dossier: Dossier) -> tuple | None:
    """(unit, procedure, first day of the local month received) of a dossier; None when not received."""
    if dossier.received_at is None or dossier.unit_id is None:
        return None
    month = timezone.localtime(dossier.received_at, LOCAL_TZ).date().replace(day=1)
    return dossier.unit_id, dossier.procedure_id, month


def rollup_refresh(keys) -> None:
    """Recount the roll-up rows of these (unit, procedure, month) keys from the dossiers, inside the
    caller's transaction; a lock per key keeps two syncs of the same month from missing each other."""
    keys = sorted(k for k in keys if k is not None)
    table = DossierMonth._meta.db_table
    with connection.cursor() as cursor:
        for unit_id, procedure_id, month in keys:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"onestop-month:{unit_id}:{procedure_id}:{month}"]
            )
        for unit_id, procedure_id, month in keys:
            start = datetime.combine(month, datetime.min.time(), LOCAL_TZ)
            end = datetime.combine((month + timedelta(days=32)).replace(day=1), datetime.min.time(), LOCAL_TZ)
            cursor.execute(
                f'DELETE FROM "{table}" WHERE unit_id = %(unit)s AND procedure_id = %(procedure)s '
                "AND received_month = %(month)s",
                {"unit": unit_id, "procedure": procedure_id, "month": month},
            )
            where = (
                "AND d.unit_id = %(unit)s AND d.procedure_id = %(procedure)s "
                "AND d.received_at >= %(start)s AND d.received_at < %(end)s"
            )
            cursor.execute(
                f'INSERT INTO "{table}" ({_ROLLUP_COLUMNS}) ' + _ROLLUP_SELECT.format(where=where),
                {"tz": str(LOCAL_TZ), "unit": unit_id, "procedure": procedure_id, "start": start, "end": end},
            )


def rollup_rebuild() -> int:
    """Rebuild every roll-up row from the dossiers (after a bulk load); returns the number of rows."""
    table = DossierMonth._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        cursor.execute(f'DELETE FROM "{table}"')
        cursor.execute(
            f'INSERT INTO "{table}" ({_ROLLUP_COLUMNS}) ' + _ROLLUP_SELECT.format(where=""), {"tz": str(LOCAL_TZ)}
        )
        count = cursor.rowcount
        cursor.execute(f'ANALYZE "{table}"')
    return count


# --- counters and queues ------------------------------------------------------------------------


def queue_figures_record(*, items: list, scope: Scope) -> list[dict]:
    """Store queue figures per counter ({counter, waiting, average_wait_minutes, at}); one result per item.

    Idempotent on (counter, at). A counter's latest figures are replaced only by newer ones.
    """
    if not isinstance(items, list) or not items:
        raise ValidationError({"figures": _("Send a list of queue figures.")})
    if len(items) > conf.BATCH_MAX:
        raise ValidationError({"figures": _("At most %(n)s figures per batch.") % {"n": conf.BATCH_MAX}})
    now = timezone.now()
    codes = {i.get("counter") for i in items if isinstance(i, dict) and isinstance(i.get("counter"), str)}
    counters = {
        c.code: c
        for c in scope.filter(Counter.objects.filter(code__in=codes).select_related("office__unit"), "office__unit")
    }
    results: list[dict] = []
    with transaction.atomic():
        for index, item in enumerate(items):
            errors: dict = {}
            if not isinstance(item, dict):
                results.append({"index": index, "status": "error", "errors": {"item": _("Must be a JSON object.")}})
                continue
            counter = counters.get(item.get("counter")) if isinstance(item.get("counter"), str) else None
            if counter is None:
                errors["counter"] = _("Unknown counter, or not one of this key's area.")
            waiting = _count(item, "waiting", errors, required=True)
            average = item.get("average_wait_minutes")
            if average is not None and (
                isinstance(average, bool)
                or not isinstance(average, int | float)
                or math.isnan(average)
                or not 0 <= average <= 24 * 60
            ):
                errors["average_wait_minutes"] = _("Must be a number of minutes between 0 and 1440.")
            at = _moment(item, "at", errors, now) or now
            if errors:
                results.append({"index": index, "status": "error", "errors": errors})
                continue
            average = float(average) if average is not None else None
            _figure, made = QueueFigure.objects.get_or_create(
                counter=counter, at=at, defaults={"waiting": waiting, "average_wait_minutes": average}
            )
            if made and (counter.figures_at is None or at >= counter.figures_at):
                counter.waiting, counter.average_wait_minutes, counter.figures_at = waiting, average, at
                counter.save(update_fields=["waiting", "average_wait_minutes", "figures_at"])
                bus.publish_kpis(subsystem=SUBSYSTEM, unit=counter.office.unit)
            results.append({"index": index, "status": "created" if made else "duplicate"})
        audit.record(
            action="queue_figures.record",
            obj=QueueFigure,
            unit=scope.unit,
            count=sum(1 for r in results if r["status"] == "created"),
            detail={"items": len(items)},
        )
    return results


def _count(item, field, errors, required=False) -> int | None:
    value = item.get(field)
    if value is None:
        if required:
            errors[field] = _("This field is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        errors[field] = _("Must be a whole number between 0 and 100000.")
        return None
    return value


def in_working_hours(moment: datetime, calendar: WorkCalendar) -> bool:
    """Whether `moment` falls inside a working session of a working day."""
    return calendar.add_working_time(moment, timedelta(0)) == moment


def counter_events(*, events) -> None:
    """Counter-camera events stored by traffic ingestion: "unattended" in working hours raises an alert,
    outside working hours it does not; "attended" resolves it. Called inside the ingestion transaction."""
    relevant = [e for e in events if e.kind.code in ("unattended", "attended")]
    if not relevant:
        return
    calendar = WorkCalendar.load()
    counters = {c.camera_id: c for c in Counter.objects.filter(camera_id__in={e.camera_id for e in relevant})}
    for event in sorted(relevant, key=lambda e: e.occurred_at):
        camera = event.camera
        counter = counters.get(camera.pk)
        key = f"onestop:counter:{camera.code}:unattended"
        name = counter.name if counter else camera.name
        if event.kind.code == "attended":
            alert_resolve_by_key(dedup_key=key, note=_("Staff are back at the counter."))
            if counter is not None and counter.unattended_since is not None:
                counter.unattended_since = None
                counter.save(update_fields=["unattended_since"])
        elif in_working_hours(event.occurred_at, calendar):
            alert_raise(
                subsystem=SUBSYSTEM,
                severity="warning",
                unit=camera.unit,
                dedup_key=key,
                title=_("Counter unattended in working hours: %(name)s") % {"name": name},
                detail=_("Camera %(camera)s saw nobody at the counter at %(at)s.")
                % {"camera": camera.code, "at": timezone.localtime(event.occurred_at).strftime("%H:%M")},
                subject_type="onestop.counter" if counter else "traffic.camera",
                subject_id=counter.code if counter else camera.code,
            )
            if counter is not None and counter.unattended_since is None:
                counter.unattended_since = event.occurred_at
                counter.save(update_fields=["unattended_since"])
        if counter is not None:
            bus.publish_kpis(subsystem=SUBSYSTEM, unit=camera.unit)


# --- deadline warnings --------------------------------------------------------------------------


def effective_due():
    """The due moment with the citizen's supplement time added (SQL expression)."""
    return Coalesce(F("extended_due_at"), F("due_at"))


def overdue_at(now: datetime) -> Q:
    """Past the due moment (extended by supplement time) at `now`."""
    return Q(extended_due_at__lte=now) | Q(extended_due_at__isnull=True, due_at__lte=now)


def open_dossiers():
    """Dossiers the office still owes a result on, the clock running (not waiting on the citizen)."""
    return (
        Dossier.objects.filter(status__in=OPEN_STATUSES, finished_at__isnull=True)
        .exclude(status=DossierStatus.SUPPLEMENT_REQUESTED)
        .alias(effective_due=effective_due())
    )


def deadline_sweep(now=None) -> dict:
    """Soon-due and overdue dossiers become one alert per unit and kind (a beat task; safe to repeat).

    Each dossier is counted once per deadline and kind (claimed under a row lock); an alert is resolved
    when its unit has no such dossier left.
    """
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    soon_limit = calendar.add_working_time(now, timedelta(hours=conf.DUE_SOON_WORKING_HOURS))
    counts = {"due_soon": 0, "overdue": 0, "resolved": 0}
    kinds = [
        ("overdue", "overdue_alerted_at", {"effective_due__lte": now}, "critical"),
        ("due_soon", "due_soon_alerted_at", {"effective_due__gt": now, "effective_due__lte": soon_limit}, "warning"),
    ]
    for kind, flag, window, severity in kinds:
        fresh: dict[int, list[str]] = defaultdict(list)
        with transaction.atomic():
            # Rows another sweep holds are skipped; it counts them. Two queries, however many dossiers.
            claimed = list(
                open_dossiers()
                .filter(**window, **{flag: None})
                .select_for_update(skip_locked=True)
                .values_list("pk", "unit_id", "code")
            )
            Dossier.objects.filter(pk__in=[pk for pk, _u, _c in claimed]).update(**{flag: now})
        for _pk, unit_id, code in claimed:
            fresh[unit_id].append(code)
        units = Unit.objects.in_bulk(fresh)
        for unit_id, codes in fresh.items():
            unit = units[unit_id]
            _raise_deadline_alert(unit, kind, severity, codes, open_dossiers().filter(unit=unit, **window).count())
            counts[kind] += len(codes)
        # Resolve the alerts of units with nothing left in this band.
        for alert in Alert.objects.filter(subsystem=SUBSYSTEM, dedup_key__endswith=f":dossiers:{kind}").exclude(
            state=Alert.State.RESOLVED
        ):
            if not open_dossiers().filter(unit_id=alert.unit_id, **window).exists():
                alert_resolve_by_key(dedup_key=alert.dedup_key, note=_("No dossier left in this band."))
                counts["resolved"] += 1
    return counts


def _raise_deadline_alert(unit: Unit, kind: str, severity: str, codes: list[str], total: int) -> None:
    if kind == "overdue":
        title = _("%(unit)s: %(n)s dossier(s) overdue") % {"unit": unit.name, "n": total}
    else:
        title = _("%(unit)s: %(n)s dossier(s) due soon") % {"unit": unit.name, "n": total}
    shown = ", ".join(sorted(codes)[:20]) + (" …" if len(codes) > 20 else "")
    alert_raise(
        subsystem=SUBSYSTEM,
        severity=severity,
        unit=unit,
        dedup_key=f"onestop:{unit.code}:dossiers:{kind}",
        title=title,
        detail=_("Newly in this band: %(codes)s") % {"codes": shown},
        subject_type="onestop.unit",
        subject_id=unit.code,
    )
