from celery import shared_task
from django.core.files.base import ContentFile

from ioc.photos import make_thumbnail
from reports.models import ReportPhoto


@shared_task(name="reports.tasks.deadline_sweep")
def deadline_sweep() -> dict:
    from reports.services import deadline_sweep as sweep

    return sweep()


@shared_task(name="reports.tasks.make_thumbnails")
def make_thumbnails(photo_ids: list[int]) -> int:
    made = 0
    for photo in ReportPhoto.objects.filter(pk__in=photo_ids, thumbnail=""):
        with photo.image.open("rb") as source:
            content = make_thumbnail(source, photo.extension)
        photo.thumbnail.save(f"{photo.uid}-thumb.{photo.extension}", ContentFile(content.read()), save=False)
        ReportPhoto.objects.filter(pk=photo.pk).update(thumbnail=photo.thumbnail.name)
        made += 1
    return made


@shared_task(name="reports.tasks.thumbnail_sweep")
def thumbnail_sweep() -> int:
    """Thumbnails whose task was lost (broker down at upload time)."""
    ids = list(ReportPhoto.objects.filter(thumbnail="").values_list("pk", flat=True)[:500])
    return make_thumbnails(ids) if ids else 0


@shared_task(name="reports.tasks.triage_train")
def triage_train() -> int | None:
    """Retrain the triage suggestion model (nightly, and from the admin page)."""
    from reports.services import triage_train as train

    stored = train()
    return stored.pk if stored else None
