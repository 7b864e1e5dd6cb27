"""The audit log: who wrote what, and who read a citizen's contact details.

`AuditMiddleware` opens a context for each request (the caller, the client address, the view). The
service functions call `record(...)` inside their own transaction, so an entry commits exactly when
the write does; outside a request (Celery, demo feeds, management commands) `record` does nothing.
A successful unsafe request by a person or a key that no service described (an admin form, a view
without a service hook) still gets one entry from the middleware, named after the resolved view.
Rows are append-only in the database too: see migration ioc/0004.
"""

import contextvars
import ipaddress
import logging
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from ioc import clientaddr

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# Signing in and out and choosing a language change no object: axes and the session cover them.
UNAUDITED_VIEWS = {"login", "logout", "set_language"}
ADMIN_FLAGS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}

logger = logging.getLogger(__name__)
_current: contextvars.ContextVar["RequestContext | None"] = contextvars.ContextVar("ioc_audit", default=None)


def client_address(request) -> str | None:
    """The caller's address, decided once for the whole project (trusted proxies: ioc.clientaddr)."""
    address = clientaddr.client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # unknown, or not an address: the entry keeps the path and the caller
        return None


@dataclass
class RequestContext:
    request: object
    started_at: object = field(default_factory=timezone.now)
    view: str = ""
    kwargs: dict = field(default_factory=dict)
    model: str = ""  # the viewset's model, when the view has one
    recorded: bool = False


def _actor(request):
    """(user, api_key, label, home unit) of the caller, or None for citizens and anonymous callers."""
    principal = getattr(request, "user", None)
    if principal is None or not principal.is_authenticated:
        return None
    key = getattr(principal, "api_key", None)
    if key is not None:
        return None, key, str(principal), key.unit
    return principal, None, principal.get_username(), getattr(principal, "home_unit", None)


def _describe(obj) -> tuple[str, str, str]:
    """(type, id, label) of a model instance, or of a model class for a batch of its rows."""
    if obj is None:
        return "", "", ""
    if isinstance(obj, type) and issubclass(obj, models.Model):
        return obj._meta.label_lower, "", ""
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk), str(obj)
    return type(obj).__name__.lower(), "", str(obj)


def _unit_of(obj):
    from ioc.models import Unit

    if isinstance(obj, Unit):
        return obj
    if not isinstance(obj, models.Model):
        return None
    return getattr(obj, "unit", None) or getattr(obj, "home_unit", None)  # a user's unit is their home unit


def _text(value, limit: int) -> str:
    # PostgreSQL text cannot hold NUL: a hostile path or label must not turn a write into a 500.
    return str(value).replace("\x00", "")[:limit]


def _write(context: RequestContext, *, kind, action, obj=None, unit=None, count=1, label="", detail=None, about=None):
    """Insert one entry; `about` = (type, id) names an object that is not at hand (deleted, admin log)."""
    from ioc.models import AuditEntry

    actor = _actor(context.request)
    if actor is None:
        return None
    user, key, actor_label, home_unit = actor
    object_type, object_id, object_label = _describe(obj)
    if about is not None:
        object_type, object_id = about
    unit = unit or _unit_of(obj) or home_unit
    request = context.request
    context.recorded = True
    return AuditEntry.objects.create(
        kind=kind,
        action=_text(action, 80),
        user=user,
        api_key=key,
        actor_label=_text(actor_label, 150),
        object_type=_text(object_type, 100),
        object_id=_text(object_id, 64),
        object_label=_text(label or object_label, 300),
        count=count,
        unit=unit,
        unit_code=unit.code if unit else "",
        unit_name=_text(unit.name, 200) if unit else "",
        client_address=client_address(request),
        method=_text(request.method, 8),
        path=_text(request.path, 500),
        view=_text(context.view, 200),
        detail=detail or {},
    )


