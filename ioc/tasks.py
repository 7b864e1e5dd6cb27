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


@shared_task(name="ioc.tasks.send_briefings")
def send_briefings() -> int:
    """The subscribed briefings due this morning (ioc.briefings.send_due; safe to run again)."""
    from ioc import briefings

    return briefings.send_due()


@shared_task(name="ioc.tasks.export_write")
def export_write(uid: str) -> str:
    """Write one export job's file (ioc.exports); a job already taken or finished is left alone."""
    from ioc.exports import write_job

    return write_job(uid)


@shared_task(name="ioc.tasks.export_sweep")
def export_sweep() -> int:
    """Write the export jobs still queued (their task was never queued: the broker was away)."""
    from ioc.exports import sweep

    return sweep()
