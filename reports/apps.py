from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Field reports")
    demo_feed_command = "reports_demo_feed"
    urls = (
        ("", "reports.portal_urls"),
        ("", "reports.staff_urls"),
        ("reports/", "reports.urls"),
        ("api/v1/reports/", "reports.api.urls"),
        ("open311/v2/", "reports.open311.urls"),
    )
    periodic_tasks = {
        "reports-deadline-sweep": {"task": "reports.tasks.deadline_sweep", "schedule": 60.0},
        "reports-thumbnail-sweep": {"task": "reports.tasks.thumbnail_sweep", "schedule": 300.0},
    }
    outbox_sweeps = ("reports.tasks.thumbnail_sweep",)

    @property
    def nav(self):
        from ioc.registry import NavEntry
        from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF

        everyone = (UNIT_STAFF, LEADER, OPERATOR, ADMIN)
        return (
            NavEntry(
                "console",
                _("Console"),
                roles=(OPERATOR, ADMIN, LEADER),
                order=10,
                active="console",
                home_for=(OPERATOR,),
            ),
            NavEntry("workspace", _("Workspace"), roles=everyone, order=30, active="workspace", home_for=(UNIT_STAFF,)),
            NavEntry("report-list-page", _("Reports"), roles=everyone, order=40, active="reports"),
        )

    def ready(self):
        from ioc import outage, registry
        from reports.open311.views import error_response, fmt_of_path
        from reports.selectors import wall_figures

        # Open311 clients read errors as GeoReport v2 error arrays, a 503 included.
        outage.register_error_shape(
            "/open311/", lambda request, status, message: error_response(fmt_of_path(request.path), status, message)
        )

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
