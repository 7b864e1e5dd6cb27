"""Report photos, and the citizens' portal: report a problem, follow it, see how the units answer.

The portal is plain server-rendered pages (forms work without JavaScript; the maps need it). It
calls the same services as the API, so every rule (validation, photos, routing, deadlines) is the
same whichever way a report comes in. Public pages show public fields only: never the reporter's
name, phone or email, and nothing before triage.
"""

from datetime import datetime, timedelta

from csp.decorators import csp_replace
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_cookie

from ioc import collation
from ioc.dbrouters import reads_from_replica
from ioc.errors import Conflict, NotFound, ValidationError
from ioc.models import Unit
from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF, has_role
from ioc.scope import EVERYTHING, scope_for
from ioc.throttling import device_cookie_set
from ioc.views import require_role, staff_page
from reports import selectors, services
from reports.limits import ReportSubmitThrottle, refusal_message, retry_after
from reports.models import (
    OPEN_STATUSES,
    RATABLE_STATUSES,
    Category,
    CategoryGroup,
    Channel,
    Report,
    ReportAnswer,
    ReportPhoto,
    Status,
)


@cache_control(private=True, max_age=3600)
def photo(request, uid):
    """A report photo: public once the report is triaged; before that only staff in scope see it."""
    photo = ReportPhoto.objects.select_related("report__unit", "report__assigned_unit").filter(uid=uid).first()
    if photo is None:
        raise Http404
    if not photo.is_public and not _own_photo(request, photo):
        scope = scope_for(request.user)
        report = photo.report
        if not (scope.contains(report.unit) or (report.assigned_unit and scope.contains(report.assigned_unit))):
            raise Http404
    field = photo.thumbnail if request.GET.get("size") == "thumb" and photo.thumbnail else photo.image
    content_type = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[photo.extension]
    return FileResponse(field.open("rb"), content_type=content_type)


# The tracking page links the citizen's own photos before triage with a signed, short-lived token
# (`?own=`): only someone who opened the page with the secret has it. Everyone else still waits for triage.
OWN_PHOTO_SALT = "reports.portal.own-photo"
OWN_PHOTO_AGE = 3600


def _own_photo(request, photo: ReportPhoto) -> bool:
    token = request.GET.get("own", "")
    if not token:
        return False
    try:
        return signing.loads(token, salt=OWN_PHOTO_SALT, max_age=OWN_PHOTO_AGE) == photo.uid
    except signing.BadSignature:
        return False


def _own_photo_url(photo: ReportPhoto, *, thumbnail: bool = False) -> str:
    url = selectors.photo_url(photo, thumbnail=thumbnail)
    joiner = "&" if "?" in url else "?"
    return url + joiner + urlencode({"own": signing.dumps(photo.uid, salt=OWN_PHOTO_SALT)})


@never_cache
@login_required
def console(request):
    """The operators' screen: the triage queue and the open alerts, live, keyboard first."""
    require_role(request, OPERATOR, ADMIN, LEADER)
    return staff_page(request, "reports/staff/console.html", "console", map=True)


@never_cache
@login_required
def workspace(request):
    """A unit's own work: its reports by deadline, to answer, resolve or hand back."""
    require_role(request, UNIT_STAFF, LEADER, OPERATOR, ADMIN)
    # The statuses each of the unit's steps starts from, read from STEPS: the page offers a report
    # only the steps its status allows, so the two can never disagree.
    steps = {name: sorted(map(str, services.STEPS[name.replace("-", "_")].moves)) for name in WORKSPACE_STEPS}
    return staff_page(request, "reports/staff/workspace.html", "workspace", map=True, workspace_steps=steps)


# The unit's steps in the order work goes (the API's step names).
WORKSPACE_STEPS = ("start", "answer", "resolve", "hand-back")


