"""The columns of the camera-incident list's export (ioc.exports): what `GET /api/v1/traffic/incidents/` shows."""

from django.utils.translation import gettext_lazy as _

from ioc.exports import Column, ExportList, localized_name

INCIDENTS = ExportList(
    name="incidents",
    filename="su-co-camera",
    columns=(
        Column(_("ID"), lambda i: i.pk),
        Column(_("Severity"), lambda i: i.get_severity_display()),
        Column(_("Status"), lambda i: i.get_status_display()),
        Column(_("Kind code"), lambda i: i.kind.code),
        Column(_("Kind"), lambda i: localized_name(i.kind)),
        Column(_("Camera code"), lambda i: i.camera.code),
        Column(_("Camera"), lambda i: i.camera.name),
        Column(_("Unit code"), lambda i: i.unit.code),
        Column(_("Unit"), lambda i: i.unit.name),
        Column(_("First event"), lambda i: i.first_event_at),
        Column(_("Last event"), lambda i: i.last_event_at),
        Column(_("Events"), lambda i: i.event_count),
        Column(_("Dispatched to (code)"), lambda i: i.dispatched_to.code if i.dispatched_to_id else ""),
        Column(_("Dispatched to"), lambda i: i.dispatched_to.name if i.dispatched_to_id else ""),
        Column(_("Acknowledged at"), lambda i: i.acknowledged_at),
        Column(_("Closed at"), lambda i: i.closed_at),
        Column(_("Note"), lambda i: i.note),
    ),
)
