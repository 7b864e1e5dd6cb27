"""Reads for the platform: scoped querysets and the figures behind the wall."""

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ioc import registry
from ioc.models import Alert, Directive, Severity, Unit, WallPlaylist, WallScreen
from ioc.scope import EVERYTHING, Scope, scope_for_unit

WALL_ALERT_LIMIT = 300  # the ticker runs through every open critical and warning alert


def alerts_visible_to(scope: Scope):
    # An alert shows its unit's code and name; the unit's boundary is the largest value in the database.
    return scope.filter(Alert.objects.select_related("unit").defer("unit__boundary", "unit__bbox"), "unit")


def open_alerts(scope: Scope):
    """Alerts not resolved yet, most severe and most recent first."""
    severity_order = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
    rank = Case(*[When(severity=s, then=Value(r)) for s, r in severity_order.items()], output_field=IntegerField())
    return (
        alerts_visible_to(scope)
        .exclude(state=Alert.State.RESOLVED)
        .annotate(severity_rank=rank)
        .order_by("severity_rank", "-last_seen_at")
    )


def open_alert_counts(scope: Scope) -> dict[str, dict[str, int]]:
    """{subsystem: {"critical": n, "warning": n, "info": n}} for unresolved alerts in scope."""
    rows = (
        alerts_visible_to(scope)
        .exclude(state=Alert.State.RESOLVED)
        .values("subsystem")
        .annotate(
            critical=Count("id", filter=Q(severity=Severity.CRITICAL)),
            warning=Count("id", filter=Q(severity=Severity.WARNING)),
            info=Count("id", filter=Q(severity=Severity.INFO)),
        )
    )
    return {row.pop("subsystem"): row for row in rows}


# --- a subsystem's figures, shared by the screens of one scope --------------------------------
#
# Every screen of a scope (a dozen leaders' walls, a storm of reconnections) asks for the same
# figures. They are kept IOC_SNAPSHOT_FIGURES_SECONDS per (subsystem, scope, language) and dropped
# as soon as a change to them is announced (`forget_figures`, called by the live bus after
# commit), so a snapshot never shows figures older than the last announced change; only what moves
# with the clock alone (a deadline passing) can be that many seconds behind. The live bus always
# computes them afresh and keeps what it computed.


_NOT_KEPT = object()


def _figures_key(subsystem: str, scope_code: str | None, language: str) -> str:
    return f"ioc:figures:{subsystem}:{scope_code or '*'}:{language}"


def _scope_code(scope: Scope) -> str | None:
    return None if scope.everything else scope.unit.code


def subsystem_figures(subsystem: registry.Subsystem, scope: Scope, *, fresh: bool = False) -> dict:
    seconds = settings.IOC_SNAPSHOT_FIGURES_SECONDS
    if seconds <= 0 or scope.is_empty:
        return subsystem.snapshot(scope)
    key = _figures_key(subsystem.code, _scope_code(scope), get_language() or settings.LANGUAGE_CODE)
    if not fresh:
        kept = cache.get(key, _NOT_KEPT)  # None is a subsystem's answer too (no figures for the scope)
        if kept is not _NOT_KEPT:
            return kept
    figures = subsystem.snapshot(scope)
    cache.set(key, figures, seconds)
    return figures


def forget_figures(subsystem: str, scope_codes) -> None:
    """Drop the kept figures of `subsystem` for these scopes (unit codes; None: the deployment)."""
    if settings.IOC_SNAPSHOT_FIGURES_SECONDS > 0:
        languages = [code for code, _name in settings.LANGUAGES]
        cache.delete_many([_figures_key(subsystem, code, lang) for code in scope_codes for lang in languages])


def _panel(subsystem: registry.Subsystem, scope: Scope, alert_counts: dict, *, fresh: bool = False) -> dict:
    return {
        "code": subsystem.code,
        "name": subsystem.name,
        "name_vi": subsystem.name_vi,
        "name_en": subsystem.name_en,
        "icon": subsystem.icon,
        "order": subsystem.order,
        "panels": list(subsystem.panels),
        "figures": subsystem_figures(subsystem, scope, fresh=fresh),
        "alerts": alert_counts.get(subsystem.code, {"critical": 0, "warning": 0, "info": 0}),
    }


def subsystem_panel(code: str, unit_code: str | None) -> dict | None:
    """One subsystem's panel for the scope of `unit_code` (None: the whole deployment)."""
    subsystem = registry.get(code)
    if subsystem is None or not subsystem.enabled:
        return None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            return None
        scope = scope_for_unit(unit)
    else:
        scope = EVERYTHING
    return _panel(subsystem, scope, open_alert_counts(scope), fresh=True)


def dashboard_snapshot(scope: Scope) -> dict:
    """Everything a screen needs to draw itself for `scope`; messages are applied on top."""
    counts = open_alert_counts(scope)
    return {
        "at": timezone.now().isoformat(),
        "scope": {
            "unit": scope.unit.code if scope.unit else None,
            "name": scope.unit.name if scope.unit else None,
        },
        "subsystems": [_panel(s, scope, counts) for s in registry.enabled()],
        "alerts": open_alert_states(scope, WALL_ALERT_LIMIT),
    }


_ALERT_COLUMNS = (
    "id",
    "subsystem",
    "severity",
    "title",
    "detail",
    "subject_type",
    "subject_id",
    "count",
    "state",
    "first_seen_at",
    "last_seen_at",
    "acknowledged_at",
    "resolved_at",
)


