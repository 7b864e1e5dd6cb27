import socket

from celery import shared_task
from django.utils import timezone

from ioc.models import WorkerHeartbeat


@shared_task(name="ioc.tasks.worker_heartbeat")
def worker_heartbeat() -> str:
    """Record that a worker is alive and the beat is running; /readyz shows the last one."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"beat_at": now, "hostname": socket.gethostname()})
    return now.isoformat()


@shared_task(name="ioc.tasks.send_notifications")
def send_notifications() -> int:
    from ioc.notify import send_pending

    return send_pending()
