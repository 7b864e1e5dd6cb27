"""Leaders' directives (ý kiến chỉ đạo): the caller's area's list, and marking one done."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from ioc import selectors, services
from ioc.api.views import ScopedViewSet
from ioc.models import Directive
from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF, has_role
from ioc.scope import scope_for


class DirectiveSerializer(serializers.Serializer):
    """One directive's absolute state (ioc.selectors.directive_state), as the live bus sends it."""

    id = serializers.IntegerField()
    subject_type = serializers.CharField(help_text=_('The item\'s kind, e.g. "reports.report".'))
    subject_id = serializers.CharField()
    subject_label = serializers.CharField()
    text = serializers.CharField()
    owner = serializers.CharField(help_text=_("Official code of the unit in charge."))
    owner_name = serializers.CharField()
    issued_by = serializers.CharField()
    issued_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    done_note = serializers.CharField()
    done_by = serializers.CharField()
    open = serializers.BooleanField()
    overdue = serializers.BooleanField(help_text=_("Open and past its due date now."))
    on_time = serializers.BooleanField(allow_null=True, help_text=_("Done by its due date; null while open."))

    def to_representation(self, instance):
        return selectors.directive_state(instance, self.context.get("now"))


class DirectiveDoneSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DirectiveFilter(filters.FilterSet):
    open = filters.BooleanFilter(method="filter_open", label=_("Not done yet"))
    overdue = filters.BooleanFilter(method="filter_overdue", label=_("Not done and past due"))

    class Meta:
        model = Directive
        fields = ["open", "overdue"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(done_at=None) if value else queryset.exclude(done_at=None)

    def filter_overdue(self, queryset, name, value):
        late = {"done_at": None, "due_at__lt": timezone.now()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class IsStaff(permissions.BasePermission):
    message = _("Only the staff of a unit, leaders, operators and administrators see directives.")

    def has_permission(self, request, view):
        return has_role(request.user, UNIT_STAFF, LEADER, OPERATOR, ADMIN)


class DirectiveViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Directives owned by the caller's unit or a unit under it, nearest due first. Keys may not read
    or close them: they are the leaders' and the units' own work."""

    queryset = Directive.objects.all()
    serializer_class = DirectiveSerializer
    scope_fields = ("owner",)
    not_found_message = _("No such directive.")
    filterset_class = DirectiveFilter
    permission_classes = [permissions.IsAuthenticated, IsStaff]
    key_scopes: dict[str, str] = {}

    def get_queryset(self):
        return selectors.directives_for(scope_for(self.request.user))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        request=DirectiveDoneSerializer,
        responses={200: DirectiveSerializer, 409: OpenApiResponse(description="Already marked as done.")},
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """The unit in charge says the directive is carried out, with what was done (once only)."""
        body = DirectiveDoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        directive = services.directive_done(
            directive_id=self.object_id(pk), user=request.user, note=body.validated_data["note"]
        )
        return Response(selectors.directive_state(directive))
