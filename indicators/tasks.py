"""Scheduled work of the indicator subsystems."""

import logging

from celery import shared_task

from indicators import services

log = logging.getLogger(__name__)


@shared_task
def pull_sources() -> list[dict]:
    """Run every pull source whose schedule has come round (beat calls this every minute)."""
    results = []
    for source in services.pull_sources_due():
        try:
            results.append(services.pull_source_run(source=source))
        except Exception:  # one broken source must not stop the others
            log.exception("pull source failed", extra={"source": source.name})
            results.append({"source": source.name, "status": "error"})
    return results
