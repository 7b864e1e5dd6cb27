"""The columns of the dossier list's export (ioc.exports): what `GET /api/v1/onestop/dossiers/` shows.

No applicant: personal data stays in the one-stop software and the office, as in the list.
"""

from django.utils.translation import gettext_lazy as _

from ioc.exports import Column, ExportList

DOSSIERS = ExportList(
    name="dossiers",
    filename="ho-so",
    columns=(
        Column(_("Dossier code"), lambda d: d.code),
        Column(_("Procedure code"), lambda d: d.procedure.code),
        Column(_("Procedure"), lambda d: d.procedure.name),
        Column(_("Field"), lambda d: d.procedure.field),
        Column(_("Unit code"), lambda d: d.unit.code),
        Column(_("Unit"), lambda d: d.unit.name),
        Column(_("Status"), lambda d: d.get_status_display()),
        Column(_("Channel"), lambda d: d.get_channel_display()),
        Column(_("Submitted at"), lambda d: d.submitted_at),
        Column(_("Received at"), lambda d: d.received_at),
        Column(_("Due at"), lambda d: d.due_at),
        Column(_("Due at, with supplements"), lambda d: d.extended_due_at),
        Column(_("Processing ended at"), lambda d: d.processing_ended_at),
        Column(_("Result returned at"), lambda d: d.returned_at),
        Column(_("Fees apply"), lambda d: d.has_fees),
        Column(_("Paid online"), lambda d: d.paid_online),
        Column(_("Inputs digitized"), lambda d: d.digitized),
        Column(_("Electronic result"), lambda d: d.electronic_result),
        Column(_("Satisfaction"), lambda d: d.get_satisfaction_display() if d.satisfaction is not None else ""),
        Column(_("Complaint"), lambda d: d.complaint),
    ),
)
