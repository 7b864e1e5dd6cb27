from django.http import FileResponse, Http404

from ioc.scope import scope_for
from traffic.models import CameraEvent


def snapshot(request, event_id: int):
    """An uploaded event snapshot, for staff whose area holds the camera."""
    event = scope_for(request.user).filter(CameraEvent.objects.all(), "unit").filter(pk=event_id).first()
    if event is None or not event.snapshot:
        raise Http404
    return FileResponse(event.snapshot.open("rb"))
