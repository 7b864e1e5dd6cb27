"""Open311 GeoReport v2 endpoints (http://wiki.open311.org/GeoReport_v2).

Each answers in JSON or XML by the extension of its path. Errors are GeoReport errors in the same
format: 404 for what does not exist, 403 for a missing, wrong or revoked api_key, 400 for anything
else the caller sent wrong (429 and 405 keep their HTTP meaning). Anonymous reads are throttled
like every anonymous call; submitting needs an IOC API key with the "reports:write" scope.
"""

import json
import math
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from ioc import geo, ingest
from ioc.auth import ANY_KEY, ApiKeyAuthentication, authorize_key, key_has_scope
from ioc.dbrouters import reads_from_replica
from ioc.errors import Conflict, NotFound
from ioc.scope import scope_for
from ioc.throttling import UserRateThrottle
from reports import services
from reports.models import FINISHED_STATUSES, OPEN_STATUSES, Category, Channel, Report, ReportEvent
from reports.open311 import records, xml

WRITE_SCOPE = "reports:write"
MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_PAGE_NUMBER = 1_000_000
MAX_MEDIA_URL = 1000
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
UNENCODED_PLUS = re.compile(r" (\d\d:?\d\d)$")
ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# Service fields named as Open311 names them, for error descriptions.
FIELD_NAMES = {
    "category": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "location": "lat/long",
    "unit": "lat/long",
    "address": "address_string",
    "reporter_name": "first_name/last_name",
    "reporter_phone": "phone/email",
    "reporter_email": "email",
}


class Open311Error(Exception):
    """An error to answer as `[{"code": status, "description": ...}]`."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = descriptions


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


# --- responses ----------------------------------------------------------------------------------


def respond(fmt: str, root: str, data, status: int = 200) -> HttpResponse:
    """JSON (lists bare, as GeoReport v2 has them) or XML under `root`."""
    if fmt == "xml":
        body = xml.render(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, *descriptions: str, headers=None) -> HttpResponse:
    errors = [{"code": status, "description": text} for text in descriptions or ("",)]
    response = respond(fmt, "errors", errors, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_descriptions(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{FIELD_NAMES.get(field, field)}: {message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return list(exc.messages)


def fmt_of_path(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def not_found(request, *args, **kwargs):
    """Anything under /open311/v2/ that is not an endpoint."""
    return error_response(fmt_of_path(request.path), 404, _("No such Open311 resource."))


# --- the base view ------------------------------------------------------------------------------


class _ExtensionDecides(DefaultContentNegotiation):
    """The path's extension picks the format; the Accept header never refuses a call."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Open311View(APIView):
    permission_classes = [permissions.AllowAny]
    key_scopes = {"get": ANY_KEY, "post": WRITE_SCOPE}  # reading is public; submitting needs the scope
    content_negotiation_class = _ExtensionDecides
    schema = None  # described by the GeoReport v2 specification, not in the IOC's OpenAPI schema

    @property
    def fmt(self) -> str:
        return self.kwargs.get("fmt") or "json"

    def handle_exception(self, exc):
        if isinstance(exc, Open311Error):
            return error_response(self.fmt, exc.status, *exc.descriptions)
        if isinstance(exc, ValidationError):
            return error_response(self.fmt, 400, *_validation_descriptions(exc))
        if isinstance(exc, NotFound | Http404 | exceptions.NotFound):
            return error_response(self.fmt, 404, str(exc) or _("Not found."))
        if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
            return error_response(self.fmt, 403, str(exc.detail))
        if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
            return error_response(self.fmt, 403, str(getattr(exc, "detail", exc)))
        if isinstance(exc, exceptions.Throttled):
            headers = {"Retry-After": str(math.ceil(exc.wait))} if exc.wait else {}
            return error_response(self.fmt, 429, str(exc.detail), headers=headers)
        if isinstance(exc, exceptions.MethodNotAllowed):
            return error_response(self.fmt, 405, str(exc.detail), headers={"Allow": ", ".join(self.allowed_methods)})
        if isinstance(exc, exceptions.APIException | Conflict):
            return error_response(self.fmt, 400, str(getattr(exc, "detail", exc)))
        return super().handle_exception(exc)


def _param(data, name: str) -> str:
    value = data.get(name)
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise bad_request(_("%(name)s: contains a NUL character.") % {"name": name})
    return value.strip()


def _list_param(data, name: str) -> list[str]:
    return [item.strip() for item in _param(data, name).split(",") if item.strip()]


# --- discovery and services ---------------------------------------------------------------------

CHANGESET = "2026-11-26T00:00:00+07:00"  # when the endpoint definitions below last changed


