"""The hotline form's API: the places a caller may name, and the call itself.

Both are an operator's work with a caller on the line, so no API key may use them (`key_scopes()`
declares none) and other roles are refused.
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from ioc.auth import key_scopes
from ioc.models import Unit
from ioc.roles import ADMIN, OPERATOR, has_role
from ioc.scope import scope_for
from reports import selectors, services
from reports.api import serializers as s


def _operators_only(request):
    if not has_role(request.user, OPERATOR, ADMIN):
        raise PermissionDenied(_("Only operators record hotline calls."))


def _unit(code: str, field: str, message: str):
    if not code:
        return None
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise ApiValidationError({field: message % {"code": code}})
    return unit


@extend_schema(
    parameters=[OpenApiParameter("q", str, description=_("Words of the place, with or without diacritics."))],
    responses={200: OpenApiResponse(description=_("Communes/wards, then known addresses, best first."))},
)
@key_scopes()
@api_view(["GET"])
def places(request):
    """Where the caller says the problem is: communes/wards by name and the addresses of recent
    reports (with their point), within the operator's area."""
    _operators_only(request)
    query = request.query_params.get("q", "")[:100]
    return Response({"results": selectors.hotline_places(scope_for(request.user), query)})


@extend_schema(request=s.HotlineCallSerializer, responses={201: s.HotlineTakenSerializer})
@key_scopes()
@api_view(["POST"])
def take_call(request):
    """Record a hotline call as a report already triaged (accepted, and assigned when a unit is
    given); the caller gets the tracking code and secret by text message."""
    _operators_only(request)
    body = s.HotlineCallSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    unit = _unit(data.pop("unit"), "unit", _("Unknown commune/ward code “%(code)s”."))
    assign_to = _unit(data.pop("assign_to"), "assign_to", _("Unknown unit code “%(code)s”."))
    report, secret = services.report_take_call(
        user=request.user,
        unit=unit,
        assign_to=assign_to,
        tracking_page=request.build_absolute_uri(reverse("portal:track")),
        **data,
    )
    return Response(
        {
            "id": report.pk,
            "tracking_code": report.tracking_code,
            "secret": secret,
            "status": report.status,
            "level": report.level,
            "unit_name": report.unit.name,
            "assigned_unit_name": report.assigned_unit.name if report.assigned_unit else None,
            "sms_to": report.reporter_phone,
        },
        status=status.HTTP_201_CREATED,
    )
