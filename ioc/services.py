"""Every write of the platform core. Each is one transaction and announces itself after commit."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ioc import audit, bus, geo, notify, registry, screens
from ioc.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ioc.models import SEVERITY_RANK, Alert, ApiKey, Directive, Severity, Unit, User
from ioc.roles import ADMIN, LEADER, OPERATOR, SCREEN, UNIT_STAFF, has_role
from ioc.scope import scope_for
from ioc.selectors import alert_state, directive_state

# --- Units ----------------------------------------------------------------------------------


def unit_upsert(*, code: str, name: str, kind: str, parent: Unit | None = None, **fields) -> Unit:
    """Create or update a unit by its official code, keeping the paths of its subtree right."""
    if kind not in Unit.Kind.values:
        raise ValidationError(_("Unknown unit kind: %(kind)s") % {"kind": kind})
    if "/" in code or not code.strip():
        raise ValidationError(_("A unit code must be non-empty and contain no '/'."))
    with transaction.atomic():
        unit = Unit.objects.select_for_update().filter(code=code).first()
        new_path = f"{parent.path if parent else '/'}{code}/"
        if parent is not None and f"/{code}/" in parent.path:
            raise ValidationError(_("A unit cannot be placed under itself."))
        if unit is None:
            unit = Unit(code=code)
            old_path = None
        else:
            old_path = unit.path
        unit.name, unit.kind, unit.parent, unit.path = name, kind, parent, new_path
        unit.depth = new_path.count("/") - 2
        for key, value in fields.items():
            setattr(unit, key, value)
        if "boundary" in fields:
            try:
                unit.bbox = geo.bbox_of(unit.boundary) if unit.boundary else None
            except (ValueError, KeyError, TypeError, IndexError):
                raise ValidationError(_("The boundary must be a GeoJSON Polygon or MultiPolygon.")) from None
        unit.save()
        if old_path and old_path != new_path:
            _move_subtree(old_path, new_path)
    return unit


def _move_subtree(old_path: str, new_path: str) -> None:
    shift = new_path.count("/") - old_path.count("/")
    for child in Unit.objects.select_for_update().filter(path__startswith=old_path).exclude(path=old_path):
        child.path = new_path + child.path[len(old_path) :]
        child.depth = child.depth + shift
        child.save(update_fields=["path", "depth"])


def unit_boundaries_set(*, boundaries: dict[str, dict | None], source: str) -> int:
    """Give units (by code) a boundary of `source` (BoundarySource), or none (None), in one transaction.

    The geometries are checked GeoJSON (ioc.boundaries); their bounding boxes come with them.
    """
    from ioc.models import BoundarySource

    if source not in BoundarySource.values:
        raise ValidationError(_("Unknown boundary source: %(source)s") % {"source": source})
    with transaction.atomic():
        units = list(Unit.objects.select_for_update().filter(code__in=list(boundaries)))
        for unit in units:
            geometry = boundaries[unit.code]
            unit.boundary = geometry
            unit.bbox = geo.bbox_of(geometry) if geometry else None
            unit.boundary_source = source if geometry else BoundarySource.NONE
        Unit.objects.bulk_update(units, ["boundary", "bbox", "boundary_source"])
        audit.record(action="unit.boundaries", obj=Unit, count=len(units), detail={"source": source})
    return len(units)


# --- Alerts ---------------------------------------------------------------------------------


def alert_raise(
    *,
    subsystem: str,
    severity: str,
    title: str,
    unit: Unit,
    dedup_key: str,
    detail: str = "",
    subject_type: str = "",
    subject_id: str = "",
    raised_by=None,
) -> tuple[Alert, bool]:
    """Open an alert, or count one more occurrence of the unresolved alert with the same key.

    Returns (alert, created). A repeat at a higher severity raises the alert's severity.
    `raised_by` is the API caller (a user or a key principal); None for a subsystem's own alerts.
    The dedup key lives in the raiser's namespace: a caller can only ever repeat an alert it raised
    itself, in the same unit, so another unit's alert cannot be found, counted or escalated.
    """
    if registry.get(subsystem) is None:
        raise ValidationError(_("Unknown subsystem: %(code)s") % {"code": subsystem})
    if severity not in Severity.values:
        raise ValidationError(_("Severity must be one of: info, warning, critical."))
    if not title.strip():
        raise ValidationError(_("An alert needs a title."))
    if not dedup_key.strip():
        raise ValidationError(_("An alert needs a deduplication key."))
    namespace = raiser_namespace(raised_by)
    same = Q(raised_by=namespace, dedup_key=dedup_key)
    if namespace:  # the subsystems' own keys name their object and follow it from unit to unit
        same &= Q(unit=unit)
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                alert = Alert.objects.select_for_update().exclude(state=Alert.State.RESOLVED).filter(same).first()
                created = alert is None
                if created:
                    alert = Alert.objects.create(
                        subsystem=subsystem,
                        severity=severity,
                        title=title[:300],
                        detail=detail,
                        unit=unit,
                        subject_type=subject_type,
                        subject_id=subject_id,
                        dedup_key=dedup_key,
                        raised_by=namespace,
                        last_seen_at=now,
                    )
                else:
                    alert.count += 1
                    alert.last_seen_at = now
                    if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]:
                        alert.severity = severity
                    alert.save(update_fields=["count", "last_seen_at", "severity"])
                if raised_by is not None:
                    audit.record(action="alert.raise" if created else "alert.repeat", obj=alert)
                _announce(alert)
                return alert, created
        except IntegrityError:
            # Another process opened the same alert between our read and insert: count onto it.
            continue
    raise Conflict(_("The alert changed while it was being raised; try again."))


def raiser_namespace(raiser) -> str:
    """The namespace of an API caller's dedup keys: "key:<id>", "user:<id>", or "" for the system."""
    if raiser is None:
        return ""
    key = getattr(raiser, "api_key", None)
    if key is not None:
        return f"key:{key.pk}"
    return f"user:{raiser.pk}"


