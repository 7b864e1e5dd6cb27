from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnestopConfig(AppConfig):
    name = "onestop"
    verbose_name = _("One-stop offices")
    demo_feed_command = "onestop_demo_feed"
    urls = (("onestop/", "onestop.urls"), ("api/v1/onestop/", "onestop.api.urls"))
    periodic_tasks = {"onestop-deadline-sweep": {"task": "onestop.tasks.deadline_sweep", "schedule": 60.0}}

    def ready(self):
        from ioc import hooks, registry
        from onestop.scale import GENERATOR

        registry.register_scale_generator(GENERATOR)  # manage.py bench_data
        from onestop.services import counter_events

        hooks.listen(hooks.CAMERA_EVENTS_STORED, counter_events)  # counter cameras watch the counters
        from onestop.selectors import briefing, late_rate_by_area, onestop_figures

        registry.register(
            registry.Subsystem(
                code="onestop",
                name_vi="Giám sát hành chính công",
                name_en="Public administration (one-stop)",
                order=4,
                app="onestop",
                icon="building",
                snapshot=onestop_figures,
                briefing=briefing,
                panels=("summary", "score_766_by_group", "worst_units", "queues"),
            )
        )
        # Wards by this month's late dossiers, in % of those handled: the wall's on-time rate reads
        # "good" from 95 % on, so up to 5 % late is the first band (docs/map.md).
        steps = registry.SEQUENTIAL
        registry.register_choropleth(
            registry.Choropleth(
                code="late_rate",
                label=_("Late dossiers (this month)"),
                unit="%",
                bands=(
                    registry.Band("0-5", _("Up to 5 %"), steps[0], upto=5),
                    registry.Band("5-15", _("5–15 %"), steps[1], upto=15),
                    registry.Band("15-30", _("15–30 %"), steps[2], upto=30),
                    registry.Band("30+", _("Over 30 %"), steps[3]),
                ),
                values=late_rate_by_area,
                subsystem="onestop",
                app="onestop",
                order=20,
            )
        )

    def load_demo(self):
        from onestop.demo import load_demo_offices

        load_demo_offices()
