"""Every step of a field report's handling. One transaction each; announced live after commit.

The steps are one table (`STEPS`: who may take each, from which status to which, and which alerts
it ends) applied by one helper, `_taking()`: it checks the caller's role and scope, locks the report
row (a second operator acting at the same moment waits, then gets a clear conflict), runs the
step's own work, writes the timeline and announces the new state.
"""

import hashlib
import hmac
import logging
import re
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode

from django.conf import settings
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ioc import audit, bus, geo, jobs, notify
from ioc.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ioc.models import Unit, User
from ioc.photos import clean_photo, new_uid
from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF, has_role
from ioc.scope import scope_for
from ioc.services import alert_raise, alert_resolve_by_key, directive_issue
from ioc.worktime import DurationUnit, WorkCalendar, due_at
from ioc.worktime import due_at as ioc_due_at
from reports import selectors, triage
from reports.models import (
    OPEN_STATUSES,
    RATABLE_STATUSES,
    REOPENABLE_STATUSES,
    WORKING_STATUSES,
    Category,
    Channel,
    DeadlinePolicy,
    Level,
    Report,
    ReportAnswer,
    ReportEvent,
    ReportPhoto,
    Status,
    TriageModel,
    TriageSuggestion,
)

log = logging.getLogger(__name__)


class AlertKind(StrEnum):
    """The alerts a report raises, one open alert of each kind per report (`reports:<id>:<kind>`)."""

    URGENT = "urgent"
    UNASSIGNED = "unassigned"
    RESPONSE_DUE_SOON = "response-due-soon"
    RESPONSE_OVERDUE = "response-overdue"
    RESOLUTION_DUE_SOON = "resolution-due-soon"
    RESOLUTION_OVERDUE = "resolution-overdue"


# Which alerts a step ends: what the report no longer waits for.
ANSWER_ENDS = (AlertKind.URGENT, AlertKind.RESPONSE_DUE_SOON, AlertKind.RESPONSE_OVERDUE)
DEADLINES = (
    AlertKind.RESPONSE_DUE_SOON,
    AlertKind.RESPONSE_OVERDUE,
    AlertKind.RESOLUTION_DUE_SOON,
    AlertKind.RESOLUTION_OVERDUE,
)
Action = ReportEvent.Action
MAX_DESCRIPTION = 4000
PHONE = re.compile(r"\+?[0-9 .-]{8,20}")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone

# Used when no policy is configured for a category and level (see docs/reports.md).
DEFAULT_POLICIES = {
    Level.URGENT: (2, DurationUnit.CLOCK_HOURS, 4, DurationUnit.WORKING_HOURS),
    Level.COMPLEX: (8, DurationUnit.WORKING_HOURS, 10, DurationUnit.WORKING_DAYS),
    Level.NORMAL: (8, DurationUnit.WORKING_HOURS, 5, DurationUnit.WORKING_DAYS),
}


# --- shared helpers ----------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


TRACKING_CODE_LENGTH = 8  # after "PA-"
SECRET_GROUPS, SECRET_GROUP_LENGTH = 4, 4  # 16 letters of 31: about 79 bits, written K7QX-M2PD-9TRW-H4NC


def _new_secret() -> str:
    """The citizen's secret, in groups from the code's alphabet: nothing to confuse when copied from
    paper or read out over the phone."""
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(SECRET_GROUP_LENGTH)) for _ in range(SECRET_GROUPS)
    )


def _typed_secret(secret: str) -> str:
    """A secret as typed (any case, spaces or dashes anywhere) in the form it was issued in."""
    compact = re.sub(r"[\s\-_.]+", "", secret).upper()
    return "-".join(compact[i : i + SECRET_GROUP_LENGTH] for i in range(0, len(compact), SECRET_GROUP_LENGTH))


def normalize_tracking_code(code: str) -> str:
    """A tracking code as typed (any case, spaces or dashes around and inside) as it is stored: PA-XXXXXXXX."""
    compact = re.sub(r"[\s\-_.]+", "", code or "").upper()
    if len(compact) == len("PA") + TRACKING_CODE_LENGTH and compact.startswith("PA"):
        compact = compact[2:]
    return "PA-" + compact


def _new_tracking_code() -> str:
    for _attempt in range(10):
        code = "PA-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(TRACKING_CODE_LENGTH))
        # Plain SQL: this runs on every submission (the unique index on the column is the last word).
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT 1 FROM "{Report._meta.db_table}" WHERE tracking_code = %s', [code])
            if cursor.fetchone() is None:
                return code
    raise Conflict(_("Could not allocate a tracking code; try again."))


def _actor_label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return _("Citizen")
    if getattr(user, "api_key", None) is not None:
        return str(user)
    return user.get_full_name() or user.username


def _event(report, action, *, user=None, note="", public=False, unit=None, from_status="", label=None):
    ReportEvent.objects.create(
        report=report,
        at=timezone.now(),
        action=action,
        actor=user if isinstance(user, User) else None,
        actor_label=label if label is not None else _actor_label(user),
        unit=unit,
        from_status=from_status,
        to_status=report.status,
        note=note,
        public=public,
    )
    audit.record(action="report." + str(action), obj=report, unit=unit or report.unit)


