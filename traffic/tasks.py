from celery import shared_task


@shared_task(name="traffic.tasks.camera_health_sweep")
def camera_health_sweep() -> int:
    from traffic.services import camera_health_sweep as sweep

    return sweep()
