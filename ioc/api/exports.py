"""The columns of the alert list's export (ioc.exports): what `GET /api/v1/alerts/` shows."""

from django.utils.translation import gettext_lazy as _

from ioc.exports import Column, ExportList

ALERTS = ExportList(
    name="alerts",
    filename="canh-bao",
    columns=(
        Column(_("ID"), lambda a: a.pk),
        Column(_("Subsystem"), lambda a: a.subsystem),
        Column(_("Severity"), lambda a: a.get_severity_display()),
        Column(_("State"), lambda a: a.get_state_display()),
        Column(_("Title"), lambda a: a.title),
        Column(_("Detail"), lambda a: a.detail),
        Column(_("Unit code"), lambda a: a.unit.code),
        Column(_("Unit"), lambda a: a.unit.name),
        Column(_("Occurrences"), lambda a: a.count),
        Column(_("First seen"), lambda a: a.first_seen_at),
        Column(_("Last seen"), lambda a: a.last_seen_at),
        Column(_("Acknowledged at"), lambda a: a.acknowledged_at),
        Column(_("Resolved at"), lambda a: a.resolved_at),
        Column(_("Resolution note"), lambda a: a.resolution_note),
    ),
)
