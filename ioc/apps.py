from celery.schedules import crontab
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IocConfig(AppConfig):
    name = "ioc"
    verbose_name = _("Operations center")
    periodic_tasks = {
        "ioc-worker-heartbeat": {"task": "ioc.tasks.worker_heartbeat", "schedule": 30.0},
        "ioc-send-notifications": {"task": "ioc.tasks.send_notifications", "schedule": 60.0},
        "ioc-export-sweep": {"task": "ioc.tasks.export_sweep", "schedule": 60.0},
        "ioc-partitions-maintain": {"task": "ioc.partitions.maintain", "schedule": 6 * 3600.0},
        # From 07:00 local, again every quarter hour until 10:45: a worker that was down at 07:00
        # still sends them (each briefing is made and sent once).
        "ioc-send-briefings": {"task": "ioc.tasks.send_briefings", "schedule": crontab(minute="*/15", hour="7-10")},
    }
    outbox_sweeps = ("ioc.tasks.send_notifications", "ioc.tasks.export_sweep")

    @property
    def nav(self):
        from ioc.registry import NavEntry
        from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF

        return (
            NavEntry("wall", _("Wall"), roles=(LEADER, ADMIN, OPERATOR, UNIT_STAFF), order=90),
            NavEntry("wall-playlists", _("Wall playlists"), roles=(LEADER, ADMIN), order=95, active="wall-playlists"),
            NavEntry(
                "briefings", _("Briefings"), roles=(LEADER, ADMIN, OPERATOR, UNIT_STAFF), order=85, active="briefings"
            ),
        )

    def ready(self):
        from ioc import screens

        screens.connect_signals()
