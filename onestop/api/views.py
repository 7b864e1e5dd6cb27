from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from ioc.api.views import ScopedViewSet
from ioc.auth import KeyOnly, key_scopes
from ioc.exports import ExportMixin
from ioc.scope import Scope, scope_for
from onestop import selectors, services
from onestop.api.exports import DOSSIERS
from onestop.api.serializers import DossiersBody, QueueFiguresBody
from onestop.models import Counter, Dossier, Office, Procedure
from onestop.selectors import status_history

DOSSIER_EXAMPLE = OpenApiExample(
    "One dossier",
    value={
        "dossiers": [
            {
                "code": "000.00.26.H19-261126-0001",
                "procedure": "1.001193",
                "unit": "26080",
                "applicant": {"name": "Nguyễn Văn An", "id_number": "075090001234", "phone": "0912345678"},
                "status": 4,
                "channel": 2,
                "submitted_at": "2026-11-26T07:40:00+07:00",
                "received_at": "2026-11-26T08:05:00+07:00",
                "due_at": "2026-11-27T08:05:00+07:00",
                "supplements": [{"requested_at": "2026-11-26T09:00:00+07:00", "supplied_at": None}],
                "paid_online": False,
                "digitized": True,
                "updated_at": "2026-11-26T09:00:00+07:00",
            }
        ]
    },
    request_only=True,
)


class DossierSerializer(serializers.ModelSerializer):
    """A dossier without its applicant: personal data stays in the one-stop software and the office."""

    procedure = serializers.SlugRelatedField(slug_field="code", read_only=True)
    procedure_name = serializers.CharField(source="procedure.name", read_only=True)
    field = serializers.CharField(source="procedure.field", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Dossier
        fields = [
            "code",
            "procedure",
            "procedure_name",
            "field",
            "unit",
            "status",
            "status_label",
            "channel",
            "submitted_at",
            "received_at",
            "due_at",
            "extended_due_at",
            "processing_ended_at",
            "returned_at",
            "has_fees",
            "paid_online",
            "digitized",
            "electronic_result",
            "satisfaction",
            "complaint",
            "updated_at",
        ]


class DossierDetailSerializer(DossierSerializer):
    supplements = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta(DossierSerializer.Meta):
        fields = [*DossierSerializer.Meta.fields, "supplements", "history"]

    def get_supplements(self, dossier) -> list[dict]:
        return [
            {"number": s.number, "requested_at": s.requested_at, "supplied_at": s.supplied_at}
            for s in dossier.supplements.all()
        ]

    def get_history(self, dossier) -> list[dict]:
        return [{"status": status, "at": at} for status, at in status_history(dossier)]


class DossierFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="unit__code")
    procedure = filters.CharFilter(field_name="procedure__code")
    received_from = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Dossier
        fields = ["status", "channel", "unit", "procedure", "received_from", "received_before"]


