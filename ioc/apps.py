from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IocConfig(AppConfig):
    name = "ioc"
    verbose_name = _("Operations center")
    periodic_tasks = {
        "ioc-worker-heartbeat": {"task": "ioc.tasks.worker_heartbeat", "schedule": 30.0},
        "ioc-send-notifications": {"task": "ioc.tasks.send_notifications", "schedule": 60.0},
        "ioc-partitions-maintain": {"task": "ioc.partitions.maintain", "schedule": 6 * 3600.0},
    }
    outbox_sweeps = ("ioc.tasks.send_notifications",)

    @property
    def nav(self):
        from ioc.registry import NavEntry
        from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF

        return (
            NavEntry("wall", _("Wall"), roles=(LEADER, ADMIN, OPERATOR, UNIT_STAFF), order=90),
            NavEntry("wall-playlists", _("Wall playlists"), roles=(LEADER, ADMIN), order=95, active="wall-playlists"),
        )

    def ready(self):
        from ioc import screens

        screens.connect_signals()
