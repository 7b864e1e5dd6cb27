"""A year of field reports for `manage.py bench_data` (docs/scale.md): reports across every ward of the
demo province with the deadlines the SLA engine computes, the life each went through by now, and
its timeline; the sweeps' claims are set where a deadline passed, so a sweep run afterwards raises
nothing for the past."""

import hashlib
import math
from datetime import timedelta

from django.conf import settings

from ioc import registry, scale
from ioc.demo import CENTRES, PROVINCE
from ioc.models import Unit
from ioc.worktime import WorkCalendar
from reports.demo import DESCRIPTIONS, GENERIC_DESCRIPTION, PLACES
from reports.models import Category, Channel, Level, Report, ReportEvent, Status
from reports.services import CODE_ALPHABET, _policy

Action = ReportEvent.Action
REPORT_COLUMNS = [
    "id", "tracking_code", "secret_hash", "category_id", "level", "description", "latitude", "longitude", "address",
    "unit_id", "assigned_unit_id", "reporter_name", "reporter_phone", "channel", "status", "duplicate_of_id",
    "received_at", "accepted_at", "assigned_at", "first_answered_at", "resolved_at", "closed_at", "response_due_at",
    "resolution_due_at", "deadline_started_at", "rating", "response_warned_at", "response_overdue_at",
    "resolution_warned_at", "resolution_overdue_at", "unassigned_alerted_at",
]  # fmt: skip
EVENT_COLUMNS = ["report_id", "at", "action", "actor_label", "unit_id", "from_status", "to_status", "public"]
CHANNELS = ([Channel.APP, Channel.WEB, Channel.HOTLINE, Channel.OPEN311], [45, 25, 25, 5])
# Of every hundred reports: rejected at triage (spam, tests), marked duplicates of another.
REJECTED_SHARE, DUPLICATE_SHARE = 0.04, 0.03
# Answered after the answer deadline, by level: the province answers most reports on time.
LATE_SHARE = {Level.URGENT: 0.08, Level.COMPLEX: 0.18, Level.NORMAL: 0.12}
RESOLVED_LATE_SHARE = 0.1
STUCK_SHARE = 0.004  # reports someone forgot: still in triage or in a unit's hands long after their deadline
CLOSED_SHARE = 0.7  # resolved reports the citizen (or the centre) closed within a week
RATED_SHARE = 0.5
RATINGS = ([5, 4, 3, 2, 1], [45, 30, 12, 7, 6])
CODE_SPACE = len(CODE_ALPHABET) ** 8
CODE_STEP = 387_420_489  # 3**18: coprime with 31**8, so id -> code is one-to-one


def tracking_code(report_id: int) -> str:
    """PA- and eight letters, distinct for distinct ids, that look as random as the issued ones."""
    number = (report_id * CODE_STEP + 12_345_678) % CODE_SPACE
    letters = []
    for _ in range(8):
        number, digit = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[digit])
    return "PA-" + "".join(letters)


def _wards() -> list[Unit]:
    kinds = [Unit.Kind.WARD, Unit.Kind.COMMUNE, Unit.Kind.SPECIAL_ZONE]
    return list(Unit.objects.filter(path__startswith=f"/{PROVINCE}/", kind__in=kinds).order_by("code"))


def _centre(unit: Unit, rng) -> tuple[float, float]:
    if unit.latitude is not None and unit.longitude is not None:
        return unit.latitude, unit.longitude
    lat, lon = CENTRES[PROVINCE]
    return lat + rng.uniform(-0.35, 0.35), lon + rng.uniform(-0.45, 0.45)


def tables() -> list:
    return [Report, ReportEvent]


