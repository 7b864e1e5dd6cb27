"""Notifications: queued in the database with the change, sent by a worker.

Email goes through Django's email backend. Text messages (SMS, Zalo) go through a pluggable
backend named by IOC_SMS_BACKEND; the default one writes them to the log.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from ioc import jobs
from ioc.models import Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class LogSmsBackend:
    """Writes text messages to the log; replace with a gateway for SMS or Zalo."""

    def send(self, phone: str, text: str) -> None:
        log.info("text message", extra={"to": phone, "text": text})


def notify_users(users, *, subject: str, body: str) -> int:
    """Queue an email to each user who has an address. Returns how many were queued."""
    rows = [
        Notification(channel=Notification.Channel.EMAIL, recipient=u.email, user=u, subject=subject, body=body)
        for u in users
        if u.email
    ]
    return _queue(rows)


def notify_address(*, email: str = "", phone: str = "", subject: str, body: str) -> int:
    rows = []
    if email:
        rows.append(Notification(channel=Notification.Channel.EMAIL, recipient=email, subject=subject, body=body))
    if phone:
        rows.append(Notification(channel=Notification.Channel.SMS, recipient=phone, subject=subject, body=body))
    return _queue(rows)


def _queue(rows: list[Notification]) -> int:
    if not rows:
        return 0
    Notification.objects.bulk_create(rows)
    jobs.enqueue("ioc.tasks.send_notifications")  # with the broker away, the outbox sweep sends them
    return len(rows)


def send_pending(limit: int = 200) -> int:
    """Send what is waiting. Rows are claimed with a row lock so several workers never double-send."""
    sms = import_string(settings.IOC_SMS_BACKEND)()
    sent = 0
    with transaction.atomic():
        batch = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(sent_at=None, attempts__lt=MAX_ATTEMPTS)
            .order_by("created_at")[:limit]
        )
        for note in batch:
            note.attempts += 1
            try:
                if note.channel == Notification.Channel.EMAIL:
                    send_mail(note.subject, note.body, None, [note.recipient], fail_silently=False)
                else:
                    sms.send(note.recipient, f"{note.subject}: {note.body}")
                note.sent_at = timezone.now()
                note.last_error = ""
                sent += 1
            except Exception as exc:
                note.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                log.warning("notification failed", extra={"id": note.pk, "error": note.last_error})
            note.save(update_fields=["attempts", "sent_at", "last_error"])
    return sent
