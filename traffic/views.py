from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.cache import never_cache

from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF
from ioc.scope import scope_for
from ioc.views import require_role, staff_page
from traffic.models import CameraEvent


@never_cache
@login_required
def cameras(request):
    """Camera incidents: acknowledge, dispatch a unit, resolve or mark as a false alarm, live."""
    require_role(request, OPERATOR, ADMIN, LEADER, UNIT_STAFF)
    # map: the page draws the camera over its ward's outline with the site's own Leaflet.
    return staff_page(request, "traffic/cameras.html", "cameras", map=True)


def snapshot(request, event_id: int):
    """An uploaded event snapshot, for staff whose area holds the camera."""
    event = scope_for(request.user).filter(CameraEvent.objects.all(), "unit").filter(pk=event_id).first()
    if event is None or not event.snapshot:
        raise Http404
    return FileResponse(event.snapshot.open("rb"))
