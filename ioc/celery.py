import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ioc.settings")

app = Celery("ioc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs. Each subsystem adds its own sweeps here as it grows.
app.conf.beat_schedule = {
    "ioc-worker-heartbeat": {"task": "ioc.tasks.worker_heartbeat", "schedule": 30.0},
    "ioc-send-notifications": {"task": "ioc.tasks.send_notifications", "schedule": 60.0},
    "reports-deadline-sweep": {"task": "reports.tasks.deadline_sweep", "schedule": 60.0},
    "traffic-camera-health-sweep": {"task": "traffic.tasks.camera_health_sweep", "schedule": 60.0},
    "reports-thumbnail-sweep": {"task": "reports.tasks.thumbnail_sweep", "schedule": 300.0},
    "onestop-deadline-sweep": {"task": "onestop.tasks.deadline_sweep", "schedule": 60.0},
    "indicators-pull-sources": {"task": "indicators.tasks.pull_sources", "schedule": 60.0},
}

# Work handed to the broker while it was away was never queued; its rows wait in the database (the
# notification outbox, photos without thumbnails). Each time a worker connects to the broker, at
# start and after every reconnect, it sweeps them at once instead of at the next beat.
OUTBOX_SWEEPS = ("ioc.tasks.send_notifications", "reports.tasks.thumbnail_sweep")


class SweepOutboxOnConnect(bootsteps.StartStopStep):
    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer):
        for task in OUTBOX_SWEEPS:
            consumer.app.send_task(task, queue=consumer.app.conf.task_default_queue)


app.steps["consumer"].add(SweepOutboxOnConnect)
