from django.http import FileResponse, Http404
from django.views.decorators.cache import cache_control

from ioc.scope import scope_for
from reports.models import ReportPhoto


@cache_control(private=True, max_age=3600)
def photo(request, uid):
    """A report photo: public once the report is triaged; before that only staff in scope see it."""
    photo = ReportPhoto.objects.select_related("report__unit", "report__assigned_unit").filter(uid=uid).first()
    if photo is None:
        raise Http404
    if not photo.is_public:
        scope = scope_for(request.user)
        report = photo.report
        if not (scope.contains(report.unit) or (report.assigned_unit and scope.contains(report.assigned_unit))):
            raise Http404
    field = photo.thumbnail if request.GET.get("size") == "thumb" and photo.thumbnail else photo.image
    content_type = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[photo.extension]
    return FileResponse(field.open("rb"), content_type=content_type)
