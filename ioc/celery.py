import os

from celery import Celery

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