FIGURE_LABELS = {
    "triage": gettext_lazy("Awaiting triage"),
    "handling": gettext_lazy("Being handled"),
    "today": gettext_lazy("Received today"),
    "overdue": gettext_lazy("Overdue now"),
    "urgent": gettext_lazy("Urgent and open"),
}


def framed_by_the_wall(view):
    """The wall opens a figure's reports over itself, in a frame of the same site (docs/wall.md)."""
    return xframe_options_sameorigin(csp_replace({"frame-ancestors": ["'self'"]})(view))


@never_cache
@login_required
@framed_by_the_wall
def report_list_page(request):
    """The reports behind a wall figure (leaders' drill-down), in the caller's scope."""
    require_role(request, UNIT_STAFF, LEADER, OPERATOR, ADMIN)
    figure = request.GET.get("figure", "")
    return staff_page(
        request,
        "reports/staff/report_list.html",
        "reports",
        figures=list(FIGURE_LABELS.items()),
        figure=figure,
        figure_label=FIGURE_LABELS.get(figure, ""),
        q=request.GET.get("q", ""),
    )


@never_cache
@login_required
@framed_by_the_wall
def report_page(request, report_id: int):
    """One report with its timeline; leaders give a directive here."""
    # Outside the caller's scope the report does not exist for them: 404 before any role check.
    if not selectors.reports_visible_to(scope_for(request.user)).filter(pk=report_id).exists():
        raise Http404
    require_role(request, UNIT_STAFF, LEADER, OPERATOR, ADMIN)
    return staff_page(
        request,
        "reports/staff/report_detail.html",
        "reports",
        report_id=report_id,
        can_direct=has_role(request.user, LEADER, ADMIN),
    )


@never_cache
@login_required
def hotline(request):
    """Hotline intake: an operator turns a phone call into a triaged report, from the keyboard."""
    require_role(request, OPERATOR, ADMIN)
    return staff_page(request, "reports/staff/hotline.html", "hotline")


# --- the citizens' portal: shared helpers ------------------------------------------------------

PAGE_SIZE = 25
MAP_LIMIT = 1000
ANSWER_EXCERPT = 200
TERRITORIAL_KINDS = (Unit.Kind.WARD, Unit.Kind.COMMUNE, Unit.Kind.SPECIAL_ZONE)
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.DUPLICATE)
PERIOD_DAYS = {"7": 7, "30": 30, "90": 90, "365": 365}
SENT_COOKIE = "ioc_report_sent"
SENT_COOKIE_SALT = "reports.portal.sent"
SENT_COOKIE_AGE = 3600


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _name(obj) -> str:
    """A category's, group's or unit's name in the page's language (English when there is one)."""
    if obj is None:
        return ""
    return obj.name_en if _english() and getattr(obj, "name_en", "") else obj.name


def _map_config(**extra) -> dict:
    """What the page's map script needs: the tile server (no CDN: a configurable URL) and a start view."""
    tiles = settings.IOC_MAP_TILES_URL
    centres = (
        Unit.objects.filter(kind__in=TERRITORIAL_KINDS, latitude__isnull=False, longitude__isnull=False)
        .order_by()
        .aggregate(min_lat=Min("latitude"), min_lon=Min("longitude"), max_lat=Max("latitude"), max_lon=Max("longitude"))
    )
    if centres["min_lat"] is not None:
        bounds = [[centres["min_lat"], centres["min_lon"]], [centres["max_lat"], centres["max_lon"]]]
    else:  # no unit has a centre yet: the whole service area
        min_lat, min_lon, max_lat, max_lon = settings.IOC_SERVICE_AREA
        bounds = [[min_lat, min_lon], [max_lat, max_lon]]
    return {
        "tiles": tiles,
        "attribution": "© OpenStreetMap" if "openstreetmap" in tiles else "",
        "bounds": bounds,
        **extra,
    }


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: list(texts) for key, texts in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _iso_to_datetime(value):
    return datetime.fromisoformat(value) if value else None