@reads_from_replica
class DiscoveryView(Open311View):
    def get(self, request, fmt):
        url = request.build_absolute_uri(reverse("open311:root"))
        return respond(
            fmt,
            "discovery",
            {
                "changeset": CHANGESET,
                "contact": settings.DEFAULT_FROM_EMAIL,
                "key_service": _(
                    "Ask the operations centre for an API key with the “reports:write” scope to submit requests."
                ),
                "endpoints": [
                    {
                        "specification": records.SPECIFICATION,
                        "url": url,
                        "changeset": CHANGESET,
                        "type": "production",
                        "formats": ["application/json", "text/xml"],
                    }
                ],
            },
        )


@reads_from_replica
class ServiceListView(Open311View):
    def get(self, request, fmt):
        return respond(fmt, "services", [records.service(c) for c in records.active_categories()])


@reads_from_replica
class ServiceDefinitionView(Open311View):
    def get(self, request, fmt, service_code):
        category = records.active_categories().filter(code=service_code).first()
        if category is None:
            raise Open311Error(404, _("No service with the code “%(code)s”.") % {"code": service_code})
        return respond(fmt, "service_definition", records.service_definition(category))


# --- requests -----------------------------------------------------------------------------------


class FormApiKeyAuthentication(BaseAuthentication):
    """The `api_key` parameter of a GeoReport v2 POST, as an IOC API key."""

    def authenticate(self, request):
        plain = request.data.get("api_key") or request.query_params.get("api_key")
        if not plain or "\x00" in str(plain):
            raise exceptions.AuthenticationFailed(_("An api_key is required to submit a request."))
        principal, key = ApiKeyAuthentication.authenticate_key(str(plain).strip())
        authorize_key(request, key)
        return principal, key


class CanSubmitReports(permissions.BasePermission):
    message = _("This API key may not submit requests (it needs the “reports:write” scope).")

    def has_permission(self, request, view):
        return key_has_scope(request, WRITE_SCOPE)


class ApiKeyRateThrottle(UserRateThrottle):
    """The authenticated rate, counted per API key."""

    def get_cache_key(self, request, view):
        key = getattr(request.user, "api_key", None)
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"apikey-{key.pk}"}


def _datetime_param(data, name: str):
    # An unencoded "+07:00" arrives as " 07:00": read it as the offset it was meant to be.
    raw = UNENCODED_PLUS.sub(r"+\1", _param(data, name))
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or timezone.is_naive(value):
        raise bad_request(
            _("%(name)s: use a W3C datetime with a timezone, e.g. 2026-05-12T08:00:00+07:00.") % {"name": name}
        )
    if not ingest.sane_moment(value):
        raise bad_request(
            _("%(name)s: use a date between the years %(first)s and %(last)s.")
            % {"name": name, "first": ingest.FIRST_YEAR, "last": ingest.LAST_YEAR}
        )
    return ingest.in_utc(value)


def _window(data):
    """(start, end) of requested_datetime: the last 90 days unless given; never more than 90 days."""
    start, end = _datetime_param(data, "start_date"), _datetime_param(data, "end_date")
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise bad_request(_("end_date is before start_date."))
    if end - start > MAX_WINDOW:
        raise bad_request(_("start_date and end_date may not span more than 90 days."))
    return start, end


def _positive_int(data, name: str, default: int) -> int:
    raw = _param(data, name)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_NUMBER:
        raise bad_request(
            _("%(name)s: a whole number from 1 to %(max)s.") % {"name": name, "max": f"{MAX_PAGE_NUMBER:,}"}
        )
    return int(raw)


