from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Field reports")
    demo_feed_command = "reports_demo_feed"

    def ready(self):
        from ioc import registry
        from reports.selectors import wall_figures

        registry.register(
            registry.Subsystem(
                code="reports",
                name_vi="Phản ánh hiện trường",
                name_en="Field reports",
                order=1,
                app="reports",
                icon="megaphone",
                snapshot=wall_figures,
                panels=("summary", "slowest_units", "urgent"),
                map_layer="/api/v1/reports/map/",
            )
        )

    def load_demo(self):
        from reports.demo import load_demo_categories

        load_demo_categories()
