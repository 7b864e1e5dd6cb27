from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnestopConfig(AppConfig):
    name = "onestop"
    verbose_name = _("One-stop offices")

    def ready(self):
        from ioc import registry

        registry.register(
            registry.Subsystem(
                code="onestop",
                name_vi="Giám sát hành chính công",
                name_en="Public administration (one-stop)",
                order=4,
                app="onestop",
                icon="building",
            )
        )