def _can_work_alerts(user) -> bool:
    return has_role(user, ADMIN, OPERATOR, LEADER, UNIT_STAFF)


def _locked_alert_in_scope(alert_id: int, user) -> Alert:
    alert = scope_for(user).filter(Alert.objects.select_for_update(of=("self",)).select_related("unit"), "unit")
    if getattr(user, "api_key", None) is not None:  # a machine works only the alerts it raised itself
        alert = alert.filter(raised_by=raiser_namespace(user))
    alert = alert.filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(_("No such alert."))
    return alert


def alert_acknowledge(*, alert_id: int, user) -> Alert:
    """An operator takes the alert in hand. A second acknowledgement is a conflict."""
    if not _can_work_alerts(user):
        raise PermissionDenied(_("Your role cannot acknowledge alerts."))
    with transaction.atomic():
        alert = _locked_alert_in_scope(alert_id, user)
        if alert.state != Alert.State.OPEN:
            raise Conflict(_("This alert is already %(state)s.") % {"state": alert.get_state_display().lower()})
        alert.state = Alert.State.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user
        alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        audit.record(action="alert.acknowledge", obj=alert)
        _announce(alert)
    return alert


def alert_resolve(*, alert_id: int, user, note: str = "") -> Alert:
    """Close the alert by hand. Resolving twice is a conflict."""
    if not (_can_work_alerts(user) or getattr(user, "api_key", None) is not None):
        raise PermissionDenied(_("Your role cannot resolve alerts."))
    with transaction.atomic():
        alert = _locked_alert_in_scope(alert_id, user)
        if alert.state == Alert.State.RESOLVED:
            raise Conflict(_("This alert is already resolved."))
        _close(alert, user=user if not hasattr(user, "api_key") else None, note=note)
        audit.record(action="alert.resolve", obj=alert)
    return alert


def alert_resolve_by_key(*, dedup_key: str, note: str = "") -> Alert | None:
    """Recovery from the system itself (a camera back online, a value back in range)."""
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("unit")
            .exclude(state=Alert.State.RESOLVED)
            .filter(dedup_key=dedup_key, raised_by="")
            .first()
        )
        if alert is None:
            return None
        _close(alert, user=None, note=note)
    return alert


def _close(alert: Alert, *, user, note: str) -> None:
    alert.state = Alert.State.RESOLVED
    alert.resolved_at = timezone.now()
    alert.resolved_by = user
    alert.resolution_note = note
    alert.save(update_fields=["state", "resolved_at", "resolved_by", "resolution_note"])
    _announce(alert)


def _announce(alert: Alert) -> None:
    bus.publish(type="ioc.alert.updated", subsystem=alert.subsystem, unit=alert.unit, data=alert_state(alert))
    bus.publish_kpis(subsystem=alert.subsystem, unit=alert.unit)


# --- API keys -------------------------------------------------------------------------------

# Each scope is limited to the key's unit and everything below it. Write scopes write and read
# nothing; read scopes read; citizens' identity needs its own scope on top of the read scope.
API_KEY_SCOPES = {
    "alerts:read": "read the alert stream",
    "alerts:write": "raise alerts, and resolve the ones the key raised",
    "dashboard:read": "read the dashboard snapshot (the wall's figures) and its map (/api/v1/map/units/)",
    "reports:read": "read field reports, without the reporters' identity",
    "reports:contacts": "with reports:read, also the reporters' name, phone and email",
    "reports:write": "submit field reports (Open311, partner apps) and follow the ones submitted",
    "traffic:read": "read cameras, incidents and camera events",
    "traffic:write": "push camera events and heartbeats",
    "onestop:read": "read dossiers (without applicants), offices, counters, Decision 766 figures",
    "onestop:write": "push one-stop dossiers, counters and queues",
    "indicators:read": "read indicators, observations, series and stations",
    "indicators:write": "push indicator observations",
}