def _coordinate(data, name: str) -> float | None:
    raw = _param(data, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise bad_request(_("%(name)s: a number in decimal degrees.") % {"name": name})
    return value


def _extensions(data) -> bool:
    return _param(data, "extensions").lower() == "true"


# A sender following its own requests by id reads from the primary: they may be a second old.
@reads_from_replica(unless=lambda request: "service_request_id" in request.GET)
class RequestListView(Open311View):
    """GET: search requests. POST: submit one (form-encoded, with `api_key`)."""

    parser_classes = [FormParser, MultiPartParser]

    def get_authenticators(self):
        if self.request.method == "POST":
            return [FormApiKeyAuthentication()]
        return super().get_authenticators()

    def get_permissions(self):
        if self.request.method == "POST":
            return [CanSubmitReports()]
        return super().get_permissions()

    def get_throttles(self):
        if self.request.method == "POST":
            return [ApiKeyRateThrottle()]
        return super().get_throttles()

    def get(self, request, fmt):
        params = request.query_params
        page_size = min(_positive_int(params, "page_size", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
        page = _positive_int(params, "page", 1)
        ids = _list_param(params, "service_request_id")
        # Asked for by id (its sender following it), a report shows even before triage, as a bare record.
        reports = records.reports_for_open311(published_only=not ids)
        if ids:  # overrides every other filter
            reports = reports.filter(tracking_code__in=[i.upper() for i in ids])
        else:
            start, end = _window(params)
            reports = reports.filter(received_at__gte=start, received_at__lte=end)
            codes = _list_param(params, "service_code")
            if codes:
                known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
                unknown = [code for code in codes if code not in known]
                if unknown:
                    raise bad_request(_("Unknown service_code: %(codes)s.") % {"codes": ", ".join(unknown)})
                reports = reports.filter(category__code__in=codes)
            wanted = _list_param(params, "status")
            if any(value not in ("open", "closed") for value in wanted):
                raise bad_request(_("status: open or closed."))
            if wanted and set(wanted) != {"open", "closed"}:
                statuses = OPEN_STATUSES if wanted[0] == "open" else FINISHED_STATUSES
                reports = reports.filter(status__in=statuses)
        offset = (page - 1) * page_size
        found = reports.order_by("-received_at", "-pk")[offset : offset + page_size]
        extensions = _extensions(params)
        data = [records.service_request(r, request, extensions=extensions) for r in found]
        return respond(fmt, "service_requests", data)

    def post(self, request, fmt):
        data = request.data
        code = _param(data, "service_code")
        if not code:
            raise bad_request(_("service_code is required."))
        category = records.active_categories().filter(code=code).first()
        if category is None:
            raise bad_request(_("Unknown service_code: %(codes)s.") % {"codes": code})
        latitude, longitude = _coordinate(data, "lat"), _coordinate(data, "long")
        address = self._address(data)
        media_url = self._media_url(data)
        geo.check_in_service_area(latitude, longitude)
        key = request.user.api_key
        if latitude is not None:
            unit = geo.locate_unit(latitude, longitude)
            if unit is not None and not scope_for(request.user).contains(unit):
                raise bad_request(_("lat/long: this location is outside the area of this API key."))
        elif key.unit.kind in geo.TERRITORIAL_KINDS:
            unit = key.unit  # a ward's or commune's own partner system: the problem is there
        else:
            raise bad_request(_("lat and long are required."))
        name = " ".join(part for part in (_param(data, "first_name"), _param(data, "last_name")) if part)
        with transaction.atomic():
            report, _secret = services.report_submit(
                category=category,
                description=_param(data, "description"),
                latitude=latitude,
                longitude=longitude,
                address=address,
                unit=unit,
                reporter_name=name,
                reporter_phone=_param(data, "phone"),
                reporter_email=_param(data, "email"),
                channel=Channel.OPEN311,
                user=request.user,
            )
            if media_url:
                # Kept as an internal note for staff; never fetched, never published.
                ReportEvent.objects.create(
                    report=report,
                    at=timezone.now(),
                    action=ReportEvent.Action.SUBMITTED,
                    actor_label=str(request.user),
                    from_status=report.status,
                    to_status=report.status,
                    note=_("Photo link sent with the request (not fetched): %(url)s") % {"url": media_url},
                    public=False,
                )
        answer = {
            "service_request_id": report.tracking_code,
            "service_notice": records.service_notice(report),
            "account_id": None,
        }
        return respond(fmt, "service_requests", [answer], status=201)

    @staticmethod
    def _address(data) -> str:
        detail = ""
        for name in data:
            match = ATTRIBUTE.match(name)
            if match is None:
                continue
            if match.group(1) != records.ADDRESS_DETAIL:
                raise bad_request(_("Unknown attribute: %(code)s.") % {"code": match.group(1)})
            detail = _param(data, name)
        return ", ".join(part for part in (_param(data, "address_string"), detail) if part)

    @staticmethod
    def _media_url(data) -> str:
        url = _param(data, "media_url")
        if not url:
            return ""
        try:
            if len(url) > MAX_MEDIA_URL:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise bad_request(_("media_url: an http or https address.")) from None
        return url


class RequestDetailView(Open311View):
    def get(self, request, fmt, service_request_id):
        report = (
            records.reports_for_open311(published_only=False).filter(tracking_code=service_request_id.upper()).first()
        )
        if report is None:
            raise Open311Error(404, _("No request with the id “%(id)s”.") % {"id": service_request_id})
        record = records.service_request(report, request, extensions=_extensions(request.query_params))
        return respond(fmt, "service_requests", [record])


class TokenView(Open311View):
    """Requests get their id at once, so a token is that id and resolves immediately."""

    def get(self, request, fmt, token):
        report = Report.objects.filter(tracking_code=token.strip().upper()).only("tracking_code").first()
        if report is None:
            raise Open311Error(404, _("No request with the token “%(token)s”.") % {"token": token})
        return respond(fmt, "service_requests", [{"service_request_id": report.tracking_code, "token": token}])
