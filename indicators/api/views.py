from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from indicators import selectors, services
from indicators.api import serializers as s
from indicators.api.exports import OBSERVATIONS
from indicators.models import Observation
from ioc.api.views import ScopedViewSet
from ioc.auth import KeyOnly, key_scopes
from ioc.errors import NotFound
from ioc.exports import ExportMixin
from ioc.scope import Scope, scope_for

OBSERVATIONS_EXAMPLE = OpenApiExample(
    "Budget revenue for November and the AQI of one hour at a station",
    value={
        "observations": [
            {"indicator": "budget_revenue", "unit": "75", "period": "2026-11", "value": 5630.5},
            {"indicator": "aqi", "station": "BH-KK-01", "period": "2026-11-26T08:00:00+07:00", "value": 87},
        ]
    },
    request_only=True,
)


class IndicatorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Indicator definitions: what each subsystem reports, its period, direction and thresholds."""

    queryset = selectors.indicators_visible()
    lookup_field = "code"
    filterset_fields = ["subsystem", "period"]
    key_scopes = {"list": "indicators:read", "retrieve": "indicators:read"}

    serializer_class = s.IndicatorSerializer


class ObservationFilter(filters.FilterSet):
    indicator = filters.CharFilter(field_name="indicator__code")
    subsystem = filters.CharFilter(field_name="indicator__subsystem")
    unit = filters.CharFilter(field_name="unit__code")
    station = filters.CharFilter(field_name="station__code")
    since = filters.IsoDateTimeFilter(field_name="period_start", lookup_expr="gte")
    before = filters.IsoDateTimeFilter(field_name="period_start", lookup_expr="lt")

    class Meta:
        model = Observation
        fields = ["indicator", "subsystem", "unit", "station", "status", "since", "before"]


class ObservationViewSet(ExportMixin, ScopedViewSet, mixins.ListModelMixin):
    """Observations in the caller's scope (GET); a batch from a department's system (POST)."""

    queryset = Observation.objects.select_related("indicator", "unit", "station")
    filterset_class = ObservationFilter
    export_list = OBSERVATIONS  # GET export/: the list as a file (ioc.exports)
    key_scopes = {"list": "indicators:read", "export": "indicators:read", "create": "indicators:write"}

    serializer_class = s.ObservationSerializer

    def get_permissions(self):
        if self.action == "create":
            return [KeyOnly()]
        return super().get_permissions()

    @extend_schema(
        request=s.ObservationBatchSerializer,
        responses={
            200: OpenApiResponse(description=_("One result per observation: created, replaced, unchanged or error."))
        },
        examples=[OBSERVATIONS_EXAMPLE],
    )
    def create(self, request):
        """A batch of up to 1,000 observations (`{"observations": [...]}` or a bare list).

        Idempotent on (indicator, unit, station, period): the same value again changes nothing; a new
        value replaces the stored one, which is kept in the history. Units and stations must lie in the
        key's unit; indicators in the subsystems the key may report. A bad item is named in its result
        and the good ones are stored. Without a unit, an item belongs to its station's unit or the key's.
        """
        data = request.data
        if isinstance(data, dict) and "observations" in data:
            items = data["observations"]
        elif isinstance(data, list):
            items = data
        else:
            items = [data]
        key = request.user.api_key
        results = services.observations_ingest(
            items=items,
            source=f"key:{key.prefix}",
            scope=scope_for(request.user),
            subsystems=services.subsystems_allowed(key),
            default_unit=key.unit,
        )
        return Response({**services.summarize(results), "results": results})


def _unit_scope(request) -> Scope:
    """The caller's scope, narrowed to `?unit=` when given (404 outside the caller's scope)."""
    scope = scope_for(request.user)
    code = request.query_params.get("unit")
    if not code:
        return scope
    unit = scope.units().filter(code=code).first()
    if unit is None:
        raise NotFound(_("No such unit."))
    return Scope(unit=unit)


@extend_schema(
    parameters=[
        OpenApiParameter("indicator", str, required=True),
        OpenApiParameter("unit", str, description=_("A unit code in your scope; default: your whole scope.")),
        OpenApiParameter("points", int, description=_("How many periods (1-366); default depends on the period.")),
    ],
    responses={200: OpenApiResponse(description=_("The indicator's last periods, oldest first."))},
)
@key_scopes(get="indicators:read")
@api_view(["GET"])
def series(request):
    """One indicator's values over its last periods, for a sparkline, for a unit or your whole scope."""
    indicator = get_object_or_404(selectors.indicators_visible(), code=request.query_params.get("indicator", ""))
    points = request.query_params.get("points")
    if points is not None:
        try:
            points = int(points)
        except ValueError:
            raise ApiValidationError({"points": _("Must be a whole number.")}) from None
        if not 1 <= points <= 366:
            raise ApiValidationError({"points": _("Must be between 1 and 366.")})
    scope = _unit_scope(request)
    return Response(
        {
            "indicator": indicator.code,
            "unit": scope.unit.code if scope.unit else None,
            "period": indicator.period,
            "unit_of_measure": indicator.unit_of_measure,
            "points": selectors.series(indicator, scope, points),
        }
    )


@extend_schema(responses={200: OpenApiResponse(description=_("Stations with position and latest readings."))})
@key_scopes(get="indicators:read")
@api_view(["GET"])
def stations(request):
    """Monitoring stations in your scope with their position and latest readings (AQI with its band)."""
    return Response(selectors.station_map(_unit_scope(request)))
