from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Subsystems 5-9 are figures departments report; one generic app serves all five. These are the
# defaults a migration writes into IndicatorSubsystem; administrators add more as rows.
INDICATOR_SUBSYSTEMS = [
    ("socioeconomic", "Kinh tế - xã hội", "Socio-economy", 5, "chart"),
    ("health", "Y tế", "Health", 6, "health"),
    ("education", "Giáo dục", "Education", 7, "school"),
    ("tourism", "Du lịch", "Tourism", 8, "tourism"),
    ("environment", "Môi trường", "Environment", 9, "leaf"),
]
PANELS = {"environment": ("summary", "aqi", "stations_map")}


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Indicators")
    demo_feed_command = "indicators_demo_feed"
    urls = (("api/v1/indicators/", "indicators.api.urls"),)
    periodic_tasks = {"indicators-pull-sources": {"task": "indicators.tasks.pull_sources", "schedule": 60.0}}

    def ready(self):
        from ioc import registry

        registry.add_source(indicator_subsystems)
        registry.register_choropleth(aqi_layer())

        from indicators.services import archive_observation_days
        from ioc import partitions

        partitions.register(
            partitions.PartitionedTable(
                table="indicators_observation",
                column="period_start",
                app="indicators",
                retention_setting="IOC_OBSERVATION_RETENTION_MONTHS",
                archive=archive_observation_days,
            )
        )

    def load_demo(self):
        from indicators.demo import load_demo_indicators

        ensure_default_subsystems()
        load_demo_indicators()


def _in_language(name_vi: str, name_en: str) -> str:
    from django.utils.translation import get_language

    return name_en if (get_language() or "vi").startswith("en") else name_vi


def aqi_layer():
    """Wards by the air their stations measure: the official VN_AQI bands and colours (Decision 1459)."""
    from django.utils.functional import lazy

    from indicators.selectors import VN_AQI_BANDS, aqi_by_area
    from ioc import registry

    label = lazy(_in_language, str)

    return registry.Choropleth(
        code="aqi",
        label=_("Air quality (VN_AQI)"),
        unit="AQI",
        bands=tuple(
            registry.Band(code, label(vi, en), colour, upto=upper) for upper, code, vi, en, colour in VN_AQI_BANDS
        ),
        values=aqi_by_area,
        subsystem="environment",
        app="indicators",
        order=30,
    )


def _subsystem(code, name_vi, name_en, order, icon):
    from indicators.selectors import briefing_provider, figures_provider
    from ioc import registry

    return registry.Subsystem(
        code=code,
        name_vi=name_vi,
        name_en=name_en or name_vi,
        order=order,
        app="indicators",
        icon=icon,
        snapshot=figures_provider(code),
        briefing=briefing_provider(code),
        panels=PANELS.get(code, ("summary", "progress")),
        map_layer="/api/v1/indicators/stations/" if code == "environment" else "",
    )


def indicator_subsystems() -> list:
    """The indicator subsystems in the database; the defaults while the table cannot be read."""
    from django.db import DatabaseError

    from indicators.models import IndicatorSubsystem

    try:
        rows = list(
            IndicatorSubsystem.objects.filter(active=True).values_list("code", "name", "name_en", "order", "icon")
        )
    except DatabaseError:  # before migrations, or the database is down: the wall still lists the five
        rows = INDICATOR_SUBSYSTEMS
    return [_subsystem(*row) for row in rows]


def ensure_default_subsystems() -> int:
    """Create the default indicator subsystems that are missing; never changes an existing one."""
    from indicators.models import IndicatorSubsystem
    from ioc import registry

    created = 0
    for code, name_vi, name_en, order, icon in INDICATOR_SUBSYSTEMS:
        _row, new = IndicatorSubsystem.objects.get_or_create(
            code=code, defaults={"name": name_vi, "name_en": name_en, "order": order, "icon": icon}
        )
        created += new
    registry.invalidate()
    return created
