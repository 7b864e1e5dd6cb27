from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action, api_view, parser_classes, permission_classes
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ioc.api.views import ScopedViewSet
from ioc.auth import KeyOnly, key_scopes
from ioc.exports import ExportMixin
from ioc.models import Unit
from ioc.photos import clean_photo
from ioc.scope import scope_for
from traffic import selectors, services
from traffic.api.exports import INCIDENTS
from traffic.api.parsers import EventsJSONParser
from traffic.api.serializers import (
    CameraEventsBody,
    CameraEventUploadSerializer,
    CameraMapSerializer,
    CameraSerializer,
    EventSerializer,
    IncidentSerializer,
)
from traffic.models import Camera, CameraEvent, Incident

EVENT_EXAMPLE = OpenApiExample(
    "A batch of two events",
    value={
        "events": [
            {
                "camera": "LK-QL1A-01",
                "kind": "red_light",
                "external_id": "evt-000123",
                "occurred_at": "2026-11-26T08:15:02+07:00",
                "plate": "60A-123.45",
                "speed_kmh": 42.5,
                "snapshot_url": "https://vendor.example/snap/000123.jpg",
            },
            {
                "camera": "LK-QL1A-01",
                "kind": "congestion",
                "external_id": "evt-000124",
                "occurred_at": "2026-11-26T08:15:30+07:00",
                "avg_speed_kmh": 9,
                "free_flow_kmh": 60,
            },
        ]
    },
    request_only=True,
)


def _principal_source(request) -> str:
    key = getattr(request.user, "api_key", None)
    return f"key:{key.prefix}" if key else f"user:{request.user.pk}"


@extend_schema(
    request={"application/json": CameraEventsBody, "multipart/form-data": CameraEventUploadSerializer},
    responses={
        200: OpenApiResponse(description=_("One result per event: created, duplicate or error.")),
        201: OpenApiResponse(description=_("A single event was stored.")),
    },
    examples=[EVENT_EXAMPLE],
)
@key_scopes(post="traffic:write")
@api_view(["POST"])
@parser_classes([EventsJSONParser, FormParser, MultiPartParser])
@permission_classes([KeyOnly])
def ingest(request):
    """Camera events from a vendor system: one event, or a batch of up to 1,000 (`{"events": [...]}`).

    Idempotent on (API key, external_id). A bad event is named in its result; the good ones are stored.
    A single event may come as multipart with a `snapshot` image file.
    """
    data = request.data
    snapshots = None
    if request.content_type.startswith("multipart/"):
        item = {k: v for k, v in data.items() if k != "snapshot"}
        for number in ("speed_kmh", "vehicle_count", "score", "avg_speed_kmh", "free_flow_kmh"):
            if item.get(number) not in (None, ""):
                try:
                    item[number] = float(item[number]) if number != "vehicle_count" else int(item[number])
                except ValueError:
                    pass  # left as text: the item check names the field
        if "snapshot" in request.FILES:
            content, extension = clean_photo(request.FILES["snapshot"])
            content.name = f"{item.get('external_id') or 'snapshot'}.{extension}"
            snapshots = {0: content}
        items, single = [item], True
    elif isinstance(data, list):
        items, single = data, False
    elif isinstance(data, dict) and "events" in data:
        items, single = data["events"], False
    else:
        items, single = [data], True
    results = services.ingest_events(
        source=_principal_source(request), items=items, scope=scope_for(request.user), snapshots=snapshots
    )
    if single:
        result = results[0]
        code = {"created": 201, "duplicate": 200, "accepted": 200}.get(result["status"], 400)
        return Response(result, status=code)
    summary = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "duplicate", "accepted", "error")}
    return Response({**summary, "results": results})


class CameraViewSet(ScopedViewSet, mixins.ListModelMixin):
    key_scopes = {"list": "traffic:read", "map": "traffic:read"}
    queryset = Camera.objects.select_related("unit")
    filterset_fields = ["purpose", "health", "active"]

    serializer_class = CameraSerializer

    @extend_schema(responses=CameraMapSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def map(self, request):
        """Cameras with status and latest open incident, for the wall's map layer."""
        return Response(selectors.camera_map(scope_for(request.user), request.query_params.get("purpose")))


class IncidentFilter(filters.FilterSet):
    purpose = filters.CharFilter(field_name="camera__purpose")
    kind = filters.CharFilter(field_name="kind__code")
    camera = filters.CharFilter(field_name="camera__code")
    open = filters.BooleanFilter(method="filter_open")

    class Meta:
        model = Incident
        fields = ["status", "severity", "purpose", "kind", "camera", "open"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=Incident.OPEN) if value else queryset.exclude(status__in=Incident.OPEN)


class IncidentViewSet(ExportMixin, ScopedViewSet, mixins.ListModelMixin):
    key_scopes = {"list": "traffic:read", "export": "traffic:read", "retrieve": "traffic:read"}
    """Camera incidents: folded events an operator acknowledges, dispatches and closes.

    Most severe first, then the latest event first, ties by id (newest first)."""

    queryset = Incident.objects.select_related("camera__unit", "kind", "unit", "dispatched_to")
    scope_fields = ("unit", "dispatched_to")
    filterset_class = IncidentFilter
    not_found_message = gettext_lazy("No such incident.")
    export_list = INCIDENTS  # GET export/: the list as a file (ioc.exports)

    serializer_class = IncidentSerializer

    def get_queryset(self):
        return selectors.in_working_order(super().get_queryset())

    def retrieve(self, request, pk=None):
        """An incident with its latest events (snapshots, clips) and its events folded by level."""
        return Response(selectors.incident_detail(get_object_or_404(self.get_queryset(), pk=pk)))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return Response(
            selectors.incident_state(services.incident_acknowledge(incident_id=self.object_id(pk), user=request.user))
        )

    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_unit(self, request, pk=None):
        code = str(request.data.get("unit", ""))
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            raise ApiValidationError({"unit": _("Unknown unit code.")})
        incident = services.incident_dispatch(
            incident_id=self.object_id(pk), user=request.user, unit=unit, note=str(request.data.get("note", ""))
        )
        return Response(selectors.incident_state(incident))

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        incident = services.incident_resolve(
            incident_id=self.object_id(pk), user=request.user, note=str(request.data.get("note", ""))
        )
        return Response(selectors.incident_state(incident))

    @action(detail=True, methods=["post"], url_path="false-alarm")
    def false_alarm(self, request, pk=None):
        incident = services.incident_resolve(
            incident_id=self.object_id(pk), user=request.user, note=str(request.data.get("note", "")), false_alarm=True
        )
        return Response(selectors.incident_state(incident))


class EventViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Stored camera events in the caller's scope, newest first: the last 31 days unless
    `occurred_at__gte` says from when."""

    key_scopes = {"list": "traffic:read"}

    queryset = CameraEvent.objects.select_related("camera", "kind").order_by("-occurred_at")
    filterset_fields = {
        "camera__code": ["exact"],
        "kind__code": ["exact"],
        "occurred_at": ["gte", "lt"],
        "plate": ["exact"],
    }

    serializer_class = EventSerializer

    def get_queryset(self):
        # Without occurred_at__gte the list covers the last RECENT_EVENT_DAYS days (recent partitions only).
        queryset = super().get_queryset()
        return queryset if "occurred_at__gte" in self.request.query_params else selectors.recent_events(queryset)
