from celery import shared_task


@shared_task(name="onestop.tasks.deadline_sweep")
def deadline_sweep() -> dict:
    from onestop.services import deadline_sweep as sweep

    return sweep()