# Plain SQL: it runs on every submission and every change of level (the ORM's Q() building cost
# more than the query). The category's own policy first, then the level's default.
_POLICY = (
    "SELECT response_amount, response_unit, resolution_amount, resolution_unit FROM "
    f'"{DeadlinePolicy._meta.db_table}" WHERE level = %s AND (category_id = %s OR category_id IS NULL) '
    "ORDER BY category_id IS NULL LIMIT 1"
)


def _policy(category: Category, level: str) -> tuple:
    """The category's own policy for the level, else the level's default, else the built-in one."""
    with connection.cursor() as cursor:
        cursor.execute(_POLICY, [level, category.pk])
        found = cursor.fetchone()
    return tuple(found) if found else DEFAULT_POLICIES[level]


def _set_deadlines(report: Report, start) -> None:
    """Deadlines from `start` under the policy of the report's category and level."""
    calendar = WorkCalendar.load()
    response_amount, response_unit, resolution_amount, resolution_unit = _policy(report.category, report.level)
    report.deadline_started_at = start
    report.response_due_at = due_at(start, response_amount, response_unit, calendar)
    report.resolution_due_at = due_at(start, resolution_amount, resolution_unit, calendar)
    # New deadlines: the sweeps may warn again about them.
    report.response_warned_at = report.response_overdue_at = None
    report.resolution_warned_at = report.resolution_overdue_at = None


def _locked(report_id: int, user) -> Report:
    """The report, row-locked, if the caller may see it; else 404."""
    queryset = Report.objects.select_for_update(of=("self",)).select_related("category", "unit", "assigned_unit")
    if user is not None:
        queryset = scope_for(user).filter(queryset, "unit", "assigned_unit")
    report = queryset.filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such report."))
    return report


def _require_status(report: Report, allowed, doing: str) -> None:
    if report.status not in allowed:
        raise Conflict(
            _("Cannot %(doing)s: the report is now “%(status)s”.")
            % {"doing": doing, "status": report.get_status_display()}
        )


def _clean_text(value: str, field: str, *, required=True, limit=MAX_DESCRIPTION) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": limit}})
    if "<" in value and ">" in value:
        raise ValidationError({field: _("Please write plain text, without HTML.")})
    return value


def _save_photos(report: Report, uploads, *, kind: str, answer: ReportAnswer | None = None) -> list[ReportPhoto]:
    uploads = list(uploads or [])
    if not uploads:
        return []
    if len(uploads) + report.photos.filter(kind=kind).count() > settings.IOC_PHOTOS_PER_REPORT:
        raise ValidationError({"photos": _("At most %(n)s photos.") % {"n": settings.IOC_PHOTOS_PER_REPORT}})
    cleaned = [clean_photo(upload) for upload in uploads]  # all checked before any is stored
    photos = []
    for content, extension in cleaned:
        photo = ReportPhoto(report=report, answer=answer, kind=kind, uid=new_uid(), extension=extension)
        photo.image.save(f"{photo.uid}.{extension}", content, save=False)
        photo.save()
        photos.append(photo)
    if photos:  # with the broker away, the thumbnail sweep makes them
        jobs.enqueue("reports.tasks.make_thumbnails", [p.pk for p in photos])
    return photos


def _announce(report: Report) -> None:
    from reports.selectors import report_live_state

    bus.publish(
        type="reports.report.updated",
        subsystem="reports",
        unit=report.unit,
        extra_units=[report.assigned_unit] if report.assigned_unit else [],
        data=report_live_state(report),
    )
    bus.publish_kpis(subsystem="reports", unit=report.unit)
    if report.assigned_unit and report.assigned_unit != report.unit:
        bus.publish_kpis(subsystem="reports", unit=report.assigned_unit)


def _finish_alerts(report: Report, *kinds: AlertKind) -> None:
    for kind in kinds:
        alert_resolve_by_key(dedup_key=f"reports:{report.pk}:{kind}", note=_("The report was handled."))


# --- submit -------------------------------------------------------------------------------------


