"""Background jobs queued by name, so that no service imports a tasks module (and no import loop).

A job is queued after the transaction commits and never fails the write that asked for it: with the
broker away it is logged, and the sweep that owns its rows (the notification outbox, photos without
thumbnails) does the work when a worker connects again.
"""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(task: str, *args, **kwargs) -> None:
    """Queue Celery task `task` (its registered name) once the current transaction commits."""
    transaction.on_commit(lambda: send_now(task, *args, **kwargs))


def send_now(task: str, *args, **kwargs) -> None:
    from ioc.celery import app

    try:
        app.send_task(task, args=args, kwargs=kwargs)
    except Exception as exc:  # broker away: the owning sweep catches up
        log.warning("job %s not queued; its sweep will do it: %s", task, exc)