def _track_url(code: str, secret: str) -> str:
    return reverse("portal:track") + "?" + urlencode({"code": code, "secret": secret})


def _no_referrer(response):
    """Pages that carry the secret in their address do not pass it on to other sites."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- home --------------------------------------------------------------------------------------


@require_GET
def portal_home(request):
    return render(request, "reports/portal/home.html")


# --- the report form ---------------------------------------------------------------------------


class ReportForm(forms.Form):
    """Parses the form's fields; every rule of a report is checked by services.report_submit."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True),
        to_field_name="code",
        error_messages={
            "required": gettext_lazy("Choose what the problem is about."),
            "invalid_choice": gettext_lazy("Choose a category from the list."),
        },
    )
    description = forms.CharField(
        max_length=services.MAX_DESCRIPTION,
        error_messages={"required": gettext_lazy("Describe the problem.")},
    )
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)
    address = forms.CharField(max_length=300, required=False)
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(kind__in=TERRITORIAL_KINDS),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a commune or ward from the list.")},
    )
    reporter_name = forms.CharField(max_length=120, required=False)
    reporter_phone = forms.RegexField(
        r"^\+?[0-9 .-]{8,20}$",
        required=False,
        error_messages={"invalid": gettext_lazy("Enter a phone number with 8 to 20 digits, e.g. 0912 345 678.")},
    )
    reporter_email = forms.EmailField(required=False, max_length=254)


# Form fields whose errors are shown together, next to the location picker.
LOCATION_FIELDS = ("latitude", "longitude", "location")


def _category_groups():
    categories = Category.objects.filter(active=True).select_related("group")
    groups: dict[int, dict] = {}
    for group in CategoryGroup.objects.all():
        groups[group.pk] = {"name": _name(group), "categories": []}
    for category in categories:
        groups[category.group_id]["categories"].append(
            {"code": category.code, "name": _name(category), "needs_contact": not category.allow_anonymous}
        )
    return [group for group in groups.values() if group["categories"]]