def hash_api_key(secret: str) -> str:
    # The secret is 256 random bits, so a plain SHA-256 is enough; no slow hash is needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, scopes: list[str], unit: Unit, created_by=None) -> tuple[ApiKey, str]:
    """Create a key; the returned plain key is shown once and never stored."""
    unknown = sorted(set(scopes) - set(API_KEY_SCOPES))
    if unknown:
        raise ValidationError(
            _("Unknown scope(s): %(bad)s. Allowed: %(ok)s")
            % {"bad": ", ".join(unknown), "ok": ", ".join(sorted(API_KEY_SCOPES))}
        )
    if not scopes:
        raise ValidationError(_("An API key needs at least one scope."))
    if not name.strip():
        raise ValidationError(_("An API key needs a name."))
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plain = f"ioc_{prefix}_{secret}"
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(plain),
        scopes=sorted(set(scopes)),
        unit=unit,
        created_by=created_by,
    )
    audit.record(action="api_key.create", obj=key)
    return key, plain


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(action="api_key.revoke", obj=key)
    return key


# --- Wall screens (ioc.screens) --------------------------------------------------------------------


def screen_create(*, username: str, unit: Unit, password: str | None = None, first_name: str = "") -> tuple[User, str]:
    """A wall screen account for `unit` (its wall's scope); returns it and its password.

    Without a password one is generated (to be typed once on the screen's browser, then kept by its
    session); a given one must pass the password validators.
    """
    username = username.strip()
    if not username:
        raise ValidationError(_("A screen account needs a name."))
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise ValidationError(_("There is already an account named %(name)s.") % {"name": username})
        user = User(username=username, first_name=first_name or username, home_unit=unit)
        if password is None:
            password = secrets.token_urlsafe(18)
        else:
            validate_password(password, user)
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get_or_create(name=SCREEN)[0])
        audit.record(action="screen.create", obj=user)
    return user, password


def screen_sign_out(*, user) -> int:
    """End every session of a screen account and close its open live sockets; returns the sessions ended.

    The wall in front of it meets the login page at its next snapshot or socket message.
    """
    with transaction.atomic():
        ended = screens.end_sessions(user)
        audit.record(action="screen.sign_out", obj=user, detail={"sessions": ended})
    return ended


# --- the walls' playlists -----------------------------------------------------------------------

PLAYLIST_MAX_SCREENS = 30