def generate(run: scale.Run) -> None:
    rng = run.rng("reports")
    wards = _wards()
    if not wards:
        raise RuntimeError("the demo province has no wards: load the demo city first")
    categories = list(Category.objects.filter(active=True).select_related("department").order_by("order", "code"))
    place_rng = run.rng("reports:places")
    centres = {unit.pk: _centre(unit, place_rng) for unit in wards}
    # A few busy urban wards, many quiet communes: weights fall with a shuffled rank.
    ranked = wards[:]
    run.rng("reports:weights").shuffle(ranked)
    busy = {"26080": 12.0, "26068": 14.0, "26089": 6.0}
    weights = [busy.get(u.code, 3.0 / math.sqrt(1 + ranked.index(u))) for u in wards]
    pick_ward = scale.weighted(rng, wards, weights)
    category_weights = [4 if c.default_level == Level.NORMAL else 2 if c.default_level == Level.COMPLEX else 1
                        for c in categories]  # fmt: skip
    pick_category = scale.weighted(rng, categories, category_weights)
    pick_channel = scale.weighted(rng, *CHANNELS)
    pick_rating = scale.weighted(rng, *RATINGS)
    calendar = scale.FastCalendar(WorkCalendar.load(), run.start - timedelta(days=2), run.now)
    policies = {(c.pk, level): _policy(c, level) for c in categories for level in Level.values}
    descriptions = {
        c.pk: [scale.csv_text(d) for d in DESCRIPTIONS.get(c.code, [])]
        or [scale.csv_text(GENERIC_DESCRIPTION.format(category=c.name))]
        for c in categories
    }
    places = {}
    for code, _lat, _lon, address, *_rest in PLACES:
        places.setdefault(code, []).append(scale.csv_text(address))
    moments = scale.Moments(run.start, run.now)
    now = run.now.timestamp()
    share = settings.IOC_REPORTS_DUE_SOON_SHARE
    urgent_assign = settings.IOC_REPORTS_URGENT_ASSIGN_MINUTES * 60
    first_id = scale.reserve_ids(Report, run.count)
    labels = {True: scale.csv_text("Citizen"), False: scale.csv_text("operator")}
    empty = '""'
    ts = scale.ts

    def expo(mean: float) -> float:
        return rng.expovariate(1 / mean)

    def rows():
        for n, received in enumerate(moments.sorted(rng, run.count)):
            report_id = first_id + n
            category = pick_category()
            level = category.default_level
            if level == Level.NORMAL and rng.random() < 0.04:
                level = Level.COMPLEX
            unit = pick_ward()
            channel = pick_channel()
            response_amount, response_unit, resolution_amount, resolution_unit = policies[(category.pk, level)]
            response_due = calendar.due(received, float(response_amount), response_unit)
            resolution_due = calendar.due(received, float(resolution_amount), resolution_unit)
            urgent = level == Level.URGENT
            accepted = assigned = answered = resolved = closed = started = None
            status = Status.RECEIVED
            duplicate_of = ""
            roll = rng.random()
            stuck = rng.random() < STUCK_SHARE
            triage = received + expo(480 if urgent else 3000)
            if roll < REJECTED_SHARE + DUPLICATE_SHARE and triage <= now and not stuck:
                if roll >= REJECTED_SHARE and n > 0:
                    status = Status.DUPLICATE
                    duplicate_of = str(first_id + max(0, n - 1 - int(rng.random() * 500)))
                else:
                    status = Status.REJECTED
                closed = triage
            elif triage <= now:
                accepted = triage
                status = Status.ACCEPTED
                handing = accepted + expo(600 if urgent else 1800)
                if stuck and rng.random() < 0.5:
                    handing = now + 1  # left without a unit
                if handing <= now:
                    assigned, status = handing, Status.ASSIGNED
                    window = max(600.0, response_due - assigned)
                    if rng.random() < LATE_SHARE[level]:
                        answer = max(assigned, response_due) + expo(0.4 * window)
                    else:
                        spread = response_due - assigned
                        answer = assigned + (spread * rng.random() ** 1.6 if spread > 0 else expo(1800))
                    start = assigned + (answer - assigned) * rng.random() * 0.6
                    if stuck:
                        answer = start = now + 1
                    if start <= now:
                        started, status = start, Status.IN_PROGRESS
                    if answer <= now:
                        answered, status = answer, Status.ANSWERED
                        left = max(600.0, resolution_due - answer)
                        if rng.random() < RESOLVED_LATE_SHARE or resolution_due <= answer:
                            done = max(answer, resolution_due) + expo(0.3 * left)
                        else:
                            done = answer + left * rng.random() ** 1.3
                        if done <= now:
                            resolved, status = done, Status.RESOLVED
                            if rng.random() < CLOSED_SHARE:
                                finish = done + rng.uniform(3600, 7 * 86400)
                                if finish <= now:
                                    closed, status = finish, Status.CLOSED
            handling = None
            if assigned is not None:
                department = category.department
                handling = department if department is not None and rng.random() < 0.45 else unit
            # The sweeps' claims: what they would have marked by now.
            response_end = min(now, answered) if answered is not None else now
            resolution_end = min(now, resolved) if resolved is not None else now
            warned_response = received + (response_due - received) * share
            warned_resolution = received + (resolution_due - received) * share
            lat, lon = centres[unit.pk]
            rating = pick_rating() if resolved is not None and rng.random() < RATED_SHARE else None
            hotline = channel == Channel.HOTLINE
            address = places.get(unit.code)
            row = (
                str(report_id),
                tracking_code(report_id),
                hashlib.sha256(f"scale:{run.seed}:{report_id}".encode()).hexdigest(),
                str(category.pk),
                level,
                rng.choice(descriptions[category.pk]),
                f"{lat + rng.gauss(0, 0.004):.6f}",
                f"{lon + rng.gauss(0, 0.004):.6f}",
                rng.choice(address) if address else empty,
                str(unit.pk),
                str(handling.pk) if handling is not None else "",
                empty,
                f'"09{int(rng.random() * 1e8):08d}"' if hotline else empty,
                channel,
                status,
                duplicate_of,
                ts(received),
                ts(accepted),
                ts(assigned),
                ts(answered),
                ts(resolved),
                ts(closed),
                ts(response_due),
                ts(resolution_due),
                ts(received),
                str(rating) if rating else "",
                ts(warned_response) if warned_response <= response_end else "",
                ts(response_due) if response_due <= response_end else "",
                ts(warned_resolution) if warned_resolution <= resolution_end else "",
                ts(resolution_due) if resolution_due <= resolution_end else "",
                ts(received + urgent_assign) if urgent and received + urgent_assign <= (assigned or now) else "",
            )
            yield 0, row
            rid, ward = row[0], row[9]
            yield 1, (rid, ts(received), Action.SUBMITTED, labels[not hotline], ward, empty, '"received"', "t")
            if closed is not None and accepted is None:
                action = Action.DUPLICATE if status == Status.DUPLICATE else Action.REJECTED
                yield 1, (rid, ts(closed), action, labels[False], ward, '"received"', f'"{status}"', "t")
                continue
            if accepted is not None:
                yield 1, (rid, ts(accepted), Action.ACCEPTED, labels[False], ward, '"received"', '"accepted"', "t")
            if assigned is not None:
                to = str(handling.pk)
                yield 1, (rid, ts(assigned), Action.ASSIGNED, labels[False], to, '"accepted"', '"assigned"', "t")
            if started is not None:
                yield 1, (rid, ts(started), Action.STARTED, empty, to, '"assigned"', '"in_progress"', "f")
            if answered is not None:
                yield 1, (rid, ts(answered), Action.ANSWERED, empty, to, '"in_progress"', '"answered"', "t")
            if resolved is not None:
                yield 1, (rid, ts(resolved), Action.RESOLVED, empty, to, '"answered"', '"resolved"', "t")
            if closed is not None:
                yield 1, (rid, ts(closed), Action.CLOSED, labels[True], to, '"resolved"', '"closed"', "t")

    run.copy_many([(Report, REPORT_COLUMNS), (ReportEvent, EVENT_COLUMNS)], rows())


GENERATOR = registry.ScaleGenerator(
    "reports",
    "reports",
    1_000_000,
    generate,
    tables,
    help="Field reports, with their timelines",
    app="reports",
    order=10,
)
