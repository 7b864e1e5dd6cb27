"""API-key authentication for machines: `Authorization: Bearer ioc_<prefix>_<secret>`."""

import hmac
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from ioc.models import ApiKey

LAST_USED_RESOLUTION = timedelta(minutes=1)  # record use at most once a minute per key


class MachinePrincipal:
    """The caller behind an API key: authenticated, scoped to the key's unit, no roles."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.username = f"apikey:{api_key.name}"
        # Rate limits count per caller (pk): each key is its own caller, never one shared bucket.
        self.pk = f"apikey-{api_key.pk}"

    def __str__(self):
        return self.username


# --- What a key may do ---------------------------------------------------------------------------
#
# Every API view declares, per action (viewsets) or per HTTP method (plain views), the one scope a
# key needs for it: `key_scopes = {"list": "reports:read", "create": "reports:write"}`. An action
# that is not listed is refused to every key, whatever its scopes: a key can do exactly what its
# scopes say and nothing else. The check runs when the key is authenticated, before any permission
# class a view may override, so no view can forget it.

ANY_KEY = "*"  # public reference data (units, categories, the subsystem list): any key may read it


def key_scopes(**scopes: str):
    """Declare the scopes of a plain `@api_view` view: `@key_scopes(get="onestop:read")`, outermost."""

    def decorate(view):
        cls = getattr(view, "cls", None)
        if cls is None:
            raise TypeError("key_scopes() goes above @api_view")
        cls.key_scopes = scopes
        return view

    return decorate


def required_key_scope(request) -> str | None:
    """The scope a key needs for this request, or None when no key may make it."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    declared = getattr(view, "key_scopes", None) or {}
    action = getattr(view, "action", None) or request.method.lower()
    if action == "metadata" or request.method == "HEAD":  # OPTIONS and HEAD read like GET
        action = getattr(view, "action_map", {}).get("get") or "get"
    return declared.get(action)


def authorize_key(request, key: ApiKey) -> None:
    needed = required_key_scope(request)
    if needed is None:
        raise exceptions.PermissionDenied(_("API keys may not do this."))
    if needed != ANY_KEY and needed not in key.scopes:
        raise exceptions.PermissionDenied(
            _("This API key may not do this (it needs the '%(scope)s' scope).") % {"scope": needed}
        )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as 'Authorization: Bearer <key>'."))
        principal, key = self.authenticate_key(parts[1])
        authorize_key(request, key)
        return principal, key

    @staticmethod
    def authenticate_key(plain: str):
        from ioc.services import hash_api_key

        pieces = plain.split("_", 2)
        if len(pieces) != 3 or pieces[0] != "ioc":
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        key = ApiKey.objects.select_related("unit").filter(prefix=pieces[1]).first()
        if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(plain)):
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."))
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return MachinePrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


def key_has_scope(request, scope: str) -> bool:
    key = getattr(request.user, "api_key", None)
    return key is not None and scope in key.scopes


def is_key(request) -> bool:
    return getattr(request.user, "api_key", None) is not None


class KeyOnly(permissions.BasePermission):
    """Machine endpoints (batch ingestion): only API keys; which key, `key_scopes` decides."""

    message = _("Only API keys may do this.")

    def has_permission(self, request, view):
        return is_key(request)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes API keys in the OpenAPI schema as HTTP bearer tokens."""

    target_class = "ioc.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "API key: `Authorization: Bearer ioc_…`"}
