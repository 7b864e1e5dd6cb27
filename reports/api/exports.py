"""The columns of the field-report list's export (ioc.exports): what `GET /api/v1/reports/` shows.

The reporter's identity follows the report detail's rule: people see it, API keys only with the
`reports:contacts` scope; and only when the export asks for it (`contacts=1`).
"""

from django.utils.translation import gettext_lazy as _

from ioc.auth import is_key, key_has_scope
from ioc.exports import Column, ExportList


def may_see_contacts(request) -> bool:
    return not is_key(request) or key_has_scope(request, "reports:contacts")


def _code(unit) -> str:
    return unit.code if unit else ""


def _name(unit) -> str:
    return unit.name if unit else ""


REPORTS = ExportList(
    name="reports",
    filename="phan-anh",
    columns=(
        Column(_("Tracking code"), lambda r: r.tracking_code),
        Column(_("Received at"), lambda r: r.received_at),
        Column(_("Category code"), lambda r: r.category.code),
        Column(_("Category"), lambda r: r.category.name),
        Column(_("Level"), lambda r: r.get_level_display()),
        Column(_("Status"), lambda r: r.get_status_display()),
        Column(_("Channel"), lambda r: r.get_channel_display()),
        Column(_("Commune/ward code"), lambda r: _code(r.unit)),
        Column(_("Commune/ward"), lambda r: _name(r.unit)),
        Column(_("Assigned unit code"), lambda r: _code(r.assigned_unit)),
        Column(_("Assigned unit"), lambda r: _name(r.assigned_unit)),
        Column(_("Address"), lambda r: r.address),
        Column(_("Description"), lambda r: r.description),
        Column(_("Answer due"), lambda r: r.response_due_at),
        Column(_("Resolution due"), lambda r: r.resolution_due_at),
        Column(_("First answered at"), lambda r: r.first_answered_at),
        Column(_("Resolved at"), lambda r: r.resolved_at),
        Column(_("Closed at"), lambda r: r.closed_at),
        Column(_("Rating"), lambda r: r.rating),
        Column(_("Reporter's name"), lambda r: r.reporter_name, contacts=True),
        Column(_("Reporter's phone"), lambda r: r.reporter_phone, contacts=True),
        Column(_("Reporter's e-mail"), lambda r: r.reporter_email, contacts=True),
    ),
    may_see_contacts=may_see_contacts,
)