class DossierViewSet(ExportMixin, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Dossiers received by units in the caller's scope; POST is the one-stop software's bulk upsert."""

    queryset = Dossier.objects.select_related("procedure", "unit").order_by("-received_at", "code")
    serializer_class = DossierSerializer
    filterset_class = DossierFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    export_list = DOSSIERS  # GET export/: the list as a file (ioc.exports)
    key_scopes = {
        "list": "onestop:read",
        "export": "onestop:read",
        "retrieve": "onestop:read",
        "create": "onestop:write",
    }

    def get_permissions(self):
        if self.action == "create":
            return [KeyOnly()]
        return super().get_permissions()

    def get_serializer_class(self):
        return DossierDetailSerializer if self.action == "retrieve" else DossierSerializer

    @extend_schema(
        request={"application/json": DossiersBody},
        responses={
            200: OpenApiResponse(description=_("One result per dossier: created, updated, unchanged, stale or error."))
        },
        examples=[DOSSIER_EXAMPLE],
    )
    def create(self, request):
        """Create or update dossiers by code (`{"dossiers": [...]}`, a list, or one object), idempotent.

        An item older (`updated_at`) than what is stored does not overwrite it; its status still enters
        the dossier's history. A bad item is named in its result; the good ones are stored.
        """
        data = request.data
        if isinstance(data, list):
            items = data
        elif isinstance(data, dict) and "dossiers" in data:
            items = data["dossiers"]
        else:
            items = [data]
        results = services.dossiers_upsert(items=items, scope=scope_for(request.user))
        outcomes = ("created", "updated", "unchanged", "stale", "error")
        summary = {s: sum(1 for r in results if r["status"] == s) for s in outcomes}
        return Response({**summary, "results": results}, status=status.HTTP_200_OK)


class OfficeViewSet(ScopedViewSet, mixins.ListModelMixin):
    key_scopes = {"list": "onestop:read"}
    queryset = Office.objects.select_related("unit")

    class OfficeSerializer(serializers.ModelSerializer):
        unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

        class Meta:
            model = Office
            fields = ["unit", "name", "address", "active"]

    serializer_class = OfficeSerializer


class CounterViewSet(ScopedViewSet, mixins.ListModelMixin):
    key_scopes = {"list": "onestop:read"}
    queryset = Counter.objects.select_related("office__unit", "camera")
    scope_fields = ("office__unit",)

    class CounterSerializer(serializers.ModelSerializer):
        unit = serializers.CharField(source="office.unit.code", read_only=True)
        camera = serializers.SlugRelatedField(slug_field="code", read_only=True)

        class Meta:
            model = Counter
            fields = [
                "code",
                "name",
                "unit",
                "staff_on_duty",
                "camera",
                "active",
                "unattended_since",
                "waiting",
                "average_wait_minutes",
                "figures_at",
            ]

    serializer_class = CounterSerializer


class ProcedureViewSet(mixins.ListModelMixin, ScopedViewSet):
    key_scopes = {"list": "onestop:read"}
    """The procedure catalogue (not scoped: the same for every unit)."""

    queryset = Procedure.objects.filter(active=True)
    filterset_fields = ["field", "has_fees"]

    class ProcedureSerializer(serializers.ModelSerializer):
        class Meta:
            model = Procedure
            fields = ["code", "name", "field", "duration_days", "has_fees"]

    serializer_class = ProcedureSerializer

    def get_queryset(self):
        return Procedure.objects.filter(active=True)


@extend_schema(
    request={"application/json": QueueFiguresBody},
    responses={200: OpenApiResponse(description=_("One result per figure: created, duplicate or error."))},
)
@key_scopes(post="onestop:write")
@api_view(["POST"])
@permission_classes([KeyOnly])
def queue_figures(request):
    """Queue figures from the ticketing system: `{"figures": [{counter, waiting, average_wait_minutes, at}]}`."""
    data = request.data
    items = data if isinstance(data, list) else data.get("figures", [data]) if isinstance(data, dict) else data
    results = services.queue_figures_record(items=items, scope=scope_for(request.user))
    summary = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "duplicate", "error")}
    return Response({**summary, "results": results})


PERIOD_PARAMETERS = [
    OpenApiParameter("period", str, description="month | quarter | year | 2026-11 | 2026-Q4 | 2026 | custom"),
    OpenApiParameter("start", str, description="with period=custom: first day, YYYY-MM-DD"),
    OpenApiParameter("end", str, description="with period=custom: last day (included), YYYY-MM-DD"),
]


def _scope_of(request) -> Scope:
    """The caller's scope, narrowed to `?unit=` when given (a unit outside the scope is not found)."""
    scope = scope_for(request.user)
    code = request.query_params.get("unit")
    if not code:
        return scope
    return Scope(unit=get_object_or_404(scope.units(), code=code))


def _period(request):
    params = request.query_params
    return selectors.parse_period(params.get("period"), start=params.get("start"), end=params.get("end"))


@extend_schema(
    parameters=[
        OpenApiParameter("unit", str, description="unit code; default: the caller's scope"),
        *PERIOD_PARAMETERS,
    ],
    responses={200: OpenApiResponse(description=_("Decision 766 indicators, rates and group scores."))},
)
@key_scopes(get="onestop:read")
@api_view(["GET"])
def indicators(request):
    """Decision 766 indicators of a unit (and the units below it) for a period. See docs/onestop.md."""
    return Response(selectors.indicators(_scope_of(request), _period(request)))


@extend_schema(
    parameters=[OpenApiParameter("unit", str), *PERIOD_PARAMETERS],
    responses={200: OpenApiResponse(description=_("Receiving units by late rate, worst first."))},
)
@key_scopes(get="onestop:read")
@api_view(["GET"])
def ranking(request):
    """Receiving units by late rate in the period, worst first."""
    return Response(selectors.late_ranking(_scope_of(request), _period(request)))