def _render_form(request, form, errors=None, *, photos_dropped=False, status=200):
    errors = errors or {}
    values = {name: form[name].value() or "" for name in form.fields}
    if isinstance(values["category"], Category):
        values["category"] = values["category"].code
    if isinstance(values["unit"], Unit):
        values["unit"] = values["unit"].code
    location_errors = [m for key in LOCATION_FIELDS for m in errors.get(key, [])]
    field_errors = {key: value for key, value in errors.items() if key not in LOCATION_FIELDS}
    if location_errors:
        field_errors["location"] = location_errors
    units = [
        {"code": unit.code, "name": _name(unit)}
        for unit in collation.by_name(Unit.objects.filter(kind__in=TERRITORIAL_KINDS))
    ]
    context = {
        "values": values,
        "errors": field_errors,
        "error_count": sum(len(m) for m in field_errors.values()),
        "groups": _category_groups(),
        "units": units,
        "photos_dropped": photos_dropped,
        "max_photos": settings.IOC_PHOTOS_PER_REPORT,
        "max_photo_mb": settings.IOC_PHOTO_MAX_BYTES // (1024 * 1024),
        "map_config": _map_config(),
    }
    return render(request, "reports/portal/report_form.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def report_form(request):
    """Report a problem: category, description, photos, a location (GPS, the map, or a commune/ward)."""
    response = _report_form(request)
    # This browser's own submission allowance (docs/security.md), so neighbours behind one address do not share one.
    device_cookie_set(request, response)
    return response


def _report_form(request):
    if request.method == "GET":
        return _render_form(request, ReportForm())

    form = ReportForm(request.POST)
    photos = request.FILES.getlist("photos")
    throttle = ReportSubmitThrottle()
    if not throttle.allow_request(request, None):
        wait = throttle.wait()
        message = refusal_message(wait)
        if "application/json" in request.headers.get("Accept", ""):
            # The portal's script sent it: it keeps the form as it is, photos included, and shows the message.
            response = JsonResponse({"detail": message, "retry_after": int(retry_after(wait))}, status=429)
        else:
            response = _render_form(request, form, {"__all__": [message]}, photos_dropped=bool(photos), status=429)
        response["Retry-After"] = retry_after(wait)
        return response
    if not form.is_valid():
        return _render_form(request, form, form.errors, photos_dropped=bool(photos))
    data = form.cleaned_data
    try:
        report, secret = services.report_submit(
            category=data["category"],
            description=data["description"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            address=data["address"],
            unit=data["unit"],
            reporter_name=data["reporter_name"],
            reporter_phone=data["reporter_phone"],
            reporter_email=data["reporter_email"],
            channel=Channel.WEB,
            photos=photos,
            user=request.user,
        )
    except ValidationError as exc:
        return _render_form(request, form, _error_dict(exc), photos_dropped=bool(photos))
    # The code and secret go to the confirmation page in a short-lived signed cookie, only in this
    # browser: a reload shows them again, and the server keeps no readable copy of the secret.
    response = redirect("portal:sent")
    response.set_signed_cookie(
        SENT_COOKIE,
        f"{report.tracking_code}:{secret}",
        salt=SENT_COOKIE_SALT,
        max_age=SENT_COOKIE_AGE,
        path=reverse("portal:sent"),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_GET
def report_sent(request):
    """The confirmation: the tracking code and the secret, shown prominently, and how to follow the report."""
    value = request.get_signed_cookie(SENT_COOKIE, default=None, salt=SENT_COOKIE_SALT, max_age=SENT_COOKIE_AGE)
    code, _sep, secret = (value or "").partition(":")
    try:
        report = services.report_for_citizen(tracking_code=code, secret=secret)
    except NotFound:
        return redirect("portal:home")
    similar = selectors.similar_for_citizen(report)
    context = {
        "code": report.tracking_code,
        "secret": secret,
        "track_url": _track_url(report.tracking_code, secret),
        "category": _name(report.category),
        "unit": _name(report.unit),
        "response_due_at": report.response_due_at,
        "similar": [
            {"code": r.tracking_code, "status": r.get_status_display(), "distance": round(d)} for r, d in similar
        ],
    }
    return _no_referrer(render(request, "reports/portal/report_sent.html", context))


# --- tracking ----------------------------------------------------------------------------------

STEPS = (
    ((Status.RECEIVED,), gettext_lazy("Received")),
    ((Status.ACCEPTED,), gettext_lazy("Accepted")),
    ((Status.ASSIGNED, Status.IN_PROGRESS), gettext_lazy("With the unit")),
    ((Status.ANSWERED,), gettext_lazy("Answered")),
    ((Status.RESOLVED,), gettext_lazy("Resolved")),
    ((Status.CLOSED,), gettext_lazy("Closed")),
)


def _steps(status: str) -> list[dict]:
    current = next((i for i, (statuses, _label) in enumerate(STEPS) if status in statuses), None)
    if current is None:  # rejected or duplicate: no progress to show
        return []
    return [
        {"label": label, "state": "done" if i < current else "current" if i == current else "todo"}
        for i, (_statuses, label) in enumerate(STEPS)
    ]


def _deadline(due, done, now) -> dict | None:
    if due is None:
        return None
    if done is not None:
        state = "met" if done <= due else "late"
    else:
        state = "late" if now > due else "pending"
    return {"due": due, "done": done, "state": state}


def _render_track(request, report: Report, secret: str, *, errors=None, typed=None, status=200):
    public = selectors.public_report(report)
    thumbs = {}
    if report.is_triaged:
        thumbs = {selectors.photo_url(p): selectors.photo_url(p, thumbnail=True) for p in report.photos.all()}
        own_photos = _pictures(public["photos"], thumbs)
    else:
        # Not published yet (or rejected): the person with the secret still sees the photos they sent.
        own_photos = [
            {"url": _own_photo_url(p), "thumb": _own_photo_url(p, thumbnail=True)}
            for p in report.photos.all()
            if p.kind == ReportPhoto.Kind.REPORT
        ]

    now = timezone.now()
    received = _iso_to_datetime(public["received_at"])
    first_answered = _iso_to_datetime(public["first_answered_at"])
    resolved = _iso_to_datetime(public["resolved_at"])
    context = {
        "report": public,
        "code": report.tracking_code,
        "secret": secret,
        "category": _name(report.category),
        "unit": _name(report.unit),
        "assigned_unit": _name(report.assigned_unit),
        "received_at": received,
        "is_open": report.status in OPEN_STATUSES,
        "steps": _steps(report.status),
        "answer_deadline": _deadline(_iso_to_datetime(public["response_due_at"]), first_answered, now),
        "resolution_deadline": _deadline(_iso_to_datetime(public["resolution_due_at"]), resolved, now),
        "photos": own_photos,
        "answers": [
            {
                "unit_name": a["unit_name"],
                "text": a["text"],
                "at": _iso_to_datetime(a["at"]),
                "photos": _pictures(a["photos"], thumbs),
            }
            for a in public["answers"]
        ],
        "timeline": [dict(e, at=_iso_to_datetime(e["at"])) for e in reversed(public["timeline"])],
        "can_rate": report.status in RATABLE_STATUSES,
        "reopen_until": report.reopen_until(),
        "reopen_days": settings.IOC_REPORTS_REOPEN_DAYS,
        "ratings": range(1, 6),
        "errors": errors or {},
        "typed": typed or {},
    }
    return _no_referrer(render(request, "reports/portal/track.html", context, status=status))


def _pictures(urls, thumbs: dict) -> list[dict]:
    return [{"url": url, "thumb": thumbs.get(url, url)} for url in urls]


def _not_found(request, code: str = ""):
    """One friendly answer for a wrong code and a wrong secret alike: codes cannot be probed."""
    return render(request, "reports/portal/not_found.html", {"code": code}, status=404)


@never_cache
@require_GET
def track(request):
    """Follow a report with its tracking code and secret (the form, or the link from the confirmation)."""
    code = request.GET.get("code", "").strip()
    secret = request.GET.get("secret", "").strip()
    if not code and not secret:
        return render(request, "reports/portal/track_form.html")
    try:
        report = services.report_for_citizen(tracking_code=code, secret=secret)
    except NotFound:
        return _not_found(request, code)
    return _render_track(request, report, secret)


def _citizen_step(request, step, form_name: str, success: str, **fields):
    """Run a citizen's step (rate, reopen); errors re-render the tracking page next to the form."""
    code = request.POST.get("code", "").strip()
    secret = request.POST.get("secret", "").strip()
    try:
        step(tracking_code=code, secret=secret, **fields)
    except NotFound:
        return _not_found(request, code)
    except (ValidationError, Conflict) as exc:
        try:
            report = services.report_for_citizen(tracking_code=code, secret=secret)
        except NotFound:
            return _not_found(request, code)
        if isinstance(exc, Conflict):
            errors, status = {form_name: [str(exc)]}, 409
        else:
            errors, status = {form_name: [m for ms in _error_dict(exc).values() for m in ms]}, 200
        return _render_track(request, report, secret, errors=errors, typed=dict(request.POST.items()), status=status)
    messages.success(request, success)
    return redirect(_track_url(services.normalize_tracking_code(code), secret))


@never_cache
@require_POST
def track_rate(request):
    try:
        rating = int(request.POST.get("rating", ""))
    except ValueError:
        rating = None
    return _citizen_step(
        request,
        services.report_rate,
        "rate",
        _("Thank you: your rating was recorded."),
        rating=rating,
        comment=request.POST.get("comment", ""),
    )


@never_cache
@require_POST
def track_reopen(request):
    return _citizen_step(
        request,
        services.report_reopen,
        "reopen",
        _("Your report was reopened and sent back to the unit, with new deadlines."),
        reason=request.POST.get("reason", ""),
    )


# --- the public list and map ------------------------------------------------------------------


def _public_queryset():
    """Reports anyone may see (triaged, not rejected), with public fields only."""
    latest_answer = ReportAnswer.objects.filter(report=OuterRef("pk")).order_by("-at", "-pk").values("text")[:1]
    return (
        selectors.published_reports()
        .select_related("category", "unit", "assigned_unit")
        .only(
            "tracking_code",
            "status",
            "received_at",
            "address",
            "latitude",
            "longitude",
            "category__name",
            "category__name_en",
            "unit__name",
            "unit__name_en",
            "assigned_unit__name",
            "assigned_unit__name_en",
        )
        .annotate(answer_text=Subquery(latest_answer))
        .order_by("-received_at", "-pk")
    )


def _public_filters(params):
    """The public filters from the query string; unknown values are ignored."""
    chosen = {"category": "", "status": "", "unit": "", "period": ""}
    reports = _public_queryset()
    category = params.get("category", "")
    if category and Category.objects.filter(code=category).exists():
        reports = reports.filter(category__code=category)
        chosen["category"] = category
    status = params.get("status", "")
    if status == "open":
        reports = reports.filter(status__in=OPEN_STATUSES)
        chosen["status"] = status
    elif status == "closed":
        reports = reports.filter(status__in=CLOSED_STATUSES)
        chosen["status"] = status
    unit = Unit.objects.filter(code=params.get("unit", "")).first() if params.get("unit") else None
    if unit is not None:
        reports = reports.filter(Q(unit__path__startswith=unit.path) | Q(assigned_unit__path__startswith=unit.path))
        chosen["unit"] = unit.code
    period = params.get("period", "")
    if period in PERIOD_DAYS:
        reports = reports.filter(received_at__gte=timezone.now() - timedelta(days=PERIOD_DAYS[period]))
        chosen["period"] = period
    return reports, chosen


def _public_row(report: Report) -> dict:
    """The public fields of a report: nothing about the person who sent it."""
    return {
        "tracking_code": report.tracking_code,
        "category": _name(report.category),
        "status": report.status,
        "status_label": report.get_status_display(),
        "open": report.status in OPEN_STATUSES,
        "unit": _name(report.unit),
        "assigned_unit": _name(report.assigned_unit),
        "received_at": report.received_at,
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "answer": Truncator(report.answer_text or "").chars(ANSWER_EXCERPT),
    }


def _filter_options():
    territorial = Unit.objects.filter(kind__in=TERRITORIAL_KINDS)
    departments = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT)
    return {
        "categories": [
            {"name": group["name"], "options": [(c["code"], c["name"]) for c in group["categories"]]}
            for group in _category_groups()
        ],
        "statuses": [("open", _("Being handled")), ("closed", _("Finished"))],
        "units": [
            {
                "name": _("Communes and wards"),
                "options": [(u.code, _name(u)) for u in collation.by_name(territorial)],
            },
            {
                "name": _("Departments"),
                "options": [(u.code, _name(u)) for u in collation.by_name(departments)],
            },
        ],
        "periods": [
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last 12 months")),
        ],
    }


@reads_from_replica
@require_GET
def public_list(request):
    """The public map and list of reports, with filters, 25 a page."""
    reports, chosen = _public_filters(request.GET)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({key: value for key, value in chosen.items() if value})
    context = {
        "page": page,
        "rows": [_public_row(r) for r in page.object_list],
        "chosen": chosen,
        "query": query,
        "options": _filter_options(),
        "data_url": reverse("portal:public_json") + (f"?{query}" if query else ""),
        "map_config": _map_config(),
    }
    return render(request, "reports/portal/public.html", context)


@reads_from_replica
@require_GET
@vary_on_cookie
@cache_control(public=True, max_age=60)
def public_map_data(request):
    """The map's markers as GeoJSON: the list's filters, reports with a location, at most 1000."""
    reports, _chosen = _public_filters(request.GET)
    located = list(reports.filter(latitude__isnull=False, longitude__isnull=False)[: MAP_LIMIT + 1])
    features = []
    for report in located[:MAP_LIMIT]:
        properties = _public_row(report)
        point = [properties.pop("longitude"), properties.pop("latitude")]  # GeoJSON order: lon, lat
        received = properties["received_at"]
        properties["received_at"] = received.isoformat()
        properties["received"] = timezone.localtime(received).strftime("%d/%m/%Y")
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": point}, "properties": properties}
        )
    return JsonResponse({"type": "FeatureCollection", "truncated": len(located) > MAP_LIMIT, "features": features})


# --- on-time statistics per unit -------------------------------------------------------------

STAT_PERIODS = (30, 90)
SORT_KEYS = ("name", "pct_30", "pct_90")


def _stat_rows() -> list[dict]:
    rows: dict[str, dict] = {}
    for days in STAT_PERIODS:
        for row in selectors.unit_on_time_stats(EVERYTHING, days):
            entry = rows.setdefault(
                row["assigned_unit__code"],
                {"code": row["assigned_unit__code"], "name": row["assigned_unit__name"]}
                | {f"{key}_{d}": None for d in STAT_PERIODS for key in ("total", "on_time", "pct")},
            )
            entry[f"total_{days}"] = row["total"]
            entry[f"on_time_{days}"] = row["on_time"]
            entry[f"pct_{days}"] = round(100 * row["on_time"] / row["total"], 1) if row["total"] else None
    if _english():
        english = dict(Unit.objects.filter(code__in=rows, name_en__gt="").values_list("code", "name_en"))
        for code, name in english.items():
            rows[code]["name"] = name
    return list(rows.values())


def _sorted(rows: list[dict], key: str, descending: bool) -> list[dict]:
    """Sorted by `key`; units without a figure for it come last either way."""
    rows = sorted(rows, key=lambda r: collation.vi_key(r["name"]))  # names in Vietnamese alphabetical order
    if key == "name":
        return sorted(rows, key=lambda r: collation.vi_key(r["name"]), reverse=descending)
    total = "total_" + key.removeprefix("pct_")  # equal shares: the unit with more reports first when best first
    present = sorted((r for r in rows if r[key] is not None), key=lambda r: (r[key], r[total]), reverse=descending)
    return present + [r for r in rows if r[key] is None]


@reads_from_replica
@require_GET
def unit_stats(request):
    """For each unit: reports answered within the answer deadline, over 30 and 90 days."""
    sort = request.GET.get("sort", "-pct_30")
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        sort, key = "-pct_30", "pct_30"
    descending = sort.startswith("-")
    rows = _sorted(_stat_rows(), key, descending)
    for row in rows:
        for days in STAT_PERIODS:
            pct = row[f"pct_{days}"]
            row[f"level_{days}"] = {"ok": "good", "warning": "fair", "critical": "poor", None: None}[
                selectors.on_time_status(pct)
            ]

    def column(column_key: str, label) -> dict:
        # First click: names A-Z, figures best first; clicking the sorted column flips it.
        if column_key == key:
            next_sort = column_key if descending else f"-{column_key}"
            state = "descending" if descending else "ascending"
        else:
            next_sort = column_key if column_key == "name" else f"-{column_key}"
            state = None
        return {"label": label, "url": "?" + urlencode({"sort": next_sort}), "sort": state}

    context = {
        "rows": rows,
        "columns": {
            "name": column("name", _("Unit")),
            "pct_30": column("pct_30", _("Last 30 days")),
            "pct_90": column("pct_90", _("Last 90 days")),
        },
    }
    return render(request, "reports/portal/units.html", context)
