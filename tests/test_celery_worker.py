"""A real Celery worker takes a task from the real Redis broker and runs it."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from ioc.celery import app
from ioc.models import WorkerHeartbeat
from ioc.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_runs_the_heartbeat_task_through_redis(client, settings):
    settings.IOC_INTERNAL_ADDRESSES = ["127.0.0.1"]  # monitoring from here sees the detail
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        worker_heartbeat.delay()
        deadline = time.monotonic() + 20
        while not WorkerHeartbeat.objects.filter(name="worker").exists():
            assert time.monotonic() < deadline, "the worker did not run the task"
            time.sleep(0.1)
    ready = client.get("/readyz").json()
    assert ready["worker_last_beat"] is not None


def test_a_worker_connecting_sweeps_the_outbox_left_while_the_broker_was_away(city):
    from ioc.models import Notification

    # As if the broker had been away when these were queued: the rows wait, no task was sent.
    note = Notification.objects.create(
        channel=Notification.Channel.SMS, recipient="0912345678", subject="Phản ánh PA-1", body="Đã tiếp nhận."
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        deadline = time.monotonic() + 20
        while Notification.objects.get(pk=note.pk).sent_at is None:
            assert time.monotonic() < deadline, "the connecting worker did not sweep the outbox"
            time.sleep(0.1)