def record(*, action: str, obj=None, unit=None, count: int = 1, label: str = "", detail: dict | None = None):
    """One write by the current request's caller: `obj` is the instance written (or the model of a batch).

    Call it inside the service's transaction: a write that rolls back leaves no entry. The unit is
    the one given, else the object's own unit, else the caller's home unit. Outside a request, or for
    a citizen, nothing is recorded.
    """
    context = _current.get()
    if context is None:
        return None
    from ioc.models import AuditEntry

    return _write(
        context, kind=AuditEntry.Kind.WRITE, action=action, obj=obj, unit=unit, count=count, label=label, detail=detail
    )


def contacts_read(*, obj, unit=None, count: int = 1):
    """The current caller was shown a citizen's contact details (name, phone, email) in `obj`.

    `obj` is the instance, or the model of a page of `count` rows that show them.
    """
    context = _current.get()
    if context is None:
        return None
    from ioc.models import AuditEntry

    return _write(context, kind=AuditEntry.Kind.CONTACTS_READ, action="contacts.read", obj=obj, unit=unit, count=count)


class AuditMiddleware:
    """Gives services the request's caller, and records the writes that no service described."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = RequestContext(request)
        request.audit_context = context
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if (
            request.method not in SAFE_METHODS
            and response.status_code < 400
            and not context.recorded
            and context.view
            and context.view.rsplit(":", 1)[-1] not in UNAUDITED_VIEWS
        ):
            try:
                self._record_unhooked_write(context)
            except Exception:  # the write has committed already: answer it, and say loudly what is missing
                logger.exception("audit entry not written for %s %s", request.method, request.path)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        context = getattr(request, "audit_context", None)
        if context is not None and request.resolver_match is not None:
            context.view = request.resolver_match.view_name or ""
            actions = getattr(view_func, "actions", None)  # DRF viewsets: method -> action
            if actions and request.method.lower() in actions:
                context.view = f"{context.view} ({actions[request.method.lower()]})"
            context.kwargs = {k: _text(v, 200) for k, v in view_kwargs.items()}
            queryset = getattr(getattr(view_func, "cls", None), "queryset", None)
            context.model = queryset.model._meta.label_lower if queryset is not None else ""
        return None

    def _record_unhooked_write(self, context: RequestContext) -> None:
        from django.contrib.admin.models import LogEntry

        from ioc.models import AuditEntry

        request = context.request
        if request.resolver_match and request.resolver_match.app_name == "admin":
            user = getattr(request, "user", None)
            logs = LogEntry.objects.filter(user_id=getattr(user, "pk", None), action_time__gte=context.started_at)
            for log in logs.select_related("content_type").order_by("pk"):
                self._record_admin_log(context, log)
            if context.recorded:
                return
        object_id = next((context.kwargs[k] for k in ("pk", "id", "code") if k in context.kwargs), "")
        _write(
            context,
            kind=AuditEntry.Kind.WRITE,
            action=context.view,
            label=" ".join(f"{k}={v}" for k, v in context.kwargs.items()),
            detail={"kwargs": context.kwargs} if context.kwargs else None,
            about=(context.model, object_id),
        )

    @staticmethod
    def _record_admin_log(context: RequestContext, log) -> None:
        from ioc.models import AuditEntry

        obj = None
        if log.action_flag != 3:  # a deleted object is gone: its LogEntry keeps type, id and label
            try:
                obj = log.get_edited_object()
            except Exception:  # noqa: BLE001 - the object may have gone since; its label stays
                obj = None
        content_type = log.content_type
        _write(
            context,
            kind=AuditEntry.Kind.WRITE,
            action=ADMIN_FLAGS.get(log.action_flag, "admin.change"),
            unit=_unit_of(obj),
            label=log.object_repr,
            detail={"change": log.get_change_message()} if log.change_message else None,
            about=(f"{content_type.app_label}.{content_type.model}" if content_type else "", log.object_id or ""),
        )