def report_submit(
    *,
    category: Category,
    description: str,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str = "",
    unit: Unit | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    channel: str = Channel.WEB,
    photos=(),
    user=None,
) -> tuple[Report, str]:
    """A citizen (or an operator taking a hotline call) submits a report.

    Returns (report, secret); the secret lets the citizen follow, rate and reopen it and is
    shown once, like the tracking code is.
    """
    if not category.active:
        raise ValidationError({"category": _("This category is no longer in use.")})
    description = _clean_text(description, "description")
    address = _clean_text(address, "address", required=False, limit=300)
    if not category.allow_anonymous and not (reporter_phone or reporter_email):
        raise ValidationError({"reporter_phone": _("This category needs a phone number or an email to reply to.")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    reporter_email, reporter_phone = reporter_email.strip(), reporter_phone.strip()
    reporter_name = reporter_name.strip()
    for field, value in (("reporter_name", reporter_name), ("reporter_email", reporter_email)):
        limit = Report._meta.get_field(field).max_length
        if len(value) > limit:
            raise ValidationError({field: _("At most %(n)s characters.") % {"n": limit}})
    if reporter_email:
        try:
            validate_email(reporter_email)
        except ValidationError:
            raise ValidationError({"reporter_email": _("Enter a valid email address.")}) from None
    if reporter_phone and not PHONE.fullmatch(reporter_phone):
        raise ValidationError({"reporter_phone": _("Enter a phone number of 8 to 20 digits.")})
    geo.check_in_service_area(latitude, longitude)
    if latitude is not None:
        located = geo.locate_unit(latitude, longitude, chosen=unit)
    else:
        located = unit
    if located is None:
        raise ValidationError({"unit": _("Choose the commune or ward where the problem is, or share the location.")})

    secret = _new_secret()
    now = timezone.now()
    with transaction.atomic():
        report = Report(
            tracking_code=_new_tracking_code(),
            secret_hash=_hash_secret(secret),
            category=category,
            submitted_category=category,
            level=category.default_level,
            description=description,
            latitude=latitude,
            longitude=longitude,
            address=address,
            unit=located,
            reporter_name=reporter_name,
            reporter_phone=reporter_phone,
            reporter_email=reporter_email,
            channel=channel,
            status=Status.RECEIVED,
            received_at=now,
        )
        _set_deadlines(report, now)
        report.save()
        _save_photos(report, photos, kind=ReportPhoto.Kind.REPORT)
        _event(report, Action.SUBMITTED, user=user, public=True, unit=located)
        if report.level == Level.URGENT:
            _raise(report, AlertKind.URGENT, "critical", _("Urgent report %(code)s: %(category)s"))
        _announce(report)
    return report, secret


def _raise(report: Report, kind: AlertKind, severity: str, title: str, unit: Unit | None = None):
    return alert_raise(
        subsystem="reports",
        severity=severity,
        title=title % {"code": report.tracking_code, "category": report.category.name},
        unit=unit or report.handling_unit,
        dedup_key=f"reports:{report.pk}:{kind}",
        subject_type="reports.report",
        subject_id=str(report.pk),
    )


# --- the steps, as one table --------------------------------------------------------------------
#
# Who may take each step, from which status to which, and the alerts it ends. `_taking()` applies
# a row: role, lock, scope (404), status (409), then the step's own work, then the move, the
# timeline entry, the alerts it ends and the live update. A step not in a row's `moves` for the
# report's status is refused with the report's status named.

OPERATORS, HANDLERS, LEADERS, CITIZEN = "operators", "handlers", "leaders", "citizen"


def _back_to_unit(report: Report) -> str:
    """A reopened report goes back to the unit that had it, or to triage if none had."""
    return Status.ASSIGNED if report.assigned_unit else Status.RECEIVED


@dataclass(frozen=True)
class Step:
    action: str  # what the timeline records
    doing: str  # for "Cannot <doing>: the report is now ..."
    who: str
    moves: dict  # status before -> status after (or a function of the report)
    finishes: tuple = ()
    public: bool = True  # shown on the citizen's timeline


def _stays(*statuses) -> dict:
    return {status: status for status in statuses}


STEPS = {
    "accept": Step(Action.ACCEPTED, gettext_lazy("accept"), OPERATORS, {Status.RECEIVED: Status.ACCEPTED}),
    "reject": Step(
        Action.REJECTED,
        gettext_lazy("reject"),
        OPERATORS,
        {Status.RECEIVED: Status.REJECTED, Status.ACCEPTED: Status.REJECTED},
        finishes=(AlertKind.URGENT, AlertKind.UNASSIGNED),
    ),
    "duplicate": Step(
        Action.DUPLICATE,
        gettext_lazy("mark as duplicate"),
        OPERATORS,
        {Status.RECEIVED: Status.DUPLICATE, Status.ACCEPTED: Status.DUPLICATE},
        finishes=(AlertKind.URGENT, AlertKind.UNASSIGNED),
    ),
    "assign": Step(
        Action.ASSIGNED,
        gettext_lazy("assign"),
        OPERATORS,
        {Status.ACCEPTED: Status.ASSIGNED, **_stays(*WORKING_STATUSES)},
        finishes=(AlertKind.UNASSIGNED,),
    ),
    "hand_back": Step(
        Action.HANDED_BACK,
        gettext_lazy("hand back"),
        HANDLERS,
        {Status.ASSIGNED: Status.RECEIVED, Status.IN_PROGRESS: Status.RECEIVED},
        public=False,
    ),
    "start": Step(
        Action.STARTED,
        gettext_lazy("start work"),
        HANDLERS,
        {Status.ASSIGNED: Status.IN_PROGRESS, Status.ANSWERED: Status.IN_PROGRESS},
    ),
    "answer": Step(
        Action.ANSWERED,
        gettext_lazy("answer"),
        HANDLERS,
        {Status.ASSIGNED: Status.ANSWERED, **_stays(Status.IN_PROGRESS, Status.ANSWERED)},
        finishes=ANSWER_ENDS,
    ),
    "resolve": Step(
        Action.RESOLVED,
        gettext_lazy("resolve"),
        HANDLERS,
        dict.fromkeys(WORKING_STATUSES, Status.RESOLVED),
        finishes=(AlertKind.URGENT, *DEADLINES),
    ),
    "close": Step(
        Action.CLOSED,
        gettext_lazy("close"),
        OPERATORS,
        {Status.RESOLVED: Status.CLOSED, Status.ANSWERED: Status.CLOSED},
        finishes=DEADLINES,
    ),
    "reopen": Step(Action.REOPENED, gettext_lazy("reopen"), CITIZEN, dict.fromkeys(REOPENABLE_STATUSES, _back_to_unit)),
    "rate": Step(Action.RATED, gettext_lazy("rate"), CITIZEN, _stays(*RATABLE_STATUSES)),
    "directive": Step(
        Action.DIRECTIVE, gettext_lazy("give a directive on"), LEADERS, _stays(*OPEN_STATUSES), public=False
    ),
}


@dataclass
class _Taking:
    """A step under way: the locked report and what its timeline entry will say."""

    report: Report
    before: str
    action: str
    note: str = ""
    unit: Unit | None = None


def _require_role(step: Step, user, report: Report | None = None) -> None:
    if step.who == OPERATORS and not has_role(user, OPERATOR, ADMIN):
        raise PermissionDenied(_("Only operators can triage reports."))
    if step.who == LEADERS and not has_role(user, LEADER, ADMIN):
        raise PermissionDenied(_("Only leaders can give directives."))
    if step.who == HANDLERS and report is not None:
        # The assigned unit's staff (or an operator on its behalf) may work the report.
        if has_role(user, OPERATOR, ADMIN):
            return
        if (
            has_role(user, UNIT_STAFF, LEADER)
            and report.assigned_unit
            and scope_for(user).contains(report.assigned_unit)
        ):
            return
        raise PermissionDenied(_("Only the assigned unit's staff can do this."))


@contextmanager
def _taking(name: str, report_id: int, user):
    """Take step `name` on the report: yields a `_Taking` for the step's own work (see STEPS)."""
    step = STEPS[name]
    _require_role(step, user)
    with transaction.atomic():
        report = _locked(report_id, user if step.who != CITIZEN else None)
        _require_role(step, user, report)
        _require_status(report, tuple(step.moves), step.doing)
        taking = _Taking(
            report, report.status, step.action, unit=report.assigned_unit if step.who == HANDLERS else None
        )
        yield taking
        after = step.moves[taking.before]
        report.status = after(report) if callable(after) else after
        report.save()
        _event(
            report,
            taking.action,
            user=user,
            note=taking.note,
            public=step.public,
            unit=taking.unit,
            from_status=taking.before,
        )
        _finish_alerts(report, *step.finishes)
        _announce(report)


# --- triage (operators) -------------------------------------------------------------------------


def report_accept(*, report_id: int, user, category: Category | None = None, level: str | None = None, note=""):
    """Triage: confirm the category and set the level; deadlines follow the level."""
    with _taking("accept", report_id, user) as taking:
        if level is not None and level not in Level.values:
            raise ValidationError({"level": _("Level must be urgent, complex or normal.")})
        report, taking.note = taking.report, note
        report.category = category or report.category
        report.level = level or report.level
        report.accepted_at = timezone.now()
        report.returned = False
        _set_deadlines(report, report.received_at)  # deadlines run from receipt, not triage
        if report.level == Level.URGENT:
            _raise(report, AlertKind.URGENT, "critical", _("Urgent report %(code)s: %(category)s"))
        else:  # triage found it was not urgent after all
            _finish_alerts(report, AlertKind.URGENT)
        _triage_decided(report)
    return report


def report_reject(*, report_id: int, user, reason: str):
    with _taking("reject", report_id, user) as taking:
        taking.note = _clean_text(reason, "reason", limit=1000)
        taking.report.closed_at = timezone.now()
        _triage_decided(taking.report, rejected=True)
    return taking.report


def report_mark_duplicate(*, report_id: int, user, parent_id: int, note=""):
    if parent_id == report_id:
        raise ValidationError({"parent": _("A report cannot duplicate itself.")})
    with _taking("duplicate", report_id, user) as taking:
        parent = scope_for(user).filter(Report.objects.all(), "unit", "assigned_unit").filter(pk=parent_id).first()
        if parent is None:
            raise ValidationError({"parent": _("The original report was not found.")})
        if parent.duplicate_of_id:
            parent = parent.duplicate_of
        taking.report.duplicate_of = parent
        taking.report.closed_at = timezone.now()
        taking.note = note or _("Same problem as report %(code)s.") % {"code": parent.tracking_code}
    return taking.report


def report_assign(*, report_id: int, user, unit: Unit, note=""):
    """Assign (or reassign) the report to the unit that must handle it."""
    with _taking("assign", report_id, user) as taking:
        if not scope_for(user).contains(unit):
            raise ValidationError({"unit": _("That unit is outside your area.")})
        report = taking.report
        if report.assigned_unit == unit:
            raise Conflict(_("The report is already assigned to %(unit)s.") % {"unit": unit.name})
        if report.assigned_unit:
            taking.action = Action.REASSIGNED
        taking.note, taking.unit = note, unit
        report.assigned_unit = unit
        report.assigned_at = timezone.now()
        TriageSuggestion.objects.filter(report=report).update(final_unit=unit)
        notify.notify_users(
            _unit_people(unit, UNIT_STAFF, LEADER),
            subject=_("New report %(code)s for %(unit)s") % {"code": report.tracking_code, "unit": unit.name},
            body=_("%(category)s at %(place)s. Answer due %(due)s.")
            % {
                "category": report.category.name,
                "place": report.address or report.unit.name,
                "due": timezone.localtime(report.response_due_at).strftime("%H:%M %d/%m/%Y"),
            },
        )
    return report


def _unit_people(unit: Unit, *roles: str):
    return User.objects.filter(home_unit=unit, is_active=True, groups__name__in=roles).distinct()


# --- hotline calls (operators) -------------------------------------------------------------------

# Mobiles have 10 digits (03, 05, 07, 08, 09...), landlines 11 (02 and the area code).
VN_PHONE = re.compile(r"0(?:[35789][0-9]{8}|2[0-9]{9})")


def normalise_phone(value: str) -> str:
    """A Vietnamese number as dialled at home: '+84 912.345.678', '0084 912345678', '0912-345-678' all
    give '0912345678', so one caller is one number whoever typed it."""
    digits = re.sub(r"[\s().-]", "", value or "")
    for prefix in ("+84", "0084", "84"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (9, 10):
            digits = "0" + digits[len(prefix) :]
            break
    if not VN_PHONE.fullmatch(digits):
        raise ValidationError(
            {"reporter_phone": _("Enter a Vietnamese phone number: 10 digits for a mobile, 11 for a landline.")}
        )
    return digits


def report_take_call(
    *,
    user,
    category: Category,
    description: str,
    reporter_phone: str,
    reporter_name: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    address: str = "",
    unit: Unit | None = None,
    level: str | None = None,
    assign_to: Unit | None = None,
    tracking_page: str = "",
) -> tuple[Report, str]:
    """An operator records a hotline call. The report enters triaged: accepted at `level` (the
    category's default when None) and assigned to `assign_to` when given, in one transaction, so a
    refusal anywhere writes nothing. The caller gets the tracking code and secret by text message
    (`tracking_page`: the portal's tracking page, linked with both)."""
    if not has_role(user, OPERATOR, ADMIN):
        raise PermissionDenied(_("Only operators record hotline calls."))
    phone = normalise_phone(reporter_phone)
    if level is not None and level not in Level.values:
        raise ValidationError({"level": _("Level must be urgent, complex or normal.")})
    scope = scope_for(user)
    if assign_to is not None and not scope.contains(assign_to):
        raise ValidationError({"assign_to": _("That unit is outside your area.")})
    with transaction.atomic():
        report, secret = report_submit(
            category=category,
            description=description,
            latitude=latitude,
            longitude=longitude,
            address=address,
            unit=unit,
            reporter_name=reporter_name,
            reporter_phone=phone,
            channel=Channel.HOTLINE,
            user=user,
        )
        if not scope.contains(report.unit):
            raise ValidationError({"location": _("This place is outside your area.")})
        report = report_accept(report_id=report.pk, user=user, level=level)
        if assign_to is not None:
            report = report_assign(report_id=report.pk, user=user, unit=assign_to)
        _text_tracking(report, secret, tracking_page)
    return report, secret


def _text_tracking(report: Report, secret: str, tracking_page: str) -> None:
    # The caller spoke Vietnamese to the centre, whatever language the operator's screen is in.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Report %(code)s received") % {"code": report.tracking_code}
        body = _("Tracking code %(code)s, secret %(secret)s. Keep both to follow your report.") % {
            "code": report.tracking_code,
            "secret": secret,
        }
        if tracking_page:
            link = tracking_page + "?" + urlencode({"code": report.tracking_code, "secret": secret})
            body += " " + _("Follow it at %(url)s") % {"url": link}
    notify.notify_address(phone=report.reporter_phone, subject=subject, body=body)


# --- the handling unit --------------------------------------------------------------------------


def report_hand_back(*, report_id: int, user, reason: str):
    """The unit says the report is not its responsibility: back to triage, with the reason."""
    with _taking("hand_back", report_id, user) as taking:
        taking.note = _clean_text(reason, "reason", limit=1000)
        taking.report.returned = True
        taking.report.assigned_unit = None
    return taking.report


def report_start(*, report_id: int, user, note=""):
    with _taking("start", report_id, user) as taking:
        taking.note = note
    return taking.report


def _answer(report: Report, user, text: str, photos) -> ReportAnswer:
    answer = ReportAnswer.objects.create(
        report=report,
        unit=report.assigned_unit,
        author=user if isinstance(user, User) else None,
        text=text,
        at=timezone.now(),
    )
    _save_photos(report, photos, kind=ReportPhoto.Kind.ANSWER, answer=answer)
    return answer


def report_answer(*, report_id: int, user, text: str, photos=()):
    """A public answer to the citizen. The first one meets the response deadline."""
    with _taking("answer", report_id, user) as taking:
        report, taking.note = taking.report, _clean_text(text, "text")
        answer = _answer(report, user, taking.note, photos)
        report.first_answered_at = report.first_answered_at or answer.at
        _tell_citizens(report, gettext_lazy("Your report %(code)s has an answer"), taking.note)
    return report


def report_resolve(*, report_id: int, user, note: str = "", photos=()):
    """The problem is fixed. A note with it is published as the final answer."""
    with _taking("resolve", report_id, user) as taking:
        report, taking.note = taking.report, note
        if note.strip() or photos:
            _answer(report, user, _clean_text(note, "note") if note.strip() else _("Resolved."), photos)
        elif not report.answers.exists():
            raise ValidationError(
                {"note": _("Tell the citizen what was done: a resolved report needs a public answer.")}
            )
        now = timezone.now()
        report.resolved_at = now
        report.first_answered_at = report.first_answered_at or now
        _tell_citizens(report, gettext_lazy("Your report %(code)s was resolved"), note)
    return report


def report_close(*, report_id: int, user, note=""):
    with _taking("close", report_id, user) as taking:
        taking.note = note
        taking.report.closed_at = timezone.now()
    return taking.report


def _tell_citizens(report: Report, subject, text: str) -> None:
    """Tell the citizen, and every citizen whose report was merged into this one: one answer for all."""
    for told in [report, *report.duplicates.only("tracking_code", "reporter_email", "reporter_phone")]:
        notify.notify_address(
            email=told.reporter_email,
            phone=told.reporter_phone,
            subject=str(subject) % {"code": told.tracking_code},
            body=text,
        )


# --- the citizen, with the tracking secret ------------------------------------------------------


def report_for_citizen(*, tracking_code: str, secret: str) -> Report:
    report = (
        Report.objects.select_related("category", "unit", "assigned_unit")
        .filter(tracking_code=normalize_tracking_code(tracking_code))
        .first()
    )
    # Same answer for a wrong code and a wrong secret: codes cannot be probed.
    if report is None or not _secret_matches(report.secret_hash, secret or ""):
        raise NotFound(_("No report with this tracking code and secret."))
    return report


def _secret_matches(secret_hash: str, secret: str) -> bool:
    # Secrets issued before the grouped form (URL-safe, case-sensitive) match only exactly as issued.
    exact = hmac.compare_digest(secret_hash, _hash_secret(secret.strip()))
    typed = hmac.compare_digest(secret_hash, _hash_secret(_typed_secret(secret)))
    return exact or typed


def report_reopen(*, tracking_code: str, secret: str, reason: str):
    """The citizen is not satisfied: the report goes back to the unit, with new deadlines."""
    reason = _clean_text(reason, "reason", limit=1000)
    report_id = report_for_citizen(tracking_code=tracking_code, secret=secret).pk
    with _taking("reopen", report_id, None) as taking:
        report, taking.note = taking.report, reason
        if report.reopen_until() is None:
            raise Conflict(
                _("A report can be reopened within %(days)s days of its resolution.")
                % {"days": settings.IOC_REPORTS_REOPEN_DAYS}
            )
        report.reopen_count += 1
        report.resolved_at = report.closed_at = None
        report.first_answered_at = None
        _set_deadlines(report, timezone.now())
    return report


def report_rate(*, tracking_code: str, secret: str, rating: int, comment: str = ""):
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Rate from 1 to 5.")})
    comment = _clean_text(comment, "comment", required=False, limit=500)
    report_id = report_for_citizen(tracking_code=tracking_code, secret=secret).pk
    with _taking("rate", report_id, None) as taking:
        taking.report.rating, taking.report.rating_comment = rating, comment
        taking.note = f"{rating}/5 {comment}".strip()
    return taking.report


# --- leaders ------------------------------------------------------------------------------------


DIRECTIVE_DEFAULT_WORKING_DAYS = 3


def report_directive(*, report_id: int, user, text: str, due_at=None):
    """A leader's directive (ý kiến chỉ đạo) on a report, sent to the handling unit, which owns it.

    It is followed up (ioc.models.Directive, in the unit's workspace) until the unit marks it done,
    by `due_at`, or by DIRECTIVE_DEFAULT_WORKING_DAYS working days from now when none is given.
    """
    with _taking("directive", report_id, user) as taking:
        report, taking.note = taking.report, _clean_text(text, "text", limit=2000)
        taking.unit = report.handling_unit
        if due_at is None:
            due_at = ioc_due_at(
                timezone.now(), DIRECTIVE_DEFAULT_WORKING_DAYS, DurationUnit.WORKING_DAYS, WorkCalendar.load()
            )
        # The owner unit's people are told by the directive itself (one e-mail, with its due date).
        directive_issue(
            subject_type="reports.report",
            subject_id=report.pk,
            subject_label=_("Report %(code)s: %(category)s")
            % {"code": report.tracking_code, "category": report.category.name},
            text=taking.note,
            owner=report.handling_unit,
            due_at=due_at,
            user=user,
        )
    return report


# --- sweeps (Celery beat) -----------------------------------------------------------------------


def _claim(report: Report, field: str) -> bool:
    """Mark a warning as raised; False if another sweep got there first (safe to run twice)."""
    return bool(Report.objects.filter(pk=report.pk, **{f"{field}__isnull": True}).update(**{field: timezone.now()}))


def deadline_sweep(now=None) -> dict:
    """Raise due-soon and overdue alerts, escalate overdue reports, flag urgent ones left unassigned."""
    now = now or timezone.now()
    share = settings.IOC_REPORTS_DUE_SOON_SHARE
    counts = {"due_soon": 0, "overdue": 0, "unassigned": 0}
    base = Report.objects.filter(status__in=OPEN_STATUSES).select_related("category", "unit", "assigned_unit")

    checks = [
        ("response", base.filter(first_answered_at=None, response_due_at__isnull=False)),
        ("resolution", base.filter(resolved_at=None, resolution_due_at__isnull=False)),
    ]
    for kind, queryset in checks:
        due_field = f"{kind}_due_at"
        for report in queryset.filter(**{f"{kind}_overdue_at": None, f"{due_field}__lte": now}).iterator():
            with transaction.atomic():
                if _claim(report, f"{kind}_overdue_at"):
                    _overdue(report, kind)
                    counts["overdue"] += 1
        # "Due soon" once `share` of the window is gone: start + (due - start) * share <= now, in SQL.
        start = Coalesce("deadline_started_at", "received_at")
        warn_at = ExpressionWrapper(start + (F(due_field) - start) * share, output_field=DateTimeField())
        soon = queryset.filter(**{f"{kind}_warned_at": None, f"{due_field}__gt": now}).alias(warn_at=warn_at)
        for report in soon.filter(warn_at__lte=now).iterator():
            with transaction.atomic():
                if _claim(report, f"{kind}_warned_at"):
                    title = (
                        _("Report %(code)s: answer due soon")
                        if kind == "response"
                        else _("Report %(code)s: resolution due soon")
                    )
                    _raise(report, AlertKind(f"{kind}-due-soon"), "warning", title)
                    counts["due_soon"] += 1

    limit = now - timedelta(minutes=settings.IOC_REPORTS_URGENT_ASSIGN_MINUTES)
    for report in base.filter(
        level=Level.URGENT, assigned_unit=None, unassigned_alerted_at=None, received_at__lte=limit
    ).iterator():
        with transaction.atomic():
            if _claim(report, "unassigned_alerted_at"):
                _raise(report, AlertKind.UNASSIGNED, "critical", _("Urgent report %(code)s is not assigned yet"))
                counts["unassigned"] += 1
    return counts


def _overdue(report: Report, kind: str) -> None:
    title = _("Report %(code)s: answer overdue") if kind == "response" else _("Report %(code)s: resolution overdue")
    _raise(report, AlertKind(f"{kind}-overdue"), "critical", title)
    # Escalate to the leaders of the unit above the one handling it.
    handling = report.handling_unit
    leaders = _leaders_above(handling)
    ReportEvent.objects.create(
        report=report,
        at=timezone.now(),
        action=Action.ESCALATED,
        actor_label=_("System"),
        unit=handling.parent,
        from_status=report.status,
        to_status=report.status,
        public=False,
        note=_("Overdue at %(unit)s; escalated to %(leaders)s.")
        % {"unit": handling.name, "leaders": ", ".join(u.username for u in leaders) or "-"},
    )
    notify.notify_users(
        leaders,
        subject=title % {"code": report.tracking_code, "category": report.category.name},
        body=_("%(category)s at %(place)s, handled by %(unit)s, is overdue.")
        % {"category": report.category.name, "place": report.address or report.unit.name, "unit": handling.name},
    )
    _announce(report)


def _leaders_above(unit: Unit):
    """Leaders of the nearest unit above `unit` that has any."""
    codes = unit.ancestor_codes()[:-1]
    for code in reversed(codes):
        leaders = list(User.objects.filter(home_unit__code=code, is_active=True, groups__name=LEADER).distinct())
        if leaders:
            return leaders
    return []


# --- triage suggestions (reports.triage, docs/triage.md) ---------------------------------------


def _catalogue() -> list[triage.CatalogueEntry]:
    return [
        triage.CatalogueEntry(
            code=c.code,
            keywords=triage.parse_keywords(c.keywords),
            level=c.default_level,
            unit=c.department.code if c.department_id else triage.WARD,
        )
        for c in Category.objects.filter(active=True).select_related("department")
    ]


def triage_train() -> TriageModel | None:
    """Train a suggestion model on the operators' decisions and keep it with its held-out figures.

    None when there are fewer than IOC_TRIAGE_MIN_REPORTS triaged reports: the keyword rules serve.
    """
    examples = selectors.triage_examples(limit=settings.IOC_TRIAGE_MAX_REPORTS)
    if len(examples) < settings.IOC_TRIAGE_MIN_REPORTS:
        log.info("triage: %s triaged reports, %s needed to train", len(examples), settings.IOC_TRIAGE_MIN_REPORTS)
        return None
    trained = triage.train(examples, _catalogue())
    if trained.model is None:
        log.info("triage: not trained (%s)", trained.metrics.get("reason"))
        return None
    stored = TriageModel.objects.create(
        trained_at=timezone.now(),
        reports=len(examples),
        seconds=round(trained.seconds, 2),
        metrics=trained.metrics,
        beats_baselines=triage.beats_baselines(trained.metrics),
        blob=trained.model.dumps(),
    )
    log.info("triage: model v%s from %s reports in %.1f s", stored.pk, len(examples), trained.seconds)
    return stored


@dataclass
class _Serving:
    stored: TriageModel | None
    suggester: object  # triage.Model or triage.Rules
    until: float


_serving: _Serving | None = None
SERVING_CHECK_SECONDS = 60  # how soon a process sees a newly trained model or edited keywords


def _suggester() -> _Serving:
    """The model that serves (the newest that beats the rules, deferring to the rules for categories
    it never learned), else the keyword rules alone; re-read every SERVING_CHECK_SECONDS."""
    global _serving
    now = time.monotonic()
    if _serving is not None and _serving.until > now:
        return _serving
    latest = TriageModel.objects.filter(beats_baselines=True).only("pk").first()
    rules = triage.Rules(_catalogue())
    if latest is None:
        suggester = rules
    elif _serving is not None and _serving.stored is not None and _serving.stored.pk == latest.pk:
        latest, suggester = _serving.stored, triage.Blend(_serving.suggester.model, rules)  # loaded once
    else:
        latest = TriageModel.objects.get(pk=latest.pk)
        suggester = triage.Blend(triage.Model.loads(bytes(latest.blob)), rules)
    _serving = _Serving(latest, suggester, now + SERVING_CHECK_SECONDS)
    return _serving


def forget_triage_model() -> None:
    """The next suggestion re-reads which model serves (after training, or keywords edited)."""
    global _serving
    _serving = None


def triage_suggestion(report: Report) -> TriageSuggestion:
    """The suggestion for a report, made (and kept) the first time an operator opens it."""
    existing = TriageSuggestion.objects.filter(report=report).select_related("category", "unit").first()
    if existing is not None:
        return existing
    serving = _suggester()
    made = serving.suggester.suggest(selectors.triage_example(report))
    codes = {code for code, _ in made.categories}
    categories = {c.code: c for c in Category.objects.filter(code__in=codes, active=True)}
    code, confidence = made.category
    category = categories.get(code)
    unit = None
    if made.unit is not None:
        unit_code = made.unit[0]
        unit = report.unit if unit_code == triage.WARD else Unit.objects.filter(code=unit_code).first()
    suggestion = TriageSuggestion(
        report=report,
        model=serving.stored,
        source=made.source,
        made_at=timezone.now(),
        shown=category is not None and confidence >= settings.IOC_TRIAGE_MIN_CONFIDENCE,
        category=category,
        category_confidence=round(confidence, 4),
        alternatives=[[c, round(p, 4)] for c, p in made.categories],
        level=made.level[0] if made.level else "",
        level_confidence=round(made.level[1], 4) if made.level else 0,
        unit=unit,
        unit_confidence=round(made.unit[1], 4) if made.unit else 0,
        words=made.words,
    )
    # Two operators opening the same report at once keep the first suggestion made.
    TriageSuggestion.objects.bulk_create([suggestion], ignore_conflicts=True)
    return TriageSuggestion.objects.select_related("category", "unit").get(report=report)


def _triage_decided(report: Report, *, taken: bool = False, rejected: bool = False) -> None:
    """Record the operator's decision beside the suggestion made for the report (if one was)."""
    TriageSuggestion.objects.filter(report=report).update(
        decided_at=timezone.now(),
        taken=taken,
        rejected=rejected,
        final_category=None if rejected else report.category,
        final_level="" if rejected else report.level,
    )


def report_take_suggestion(*, report_id: int, user):
    """The operator takes the suggestion whole: accept with its category and level, assign to its unit."""
    with transaction.atomic():
        report = _locked(report_id, user)
        suggestion = TriageSuggestion.objects.filter(report=report, shown=True).select_related("category").first()
        if suggestion is None or suggestion.category is None:
            raise Conflict(_("There is no suggestion to take for this report."))
        if report.status == Status.RECEIVED:
            report_accept(report_id=report.pk, user=user, category=suggestion.category, level=suggestion.level or None)
        if suggestion.unit is not None:
            report = report_assign(report_id=report.pk, user=user, unit=suggestion.unit)
        TriageSuggestion.objects.filter(report=report).update(taken=True)
    return Report.objects.get(pk=report.pk)