def _alert_state(row: dict, unit_code: str, unit_name: str) -> dict:
    state = {column: row[column] for column in _ALERT_COLUMNS}
    for moment in ("first_seen_at", "last_seen_at", "acknowledged_at", "resolved_at"):
        state[moment] = state[moment].isoformat() if state[moment] else None
    state["unit"], state["unit_name"] = unit_code, unit_name
    return state


def alert_state(alert: Alert) -> dict:
    """The absolute state of one alert, as sent live and returned by the API."""
    row = {column: getattr(alert, "pk" if column == "id" else column) for column in _ALERT_COLUMNS}
    return _alert_state(row, alert.unit.code, alert.unit.name)


def open_alert_states(scope: Scope, limit: int) -> list[dict]:
    """`alert_state` of the first `limit` open alerts, read as plain rows: a wall's snapshot holds
    hundreds of them, and building a model object for each (and its unit) cost most of it."""
    rows = open_alerts(scope).values(*_ALERT_COLUMNS, "unit__code", "unit__name")[:limit]
    return [_alert_state(row, row["unit__code"], row["unit__name"]) for row in rows]


# --- the wall's playlists -----------------------------------------------------------------------

DEFAULT_OVERVIEW_SECONDS, DEFAULT_SCREEN_SECONDS = 60, 20


def wall_screens() -> list[dict]:
    """The screens a wall can show: the overview, then one per enabled subsystem."""
    return [{"code": WallScreen.OVERVIEW, "name": _("Overview")}] + [
        {"code": s.code, "name": str(s.name)} for s in registry.enabled()
    ]


def wall_playlist(slug: str) -> dict:
    """The playlist `slug` as a wall plays it; with none saved (or none left that is enabled), the
    overview then every subsystem in turn."""
    known = {screen["code"] for screen in wall_screens()}
    playlist = WallPlaylist.objects.filter(slug=slug).prefetch_related("screens").first()
    screens = [
        {"screen": s.screen, "seconds": s.seconds}
        for s in (playlist.screens.all() if playlist else ())
        if s.screen in known
    ]
    if not screens:
        screens = [{"screen": WallScreen.OVERVIEW, "seconds": DEFAULT_OVERVIEW_SECONDS}] + [
            {"screen": code, "seconds": DEFAULT_SCREEN_SECONDS}
            for code in (screen["code"] for screen in wall_screens())
            if code != WallScreen.OVERVIEW
        ]
    return {
        "slug": slug,
        "name": playlist.name if playlist else _("All screens"),
        "saved": playlist is not None,
        "page_seconds": playlist.page_seconds if playlist else 8,
        "screens": screens,
        "updated_at": playlist.updated_at.isoformat() if playlist else None,
    }


# --- leaders' directives (ý kiến chỉ đạo) ---------------------------------------------------------


def directives_for(scope: Scope, *, open_only: bool = False):
    """Directives owned by a unit of the scope (the unit itself or any unit under it), nearest due first."""
    directives = scope.filter(
        Directive.objects.select_related("owner", "issued_by", "done_by").defer("owner__boundary", "owner__bbox"),
        "owner",
    )
    if open_only:
        directives = directives.filter(done_at=None)
    return directives.order_by("due_at", "pk")


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def directive_state(directive: Directive, now=None) -> dict:
    """The absolute state of one directive, as sent live and returned by the API."""
    now = now or timezone.now()
    done_at = directive.done_at
    return {
        "id": directive.pk,
        "subject_type": directive.subject_type,
        "subject_id": directive.subject_id,
        "subject_label": directive.subject_label,
        "text": directive.text,
        "owner": directive.owner.code,
        "owner_name": directive.owner.name,
        "issued_by": _person(directive.issued_by),
        "issued_at": directive.issued_at.isoformat(),
        "due_at": directive.due_at.isoformat(),
        "done_at": done_at.isoformat() if done_at else None,
        "done_note": directive.done_note,
        "done_by": _person(directive.done_by),
        "open": done_at is None,
        "overdue": done_at is None and directive.due_at < now,
        "on_time": None if done_at is None else done_at <= directive.due_at,
    }


def _directive_row(directive: Directive) -> dict:
    done_at = directive.done_at
    return {
        "id": directive.pk,
        "subject_type": directive.subject_type,
        "subject_id": directive.subject_id,
        "label": directive.subject_label,
        "text": directive.text,
        "owner": directive.owner.name,
        "due_at": directive.due_at,
        "done_at": done_at,
        "on_time": None if done_at is None else done_at <= directive.due_at,
    }


def directive_figures(scope: Scope, start, end, now) -> dict:
    """The directives of a briefing of `scope` for the period [start, end), as seen at `now`:

    - "overdue": not done at `now` and past due at `now` (most overdue first);
    - "done": done within the period, each on time (done_at <= due_at) or late ("on_time");
    - "issued": issued within the period;
    each a list of rows {id, subject_type, subject_id, label, text, owner (the unit's name), due_at,
    done_at (None while open), on_time (None while open)}; moments are aware datetimes.
    """
    directives = directives_for(scope)
    overdue = directives.filter(Q(done_at=None) | Q(done_at__gt=now), issued_at__lte=now, due_at__lt=now)
    done = directives.filter(done_at__gte=start, done_at__lt=end).order_by("done_at", "pk")
    issued = directives.filter(issued_at__gte=start, issued_at__lt=end).order_by("issued_at", "pk")
    figures = {
        "overdue": [_directive_row(d) for d in overdue],
        "done": [_directive_row(d) for d in done],
        "issued": [_directive_row(d) for d in issued],
    }
    for row in figures["overdue"]:  # open as seen at `now`, even if done since
        if row["done_at"] is not None and row["done_at"] > now:
            row["done_at"] = row["on_time"] = None
    return figures
