"""The columns of the observation list's export (ioc.exports): what `GET /api/v1/indicators/observations/`
shows, e.g. one indicator's series for a unit (`?indicator=aqi&unit=26080&since=...`)."""

from django.utils.translation import gettext_lazy as _

from ioc.exports import Column, ExportList, localized_name

OBSERVATIONS = ExportList(
    name="observations",
    filename="chi-so",
    columns=(
        Column(_("Indicator code"), lambda o: o.indicator.code),
        Column(_("Indicator"), lambda o: localized_name(o.indicator)),
        Column(_("Subsystem"), lambda o: o.indicator.subsystem),
        Column(_("Unit code"), lambda o: o.unit.code),
        Column(_("Unit"), lambda o: o.unit.name),
        Column(_("Station code"), lambda o: o.station.code if o.station_id else ""),
        Column(_("Station"), lambda o: o.station.name if o.station_id else ""),
        Column(_("Period"), lambda o: o.get_period_display()),
        Column(_("Period start"), lambda o: o.period_start),
        Column(_("Value"), lambda o: o.value),
        Column(_("Unit of measure"), lambda o: o.indicator.unit_of_measure),
        Column(_("Status"), lambda o: o.get_status_display()),
        Column(_("Source"), lambda o: o.source),
        Column(_("Received at"), lambda o: o.received_at),
    ),
)
