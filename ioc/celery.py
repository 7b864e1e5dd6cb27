import os
from collections.abc import Mapping

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ioc.settings")

app = Celery("ioc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class AppsSchedule(Mapping):
    """The periodic jobs every app declares (`AppConfig.periodic_tasks`), read when beat asks for them.

    Read lazily: this module is imported with the settings, before the apps are loaded.
    """

    def _entries(self) -> dict:
        from ioc import registry

        return registry.beat_schedule()

    def __getitem__(self, name):
        return self._entries()[name]

    def __iter__(self):
        return iter(self._entries())

    def __len__(self):
        return len(self._entries())


app.conf.beat_schedule = AppsSchedule()


class SweepOutboxOnConnect(bootsteps.StartStopStep):
    """Work handed to the broker while it was away was never queued; its rows wait in the database
    (the notification outbox, photos without thumbnails). Each time a worker connects to the broker,
    at start and after every reconnect, it runs the apps' `outbox_sweeps` at once, not at the next beat.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer):
        from ioc import registry

        for task in registry.contributions("outbox_sweeps"):
            consumer.app.send_task(task, queue=consumer.app.conf.task_default_queue)


app.steps["consumer"].add(SweepOutboxOnConnect)
