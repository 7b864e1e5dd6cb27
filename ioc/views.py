import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control, never_cache

from ioc import briefings, bus, ingest, outage, registry, selectors, services
from ioc.clientaddr import client_address, in_networks
from ioc.dbrouters import reads_from_replica
from ioc.errors import ValidationError
from ioc.models import Period, Unit, WallPlaylist, WorkerHeartbeat
from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF, has_role
from ioc.scope import scope_for


def home_screen(user) -> str | None:
    """The URL name of a person's own screen: the wall for leaders, else the one an app names as the
    landing screen for a role the person has (NavEntry.home_for); None for the plain home page."""
    if has_role(user, LEADER, ADMIN):
        return "wall"
    for entry in registry.nav_for(user):
        if has_role(user, *entry.home_for):
            return entry.url_name
    return None


@login_required
def home(request):
    """Send each person to the screen of their role."""
    screen = home_screen(request.user)
    if screen:
        return redirect(screen)
    return render(request, "ioc/home.html", {"subsystems": registry.enabled()})


def forbidden(request, exception=None):
    """handler403: a page the person's role may not open. Staff get the staff frame (their menu) and a
    link to their own screen; an API gets its own error shape."""
    message = _("Your role does not give access to this page.")
    response = outage.api_error(request, 403, str(message))
    if response is not None:
        return response
    user = request.user
    if not user.is_authenticated:
        context = {"message": message, "base": "base.html", "home_url": reverse("login"), "home_label": _("Sign in")}
        return render(request, "ioc/forbidden.html", context, status=403)
    screen = home_screen(user)
    entry = next((e for e in registry.nav_for(user) if e.url_name == screen), None)
    return render(
        request,
        "ioc/forbidden.html",
        {
            "message": message,
            "nav": registry.nav_for(user),
            "home_url": reverse(screen or "home"),
            "home_label": entry.label if entry else (_("Wall") if screen == "wall" else _("Home")),
            "base": "ioc/staff_base.html",
        },
        status=403,
    )


FAVICON = Path(__file__).resolve().parent.parent / "static" / "ioc" / "favicon.ico"


@cache_control(public=True, max_age=86400)
def favicon(request):
    """/favicon.ico, which browsers ask for on every site whatever the page's <link rel=icon> says."""
    return FileResponse(open(FAVICON, "rb"), content_type="image/x-icon")


SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


@reads_from_replica
@never_cache
@login_required
def wall(request):
    """The command-centre wall. `?playlist=<slug>` picks the wall's playlist (else "main"), `?screen=`
    pins one screen, `?paused=1` starts paused, `?kiosk=1` hides the cursor (docs/wall.md)."""
    home = getattr(request.user, "home_unit", None)
    if home is not None and home.latitude is not None:
        center = (home.latitude, home.longitude)
    else:
        center = settings.IOC_MAP_CENTER
    subsystems = registry.enabled()
    playlist = request.GET.get("playlist", "")
    pin = request.GET.get("screen", "")
    return render(
        request,
        "ioc/wall.html",
        {
            "subsystems": subsystems,
            "screens": selectors.wall_screens(),
            "playlist": playlist if SLUG.fullmatch(playlist) else "main",
            "pin": pin if pin in {s["code"] for s in selectors.wall_screens()} else "",
            "paused": request.GET.get("paused") == "1",
            "kiosk": request.GET.get("kiosk") == "1",
            # A screen account has the wall only; people may open a figure's reports on it.
            "can_drill": has_role(request.user, LEADER, ADMIN, OPERATOR, UNIT_STAFF),
            "map_tiles_url": settings.IOC_MAP_TILES_URL,
            "map_center": center,
            "map_layers": [{"code": s.code, "url": s.map_layer} for s in subsystems if s.map_layer],
        },
    )


class PlaylistForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    page_seconds = forms.IntegerField(label=_("Seconds per page of a panel"), min_value=3, max_value=120, initial=8)


