import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ioc.settings")

app = Celery("ioc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs. Each subsystem adds its own sweeps here as it grows.
app.conf.beat_schedule = {
    "ioc-worker-heartbeat": {"task": "ioc.tasks.worker_heartbeat", "schedule": 30.0},
}
