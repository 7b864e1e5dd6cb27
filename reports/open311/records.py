"""What Open311 shows of categories and reports: public information only.

The public rule (reports.models.PUBLISHED_STATUSES): a search lists only reports that passed triage;
a report asked for by its id before that (its sender following it) shows only its id, service, status
and dates. Never the reporter's name, phone or email; nothing of a rejected report but its status.
"""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import OPEN_STATUSES, Category, Report, ReportEvent
from reports.selectors import photo_url, published_reports

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Attributes offered for every service (GeoReport v2 "service definition").
ADDRESS_DETAIL = "address_detail"
# Events whose public note is not news about the handling (a citizen's rating comment).
NOT_STATUS_NOTES = (ReportEvent.Action.RATED,)


def w3c(value) -> str | None:
    """A W3C / ISO 8601 datetime in local time with its offset, e.g. 2026-05-12T10:00:00+07:00."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _local(value) -> str:
    return timezone.localtime(value).strftime("%H:%M %d/%m/%Y")


def open_or_closed(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


# --- services -----------------------------------------------------------------------------------


def active_categories():
    return Category.objects.filter(active=True).select_related("group")


def service(category: Category) -> dict:
    description = category.description.strip()
    if not category.allow_anonymous:
        needs = _("A phone number or an email is required for this service.")
        description = f"{description} {needs}".strip()
    keywords = [category.name] + ([category.name_en] if category.name_en else [])
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": description,
        "metadata": bool(service_attributes(category)),
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": category.group.name,
    }


def service_attributes(category: Category) -> list[dict]:
    return [
        {
            "variable": True,
            "code": ADDRESS_DETAIL,
            "datatype": "string",
            "required": False,
            "datatype_description": _("House number, alley, landmark"),
            "order": 1,
            "description": _("Where exactly the problem is; added to the address."),
        }
    ]


def service_definition(category: Category) -> dict:
    return {"service_code": category.code, "attributes": service_attributes(category)}


# --- requests -----------------------------------------------------------------------------------


def reports_for_open311(*, published_only: bool = True):
    """Reports with what their Open311 record needs, in a fixed number of queries."""
    reports = published_reports() if published_only else Report.objects.all()
    return reports.select_related("category", "unit", "assigned_unit").prefetch_related(
        "answers",
        "photos",
        Prefetch("events", queryset=ReportEvent.objects.filter(public=True), to_attr="public_events"),
    )


def service_notice(report: Report) -> str | None:
    """The deadline the handling unit works to, while the report is open."""
    if report.status not in OPEN_STATUSES:
        return None
    if report.first_answered_at is None and report.response_due_at:
        return _("An answer is due by %(due)s.") % {"due": _local(report.response_due_at)}
    if report.resolution_due_at:
        return _("Resolution is due by %(due)s.") % {"due": _local(report.resolution_due_at)}
    return None


def status_notes(report: Report) -> str | None:
    """The latest public word on the report: its newest answer or public timeline note."""
    # (when, rank, text): at the same instant an answer wins over the event that records it.
    candidates = [(answer.at, 1, answer.text) for answer in report.answers.all()]
    candidates += [
        (event.at, 0, event.note)
        for event in _public_events(report)
        if event.note.strip() and event.action not in NOT_STATUS_NOTES
    ]
    return max(candidates, key=lambda c: c[:2])[2] if candidates else None


def _public_events(report: Report) -> list[ReportEvent]:
    if hasattr(report, "public_events"):
        return report.public_events
    return list(report.events.filter(public=True))


def _media_url(report: Report, request) -> str | None:
    if not report.is_triaged:
        return None
    photo = next(iter(report.photos.all()), None)
    return request.build_absolute_uri(photo_url(photo)) if photo else None


RECORD_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


def service_request(report: Report, request, *, extensions: bool = False) -> dict:
    if not report.is_triaged:
        return _unpublished_request(report)
    record = {
        "service_request_id": report.tracking_code,
        "status": open_or_closed(report.status),
        "status_notes": status_notes(report),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.description,
        "agency_responsible": report.handling_unit.name,
        "service_notice": service_notice(report),
        "requested_datetime": w3c(report.received_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": w3c(report.resolution_due_at),
        "address": report.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": _media_url(report, request),
    }
    if extensions:
        record["notes"] = [
            {
                "type": event.action,
                "datetime": w3c(event.at),
                "summary": event.get_action_display(),
                "description": event.note or None,
            }
            for event in _public_events(report)
        ]
    return record


def _unpublished_request(report: Report) -> dict:
    """A report not (or not yet) published, asked for by its id: that it exists and how it stands."""
    shown = {
        "service_request_id": report.tracking_code,
        "status": open_or_closed(report.status),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "requested_datetime": w3c(report.received_at),
    }
    return {field: shown.get(field) for field in RECORD_FIELDS}