class PlaylistScreenForm(forms.Form):
    screen = forms.ChoiceField(label=_("Screen"), choices=())
    seconds = forms.IntegerField(label=_("Seconds"), min_value=5, max_value=3600, initial=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["screen"].choices = [(s["code"], s["name"]) for s in selectors.wall_screens()]


PlaylistScreens = forms.formset_factory(
    PlaylistScreenForm, extra=2, can_delete=True, max_num=services.PLAYLIST_MAX_SCREENS
)


@never_cache
@login_required
def wall_playlists(request, slug: str | None = None):
    """Leaders choose what each wall shows, in which order and how long (`/wall/?playlist=<slug>`)."""
    require_role(request, LEADER, ADMIN)
    slug = slug or request.GET.get("new", "")
    if slug and not SLUG.fullmatch(slug):
        raise Http404
    current = selectors.wall_playlist(slug) if slug else None
    if request.method == "POST" and slug:
        form, screens = PlaylistForm(request.POST), PlaylistScreens(request.POST)
        if form.is_valid() and screens.is_valid():
            chosen = [
                (f.cleaned_data["screen"], f.cleaned_data["seconds"])
                for f in screens.forms
                if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            try:
                services.wall_playlist_save(user=request.user, slug=slug, screens=chosen, **form.cleaned_data)
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request, _("Saved: the walls showing “%(slug)s” change within a minute.") % {"slug": slug}
                )
                return redirect("wall-playlist", slug=slug)
    elif slug:
        form = PlaylistForm(initial={"name": current["name"], "page_seconds": current["page_seconds"]})
        screens = PlaylistScreens(
            initial=[{"screen": s["screen"], "seconds": s["seconds"]} for s in current["screens"]]
        )
    else:
        form = screens = None
    return staff_page(
        request,
        "ioc/wall_playlists.html",
        "wall-playlists",
        playlists=WallPlaylist.objects.order_by("slug"),
        slug=slug,
        form=form,
        screens=screens,
    )


def staff_page(request, template, active, **context):
    """A staff screen in the console's frame (navigation, map tiles)."""
    return render(
        request,
        template,
        {
            "active": active,
            "nav": registry.nav_for(request.user),
            "map_tiles_url": settings.IOC_MAP_TILES_URL,
            **context,
        },
    )


def require_role(request, *roles):
    if not has_role(request.user, *roles):
        raise PermissionDenied


def healthz(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def _sees_readiness_detail(request) -> bool:
    """Signed-in staff and monitoring from IOC_INTERNAL_ADDRESSES; the public learns only ok or not."""
    if request.user.is_authenticated:
        return True
    internal = settings.IOC_INTERNAL_ADDRESSES
    return bool(internal) and in_networks(client_address(request), internal)


def _redis_check(url: str) -> str:
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
        client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@never_cache
def readyz(request):
    """Readiness: the database, Redis and each Redis server of the live layer answer (503 otherwise)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["redis"] = _redis_check(settings.REDIS_URL)
    # The live layer's own Redis servers when it has some (REDIS_CHANNEL_URLS): each holds a share of
    # the screens' groups, so one away leaves those screens without their push.
    for number, host in enumerate(settings.CHANNEL_LAYERS["default"]["CONFIG"].get("hosts") or [], start=1):
        url = host.get("address") if isinstance(host, dict) else host
        if isinstance(url, str) and url != settings.REDIS_URL:
            checks[f"redis_live_{number}"] = _redis_check(url)
    beat = WorkerHeartbeat.objects.filter(name="worker").first() if checks["database"] == "ok" else None
    ready = all(value == "ok" for value in checks.values())
    if not _sees_readiness_detail(request):
        return JsonResponse({"status": "ok" if ready else "unavailable"}, status=200 if ready else 503)
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": checks,
            "worker_last_beat": beat.beat_at.isoformat() if beat else None,
            "live_bus": dict(bus.stats),
        },
        status=200 if ready else 503,
    )


# --- briefings (ioc.briefings) ------------------------------------------------------------------

BRIEFING_ROLES = (LEADER, ADMIN, OPERATOR, UNIT_STAFF)


def _briefing_request(request):
    """The unit (in the caller's scope, else 404), the window, from ?unit=&period=&end=dd/mm/yyyy."""
    require_role(request, *BRIEFING_ROLES)
    scope = scope_for(request.user)
    code = (request.GET.get("unit") or "").strip()
    unit = scope.units().filter(code=code).first() if code else (request.user.home_unit or None)
    if unit is None:
        unit = Unit.objects.filter(parent__isnull=True, kind=Unit.Kind.PROVINCE).first() if scope.everything else None
    if unit is None or not scope.contains(unit):
        raise Http404(_("No such unit in your area."))
    period = request.GET.get("period") or Period.WEEKLY
    if period not in Period.values:
        raise ValidationError({"period": _("The period is daily or weekly.")})
    ending = timezone.now()
    if request.GET.get("end"):
        try:
            day = datetime.strptime(request.GET["end"].strip(), "%d/%m/%Y").date()
        except ValueError:
            raise ValidationError({"end": _("Enter the date as dd/mm/yyyy.")}) from None
        # Checked before any date arithmetic: 31/12/9999 plus a day, or 01/01/0001 less a week, overflows.
        if day > timezone.localdate():
            raise ValidationError({"end": _("A briefing covers a period that has ended.")})
        if day.year < ingest.FIRST_YEAR:
            raise ValidationError({"end": _("Enter the date as dd/mm/yyyy.")})
        ending = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))
    return unit, briefings.window(period, ending)


def _refused(request, exc: ValidationError):
    return HttpResponseBadRequest(" ".join(m for ms in exc.message_dict.values() for m in ms))


@never_cache
@login_required
def briefing_document(request):
    """The briefing as a print page (A4): `?unit=&period=daily|weekly&end=dd/mm/yyyy`."""
    try:
        unit, when = _briefing_request(request)
    except ValidationError as exc:
        return _refused(request, exc)
    context = briefings.context(unit, when)
    query = urlencode({"unit": unit.code, "period": when.period, "end": request.GET.get("end", "")})
    return render(request, "ioc/briefing.html", {**context, "pdf_url": reverse("briefing-pdf") + "?" + query})


@never_cache
@login_required
def briefing_pdf(request):
    try:
        unit, when = _briefing_request(request)
    except ValidationError as exc:
        return _refused(request, exc)
    content, _pages = briefings.pdf(unit, when, language=request.LANGUAGE_CODE)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"giao-ban-{unit.code}-{when.period}-{when.end:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@never_cache
@login_required
def briefings_page(request):
    """Choose a unit and period, read or print the briefing; subscribe to it; the last ones kept."""
    require_role(request, *BRIEFING_ROLES)
    scope = scope_for(request.user)
    if request.method == "POST":
        try:
            unit = scope.units().filter(code=request.POST.get("unit", "")).first()
            if unit is None:
                raise Http404(_("No such unit in your area."))
            if request.POST.get("action") == "unsubscribe":
                briefings.unsubscribe(user=request.user, unit=unit, period=request.POST.get("period", ""))
                messages.info(request, _("You will no longer receive this briefing."))
            else:
                briefings.subscribe(user=request.user, unit=unit, period=request.POST.get("period", ""))
                messages.success(request, _("Subscribed: the briefing comes by e-mail at 07:00."))
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        return redirect("briefings")
    return staff_page(
        request,
        "ioc/briefings.html",
        "briefings",
        units=list(scope.units().exclude(kind="department").order_by("path").values("code", "name")[:500]),
        periods=Period.choices,
        subscriptions=briefings.subscriptions_of(request.user),
        kept=briefings.kept(scope),
    )


@never_cache
@login_required
def briefing_download(request, briefing_id: int):
    """A briefing generated for a subscription, for those whose area holds its unit."""
    require_role(request, *BRIEFING_ROLES)
    kept = briefings.kept(scope_for(request.user), limit=None).filter(pk=briefing_id).first()
    if kept is None or not kept.pdf:
        raise Http404(_("No such briefing."))
    return FileResponse(kept.pdf.open("rb"), content_type="application/pdf", filename=kept.pdf.name.rsplit("/", 1)[-1])
