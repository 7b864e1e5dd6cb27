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
        return self.authenticate_key(parts[1])

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


def api_key_scope(scope: str):
    """A permission class admitting API keys that carry `scope`."""

    class HasApiKeyScope(permissions.BasePermission):
        message = _("This API key may not do this (it needs the '%(scope)s' scope).") % {"scope": scope}

        def has_permission(self, request, view):
            return key_has_scope(request, scope)

    return HasApiKeyScope


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes API keys in the OpenAPI schema as HTTP bearer tokens."""

    target_class = "ioc.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "API key: `Authorization: Bearer ioc_…`"}
