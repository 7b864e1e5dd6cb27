from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Field reports")

    def ready(self):
        from ioc import registry

        registry.register(
            registry.Subsystem(
                code="reports",
                name_vi="Phản ánh hiện trường",
                name_en="Field reports",
                order=1,
                app="reports",
                icon="megaphone",
            )
        )
