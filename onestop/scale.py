"""A year of one-stop dossiers for `manage.py bench_data` (docs/scale.md): dossiers received at the demo
offices in working hours, due dates from the procedures' legal durations in working days, most
finished on time and some late, supplement requests that stop the clock, the Decision 766 fields
(online, fees paid online, digitized, satisfaction, complaints), their supplements and status history,
computed as `onestop.services._apply` would; then the monthly roll-ups are rebuilt."""

from datetime import timedelta

from ioc import registry, scale
from ioc.worktime import WorkCalendar
from onestop.demo import FAMILY, GIVEN, MIDDLE, PROCEDURE_WEIGHTS, UNIT_WEIGHTS
from onestop.models import (
    Dossier,
    DossierMonth,
    DossierStatus,
    DossierStatusChange,
    DossierSupplement,
    Office,
    Procedure,
)

S = DossierStatus
DOSSIER_COLUMNS = [
    "id", "code", "procedure_id", "unit_id", "applicant_name", "applicant_id_number", "applicant_phone", "status",
    "channel", "submitted_at", "received_at", "due_at", "processing_ended_at", "returned_at", "has_fees", "paid_online",
    "digitized", "electronic_result", "satisfaction", "complaint", "updated_at", "finished_at",
    "supplement_requested_at", "supplement_supplied_at", "second_supplement_requested_at", "extended_due_at",
    "due_soon_alerted_at", "overdue_alerted_at",
]  # fmt: skip
SUPPLEMENT_COLUMNS = ["dossier_id", "number", "requested_at", "supplied_at"]
HISTORY_COLUMNS = ["dossier_id", "status", "at"]
# Office hours (07:30-11:30, 13:30-17:00): dossiers are received at the counters, online ones taken in then.
OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 3, 8, 8, 8, 5, 0.3, 4, 8, 8, 6, 0.3, 0, 0, 0, 0, 0, 0)
OFFICE_DAYS = (1, 1, 1, 1, 1, 0.08, 0.0)
ONLINE_SHARE = 0.38
LATE_SHARE = 0.07
SUPPLEMENT_SHARE, SUPPLIED_SHARE, SECOND_SHARE = 0.08, 0.9, 0.15
NOT_ACCEPTED_SHARE, WITHDRAWN_SHARE, STOPPED_SHARE = 0.02, 0.01, 0.004
RETURNED_SHARE = 0.85
SATISFACTION = ([3, 2, 1], [80, 15, 5])
RATED_SHARE, COMPLAINT_SHARE = 0.6, 0.004


def tables() -> list:
    return [Dossier, DossierSupplement, DossierStatusChange, DossierMonth]


def refresh() -> None:
    from onestop.services import rollup_rebuild

    rollup_rebuild()


