from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = _("Cameras")

    def ready(self):
        from ioc import registry

        registry.register(
            registry.Subsystem(
                code="traffic",
                name_vi="Camera giao thông",
                name_en="Traffic cameras",
                order=2,
                app="traffic",
                icon="traffic",
            )
        )
        registry.register(
            registry.Subsystem(
                code="security",
                name_vi="Camera an ninh trật tự",
                name_en="Security cameras",
                order=3,
                app="traffic",
                icon="shield",
            )
        )
