"""The live benchmark's publisher process (bench/live.py `AlertProcess`).

A process of its own, as a web or worker process is: `alert_raise` and its live bus (with the
figures it computes) run here, not in the process whose sockets measure the arrivals. This module
imports nothing of the project at the top: a spawned process sets Django up first.
"""

from time import perf_counter


def serve_alerts(conn) -> None:
    """Raise the alerts of each job received on `conn` and answer with their send times."""
    import django

    django.setup()
    from bench.live import _Sent, raise_alerts
    from ioc import bus
    from ioc.models import Unit

    while (job := conn.recv()) is not None:
        keys, unit_pks, rate, seconds = job
        by_pk = Unit.objects.in_bulk(unit_pks)
        sent = _Sent()
        raise_alerts(keys, [by_pk[pk] for pk in unit_pks], sent, rate, perf_counter() + seconds)
        # Answered at once: the alerts are on their way (the bus sends them as they commit), and the
        # figures they dirtied are the bus's business; waiting for those would count as sending time.
        conn.send(sent.sent)  # perf_counter is the system's monotonic clock: the same in both processes
    bus.flush(10)
