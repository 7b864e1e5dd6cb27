from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Subsystems 5-9 are figures departments report; one generic app serves all five.
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

    def ready(self):
        from indicators.selectors import figures_provider
        from ioc import registry

        for code, name_vi, name_en, order, icon in INDICATOR_SUBSYSTEMS:
            registry.register(
                registry.Subsystem(
                    code=code,
                    name_vi=name_vi,
                    name_en=name_en,
                    order=order,
                    app="indicators",
                    icon=icon,
                    snapshot=figures_provider(code),
                    panels=PANELS.get(code, ("summary", "progress")),
                    map_layer="/api/v1/indicators/stations/" if code == "environment" else "",
                )
            )

    def load_demo(self):
        from indicators.demo import load_demo_indicators

        load_demo_indicators()
