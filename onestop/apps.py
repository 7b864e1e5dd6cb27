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
        from onestop.services import counter_events

        hooks.listen(hooks.CAMERA_EVENTS_STORED, counter_events)  # counter cameras watch the counters
        from onestop.selectors import onestop_figures

        registry.register(
            registry.Subsystem(
                code="onestop",
                name_vi="Giám sát hành chính công",
                name_en="Public administration (one-stop)",
                order=4,
                app="onestop",
                icon="building",
                snapshot=onestop_figures,
                panels=("summary", "score_766_by_group", "worst_units", "queues"),
            )
        )

    def load_demo(self):
        from onestop.demo import load_demo_offices

        load_demo_offices()