def wall_playlist_save(*, user, slug: str, name: str, page_seconds: int, screens: list[tuple[str, int]]):
    """Create or replace playlist `slug`: its name, a panel's seconds per page, and its screens in
    order as (screen code, seconds). Leaders and administrators; walls pick it up within a minute."""
    from ioc.models import WallPlaylist, WallScreen
    from ioc.selectors import wall_screens

    if not has_role(user, LEADER, ADMIN):
        raise PermissionDenied(_("Only leaders can change what the walls show."))
    known = {screen["code"] for screen in wall_screens()}
    errors = {}
    if not screens:
        errors["screens"] = _("A playlist needs at least one screen.")
    elif len(screens) > PLAYLIST_MAX_SCREENS:
        errors["screens"] = _("At most %(n)s screens.") % {"n": PLAYLIST_MAX_SCREENS}
    elif any(code not in known for code, _seconds in screens):
        errors["screens"] = _("Unknown screen.")
    elif any(not 5 <= seconds <= 3600 for _code, seconds in screens):
        errors["screens"] = _("A screen stays from 5 to 3600 seconds.")
    if not 3 <= page_seconds <= 120:
        errors["page_seconds"] = _("A panel's page stays from 3 to 120 seconds.")
    if not (name or "").strip():
        errors["name"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        playlist, _created = WallPlaylist.objects.select_for_update().get_or_create(
            slug=slug, defaults={"name": name.strip(), "page_seconds": page_seconds}
        )
        playlist.name, playlist.page_seconds = name.strip(), page_seconds
        playlist.save()
        playlist.screens.all().delete()
        WallScreen.objects.bulk_create(
            WallScreen(playlist=playlist, position=n, screen=code, seconds=seconds)
            for n, (code, seconds) in enumerate(screens)
        )
        audit.record(action="wall.playlist.saved", obj=playlist, unit=getattr(user, "home_unit", None))
    return playlist


# --- leaders' directives (ý kiến chỉ đạo) --------------------------------------------------------

DIRECTIVE_TEXT_LIMIT = 2000
DIRECTIVE_MAX_DAYS_AHEAD = 366
DIRECTIVE_TYPE = "ioc.directive.updated"


def _clean_directive_text(value: str, field: str, *, required: bool) -> str:
    # Control characters other than line breaks and tabs are dropped; the rest is kept as written.
    value = "".join(c for c in (value or "") if c in "\n\t" or c.isprintable()).strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > DIRECTIVE_TEXT_LIMIT:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": DIRECTIVE_TEXT_LIMIT}})
    return value


def _directive_people(unit: Unit, *, besides=None):
    people = User.objects.filter(home_unit=unit, is_active=True, groups__name__in=(UNIT_STAFF, LEADER, OPERATOR))
    if besides is not None and getattr(besides, "pk", None):
        people = people.exclude(pk=besides.pk)
    return people.distinct()


def _announce_directive(directive) -> None:
    subsystem = directive.subject_type.partition(".")[0]
    bus.publish(type=DIRECTIVE_TYPE, subsystem=subsystem, unit=directive.owner, data=directive_state(directive))


def directive_issue(*, subject_type: str, subject_id, subject_label: str, text: str, owner: Unit, due_at, user):
    """A leader's directive on an item: what to do (`text`), by when (`due_at`), by which unit (`owner`).

    Leaders and administrators only; the owner must lie in the issuer's area; the due date is in the
    future and at most a year ahead. The owner unit's people are told by e-mail, and its screens live.
    """
    if getattr(user, "api_key", None) is not None or not has_role(user, LEADER, ADMIN):
        raise PermissionDenied(_("Only leaders can give directives."))
    subject_type, subject_id = (subject_type or "").strip(), str(subject_id or "").strip()
    if not subject_type or len(subject_type) > 40 or not subject_id or len(subject_id) > 64:
        raise ValidationError(_("A directive needs the item it is about."))
    if owner is None or not scope_for(user).contains(owner):
        raise ValidationError({"owner": _("The unit in charge must lie in your area.")})
    text = _clean_directive_text(text, "text", required=True)
    now = timezone.now()
    if due_at is None or timezone.is_naive(due_at):
        raise ValidationError({"due_at": _("Give the due date with its time zone.")})
    if due_at <= now:
        raise ValidationError({"due_at": _("The due date must be in the future.")})
    if due_at > now + timedelta(days=DIRECTIVE_MAX_DAYS_AHEAD):
        raise ValidationError({"due_at": _("The due date can be at most one year ahead.")})
    label = " ".join((subject_label or "").split())[:200] or f"{subject_type} {subject_id}"
    with transaction.atomic():
        directive = Directive.objects.create(
            subject_type=subject_type,
            subject_id=subject_id,
            subject_label=label,
            text=text,
            owner=owner,
            issued_by=user,
            issued_at=now,
            due_at=due_at,
        )
        audit.record(action="directive.issue", obj=directive, unit=owner)
        due_text = timezone.localtime(due_at).strftime("%H:%M %d/%m/%Y")
        notify.notify_users(
            _directive_people(owner, besides=user),
            subject=_("Directive: %(label)s") % {"label": label},
            body=_("%(text)s\n\nDue: %(due)s") % {"text": text, "due": due_text},
        )
        _announce_directive(directive)
    return directive


def _can_close_directive(user, owner: Unit) -> bool:
    if has_role(user, ADMIN):
        return True
    home = getattr(user, "home_unit", None)
    if home is None:
        return False
    if home.pk == owner.pk and has_role(user, UNIT_STAFF, OPERATOR, LEADER):
        return True
    return has_role(user, LEADER) and owner.path.startswith(home.path)  # a leader above the owner unit


def directive_done(*, directive_id: int, user, note: str = ""):
    """The owner unit says the directive is carried out, with what was done. Only once: a second time
    is a conflict. The owner unit's staff, leaders of it or above it, and administrators."""
    if getattr(user, "api_key", None) is not None:
        raise PermissionDenied(_("API keys may not do this."))
    note = _clean_directive_text(note, "note", required=False)
    with transaction.atomic():
        directive = (
            scope_for(user)
            .filter(Directive.objects.select_for_update(of=("self",)).select_related("owner"), "owner")
            .filter(pk=directive_id)
            .first()
        )
        if directive is None:
            raise NotFound(_("No such directive."))
        if not _can_close_directive(user, directive.owner):
            raise PermissionDenied(_("Only the unit in charge can mark this directive as done."))
        if directive.done_at is not None:
            raise Conflict(_("This directive was already marked as done."))
        directive.done_at, directive.done_note, directive.done_by = timezone.now(), note, user
        directive.save(update_fields=["done_at", "done_note", "done_by"])
        audit.record(action="directive.done", obj=directive, unit=directive.owner)
        _announce_directive(directive)
    return directive
