from celery.schedules import crontab
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
        # Nightly, when few operators triage: a model learned from yesterday's decisions too.
        "reports-triage-train": {"task": "reports.tasks.triage_train", "schedule": crontab(hour=2, minute=30)},
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
            NavEntry("hotline", pgettext_lazy("menu", "Hotline"), roles=(OPERATOR, ADMIN), order=15, active="hotline"),
            NavEntry("workspace", _("Workspace"), roles=everyone, order=30, active="workspace", home_for=(UNIT_STAFF,)),
            NavEntry("report-list-page", _("Reports"), roles=everyone, order=40, active="reports"),
        )

    def ready(self):
        from ioc import outage, registry
        from reports.scale import GENERATOR

        registry.register_scale_generator(GENERATOR)  # manage.py bench_data
        from reports.open311.views import error_response, fmt_of_path
        from reports.selectors import briefing, overdue_by_area, wall_figures

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
                briefing=briefing,
                panels=("summary", "slowest_units", "urgent"),
                map_layer="/api/v1/reports/map/",
            )
        )
        # Wards by open reports past a deadline: none, a few, several, many (docs/map.md).
        steps = registry.SEQUENTIAL
        registry.register_choropleth(
            registry.Choropleth(
                code="overdue",
                label=_("Overdue reports"),
                unit=_("reports"),
                bands=(
                    registry.Band("0", _("None overdue"), steps[0], upto=0),
                    registry.Band("1-2", _("1–2"), steps[1], upto=2),
                    registry.Band("3-5", _("3–5"), steps[2], upto=5),
                    registry.Band("6+", _("More than 5"), steps[3]),
                ),
                values=overdue_by_area,
                subsystem="reports",
                app="reports",
                order=10,
            )
        )

    def load_demo(self):
        from reports.demo import load_demo_categories

        load_demo_categories()
