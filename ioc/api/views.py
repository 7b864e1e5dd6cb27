from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.response import Response

from ioc import exports, registry, selectors, services
from ioc.api.exports import ALERTS
from ioc.api.serializers import (
    AlertRaiseSerializer,
    AlertResolveSerializer,
    AlertSerializer,
    ExportJobSerializer,
    SubsystemSerializer,
    UnitSerializer,
)
from ioc.auth import ANY_KEY, key_has_scope, key_scopes
from ioc.dbrouters import reads_from_replica
from ioc.errors import Conflict, NotFound
from ioc.models import Alert, Export, Unit
from ioc.roles import ADMIN, OPERATOR, has_role
from ioc.scope import scope_for


class ScopedViewSet(viewsets.GenericViewSet):
    """Base for every API viewset: the queryset is cut to the caller's scope before anything else."""

    scope_fields: tuple[str, ...] = ("unit",)
    not_found_message = gettext_lazy("Not found.")

    def get_queryset(self):
        return scope_for(self.request.user).filter(super().get_queryset(), *self.scope_fields)

    def check_permissions(self, request):
        # An object outside the caller's scope is not found, whatever the caller's role: answer 404
        # before any role check could answer 403 and so tell that the object exists.
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if lookup is not None and request.user.is_authenticated:
            try:
                found = self.get_queryset().filter(**{self.lookup_field: lookup}).exists()
            except (TypeError, ValueError):
                found = False
            if not found:
                raise NotFound(self.not_found_message)
        super().check_permissions(request)

    def object_id(self, pk) -> int:
        """The id in the URL for a service call; one that is not a number is simply not found."""
        try:
            return int(pk)
        except (TypeError, ValueError):
            raise NotFound(self.not_found_message) from None


class UnitViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Units in the caller's scope."""

    queryset = Unit.objects.select_related("parent")
    serializer_class = UnitSerializer
    lookup_field = "code"
    filterset_fields = ["kind"]
    key_scopes = {"list": ANY_KEY, "retrieve": ANY_KEY}

    def get_queryset(self):
        return scope_for(self.request.user).units().select_related("parent")


class AlertFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="unit__code")
    open = filters.BooleanFilter(method="filter_open", label=_("Not resolved"))

    class Meta:
        model = Alert
        fields = ["state", "severity", "subsystem", "unit", "open"]

    def filter_open(self, queryset, name, value):
        return queryset.exclude(state=Alert.State.RESOLVED) if value else queryset.filter(state=Alert.State.RESOLVED)


class CanRaiseAlerts(permissions.BasePermission):
    message = _("Only operators, administrators and API keys with the 'alerts:write' scope may raise alerts.")

    def has_permission(self, request, view):
        return key_has_scope(request, "alerts:write") or has_role(request.user, ADMIN, OPERATOR)


class AlertViewSet(exports.ExportMixin, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The alert stream of every subsystem, in the caller's scope."""

    queryset = Alert.objects.select_related("unit")
    serializer_class = AlertSerializer
    not_found_message = gettext_lazy("No such alert.")
    filterset_class = AlertFilter
    export_list = ALERTS
    # A key resolves only the alerts it raised itself (the service checks); acknowledging is for people.
    key_scopes = {
        "list": "alerts:read",
        "export": "alerts:read",
        "retrieve": "alerts:read",
        "create": "alerts:write",
        "resolve": "alerts:write",
    }

    def get_permissions(self):
        if self.action == "create":
            return [permissions.IsAuthenticated(), CanRaiseAlerts()]
        return super().get_permissions()

    @extend_schema(request=AlertRaiseSerializer, responses={201: AlertSerializer, 200: AlertSerializer})
    def create(self, request):
        """Raise an alert; a repeat of an unresolved alert (same dedup_key) counts onto it (200)."""
        data = AlertRaiseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        unit = get_object_or_404(scope_for(request.user).units(), code=fields.pop("unit"))
        alert, created = services.alert_raise(unit=unit, raised_by=request.user, **fields)
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: AlertSerializer, 409: OpenApiResponse(description="Not open.")})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = services.alert_acknowledge(alert_id=self.object_id(pk), user=request.user)
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=AlertResolveSerializer, responses={200: AlertSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        body = AlertResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = services.alert_resolve(alert_id=self.object_id(pk), user=request.user, note=body.validated_data["note"])
        return Response(AlertSerializer(alert).data)


class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own export jobs (a large export is written by a worker): status, progress, file.

    Anyone else's job is not found. Keys own no jobs (their exports above the row limit are refused)."""

    serializer_class = ExportJobSerializer
    lookup_field = "uid"
    key_scopes: dict = {}

    def get_queryset(self):
        return exports.owned_by(self.request.user)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            404: OpenApiResponse(description="No such export."),
            409: OpenApiResponse(description="Not written yet."),
        }
    )
    @action(detail=True, methods=["get"])
    def file(self, request, uid=None):
        """The written file, for the one who asked for it."""
        job = self.get_object()
        if job.status != Export.Status.DONE or not job.file:
            raise Conflict(_("This export is not ready yet (%(status)s).") % {"status": job.get_status_display()})
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.file.name.rsplit("/", 1)[-1],
            content_type=exports.FORMATS.get(job.format, "application/octet-stream"),
        )


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema: public, so any key may read it too."""

    key_scopes = {"get": ANY_KEY}


class SwaggerView(SpectacularSwaggerSplitView):
    key_scopes = {"get": ANY_KEY}


@extend_schema(responses=SubsystemSerializer(many=True))
@key_scopes(get=ANY_KEY)
@api_view(["GET"])
def subsystem_list(request):
    """The enabled subsystems, in wall order."""
    return Response(SubsystemSerializer(registry.enabled(), many=True).data)


@reads_from_replica
@extend_schema(responses={200: OpenApiResponse(description="Figures and open alerts for the caller's scope.")})
@key_scopes(get="dashboard:read")
@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
def dashboard_snapshot(request):
    """Everything a screen needs to draw itself; load it on connect and re-read it every minute."""
    snapshot = selectors.dashboard_snapshot(scope_for(request.user))
    # A wall re-reads its playlist with every snapshot, so an edit reaches it within a minute.
    slug = request.query_params.get("playlist")
    if slug is not None:
        snapshot["playlist"] = selectors.wall_playlist(slug)
    return Response(snapshot)