def generate(run: scale.Run) -> None:
    rng = run.rng("onestop")
    offices = list(Office.objects.filter(active=True).select_related("unit").order_by("unit__code"))
    procedures = list(Procedure.objects.filter(active=True, duration_days__isnull=False).order_by("code"))
    if not offices or not procedures:
        raise RuntimeError("no demo offices or procedures: load the demo city first")
    pick_unit = scale.weighted(rng, [o.unit for o in offices], [UNIT_WEIGHTS.get(o.unit.code, 2) for o in offices])
    pick_procedure = scale.weighted(rng, procedures, [PROCEDURE_WEIGHTS.get(p.code, 2) for p in procedures])
    pick_satisfaction = scale.weighted(rng, *SATISFACTION)
    calendar = scale.FastCalendar(WorkCalendar.load(), run.start - timedelta(days=2), run.now)
    moments = scale.Moments(run.start, run.now, hourly=OFFICE_HOURS, weekly=OFFICE_DAYS)
    now = run.now.timestamp()
    first = scale.reserve_ids(Dossier, run.count)
    ts, csv_text = scale.ts, scale.csv_text
    flag = {True: "t", False: "f"}
    names = [csv_text(f"{f} {m} {g}") for f in FAMILY for m in MIDDLE for g in GIVEN]

    def expo(mean: float) -> float:
        return rng.expovariate(1 / mean)

    def rows():
        for n, received in enumerate(moments.sorted(rng, run.count)):
            dossier_id = first + n
            unit, procedure = pick_unit(), pick_procedure()
            online = rng.random() < ONLINE_SHARE
            submitted = received - expo(36_000) if online else received
            due = calendar.due(received, float(procedure.duration_days), "working_days")
            window = max(3600.0, due - received)
            history = [(S.RECEIVED, received)]
            supplements = []
            extended = None
            ended = returned = None
            roll = rng.random()
            if roll < NOT_ACCEPTED_SHARE + WITHDRAWN_SHARE + STOPPED_SHARE:
                status = S.NOT_ACCEPTED if roll < NOT_ACCEPTED_SHARE else S.WITHDRAWAL_REQUESTED
                if roll >= NOT_ACCEPTED_SHARE + WITHDRAWN_SHARE:
                    status = S.STOPPED
                at = min(now, received + expo(window / 3))
                history.append((status, at))
                updated = at
            else:
                started = received + min(window / 4, expo(3600))
                if rng.random() < SUPPLEMENT_SHARE:
                    requested = received + window * rng.uniform(0.1, 0.7)
                    supplied = requested + expo(3 * 86400) if rng.random() < SUPPLIED_SHARE else None
                    supplements.append((requested, supplied))
                    if supplied is not None and rng.random() < SECOND_SHARE:
                        again = supplied + window * rng.uniform(0.05, 0.3)
                        supplements.append((again, again + expo(2 * 86400)))
                    if supplied is not None:
                        extra = calendar.between(requested, supplied)
                        extended = calendar.add(due, extra) if extra else due
                limit = extended or due
                if rng.random() < LATE_SHARE:
                    end = limit + expo(0.3 * window)
                else:
                    end = received + (limit - received) * rng.random() ** 0.7
                waiting = supplements and (supplements[-1][1] is None)
                if supplements:
                    end = max(end, (supplements[-1][1] or now + 1) + 600)
                status = S.RECEIVED
                if started <= now:
                    status = S.IN_PROCESS
                    history.append((S.IN_PROCESS, started))
                for requested, supplied in supplements:
                    if requested <= now:
                        status = S.SUPPLEMENT_REQUESTED
                        history.append((S.SUPPLEMENT_REQUESTED, requested))
                    if supplied is not None and supplied <= now:
                        status = S.IN_PROCESS
                        history.append((S.IN_PROCESS, supplied))
                if not waiting and end <= now:
                    ended, status = end, S.PROCESSED
                    history.append((S.PROCESSED, end))
                    if rng.random() < RETURNED_SHARE:
                        back = end + expo(86400)
                        if back <= now:
                            returned, status = back, S.RETURNED
                            history.append((S.RETURNED, back))
                elif status == S.IN_PROCESS and procedure.has_fees and rng.random() < 0.03:
                    status = S.FEES_OWED
                    history.append((S.FEES_OWED, min(now, started + 600)))
                updated = max(at for _s, at in history)
                # What the office knows by now: the requests made so far, the answers given so far.
                supplements = [
                    (r, sup if sup is not None and sup <= now else None) for r, sup in supplements if r <= now
                ]
                extended = None
                if supplements and supplements[0][1] is not None:
                    extra = calendar.between(*supplements[0])
                    extended = calendar.add(due, extra) if extra else due
            finished = ended if ended is not None else returned
            is_open = status in (S.RECEIVED, S.IN_PROCESS, S.SUPPLEMENT_REQUESTED, S.FEES_OWED) and finished is None
            limit = extended or due
            overdue = is_open and limit <= now
            has_fees = procedure.has_fees
            rated = finished is not None and rng.random() < RATED_SHARE
            yield (
                0,
                (
                    str(dossier_id),
                    f'"{unit.code}-{dossier_id:08d}"',
                    str(procedure.pk),
                    str(unit.pk),
                    names[int(rng.random() * len(names))],
                    f'"0{int(rng.random() * 1e11):011d}"',
                    f'"09{int(rng.random() * 1e8):08d}"',
                    str(int(status)),
                    "2" if online else "1",
                    ts(submitted),
                    ts(received),
                    ts(due),
                    ts(ended),
                    ts(returned),
                    flag[has_fees],
                    flag[has_fees and online and rng.random() < 0.7],
                    flag[rng.random() < 0.75],
                    flag[rng.random() < 0.55],
                    str(pick_satisfaction()) if rated else "",
                    flag[finished is not None and rng.random() < COMPLAINT_SHARE],
                    ts(updated),
                    ts(finished),
                    ts(supplements[0][0]) if supplements else "",
                    ts(supplements[0][1]) if supplements else "",
                    ts(supplements[1][0]) if len(supplements) > 1 else "",
                    ts(extended),
                    ts(limit) if overdue else "",
                    ts(limit) if overdue else "",
                ),
            )
            did = str(dossier_id)
            for number, (requested, supplied) in enumerate(supplements, start=1):
                yield 1, (did, str(number), ts(requested), ts(supplied))
            seen = set()
            for state, at in history:
                key = (state, int(at))
                if key not in seen:
                    seen.add(key)
                    yield 2, (did, str(int(state)), ts(at))

    run.copy_many(
        [(Dossier, DOSSIER_COLUMNS), (DossierSupplement, SUPPLEMENT_COLUMNS), (DossierStatusChange, HISTORY_COLUMNS)],
        rows(),
    )


GENERATOR = registry.ScaleGenerator(
    "onestop",
    "dossiers",
    1_000_000,
    generate,
    tables,
    help="One-stop dossiers, with their supplements and status history",
    refresh=refresh,
    app="onestop",
    order=30,
)
