from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ioc import audit
from ioc.api.parsers import SafeJSONParser
from ioc.api.views import ScopedViewSet
from ioc.auth import ANY_KEY, is_key, key_has_scope
from ioc.dbrouters import reads_from_replica
from ioc.exports import ExportMixin
from ioc.models import Unit
from ioc.roles import ADMIN, OPERATOR, has_role
from ioc.scope import scope_for
from ioc.throttling import DEVICE_HEADER, device_token_issue
from reports import selectors, services
from reports.api import serializers as s
from reports.api.exports import REPORTS
from reports.limits import ReportSubmitThrottle, refusal_message, retry_after
from reports.models import Category, Channel, Level, Report

SUBMIT_EXAMPLE = OpenApiExample(
    "A pothole in Long Khánh",
    value={
        "category": "o-ga-mat-duong",
        "description": "Ổ gà lớn trước số 12 đường Hùng Vương, xe máy phải né sang làn ô tô.",
        "latitude": 10.9372,
        "longitude": 107.2431,
        "address": "12 Hùng Vương, phường Long Khánh",
        "reporter_phone": "0912345678",
    },
    request_only=True,
)


class ReportFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Report._meta.get_field("status").choices)
    category = filters.CharFilter(field_name="category__code")
    level = filters.ChoiceFilter(choices=Report._meta.get_field("level").choices)
    unit = filters.CharFilter(method="filter_unit", label=_("Unit code (located in or assigned to its subtree)"))
    overdue = filters.BooleanFilter(method="filter_overdue")
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    q = filters.CharFilter(method="filter_text", label=_("Text in the description, address or tracking code"))
    bbox = filters.CharFilter(method="filter_bbox", label="min_lon,min_lat,max_lon,max_lat")
    figure = filters.ChoiceFilter(
        choices=[(code, code) for code in selectors.FIGURES],
        method="filter_figure",
        label=_("The reports behind a wall figure"),
    )

    class Meta:
        model = Report
        fields = [
            "status",
            "category",
            "level",
            "unit",
            "overdue",
            "received_after",
            "received_before",
            "q",
            "bbox",
            "figure",
        ]

    def filter_figure(self, queryset, name, value):
        return queryset.filter(selectors.FIGURES[value]())

    def filter_unit(self, queryset, name, value):
        unit = Unit.objects.filter(code=value).first()
        if unit is None:
            return queryset.none()
        return queryset.filter(Q(unit__path__startswith=unit.path) | Q(assigned_unit__path__startswith=unit.path))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(selectors.overdue_q()) if value else queryset.exclude(selectors.overdue_q())

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(description__icontains=value) | Q(address__icontains=value) | Q(tracking_code__iexact=value)
        )

    def filter_bbox(self, queryset, name, value):
        try:
            min_lon, min_lat, max_lon, max_lat = (float(x) for x in value.split(","))
        except ValueError:
            raise ApiValidationError({"bbox": _("Use bbox=min_lon,min_lat,max_lon,max_lat.")}) from None
        return queryset.filter(latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon))


def _by_code(model, message, **options):
    """A choice among `model`'s codes: an unknown one is a 400 naming it, never an empty list."""
    return filters.ModelChoiceFilter(
        queryset=model.objects.all(), to_field_name="code", error_messages={"invalid_choice": message}, **options
    )


class QueueFilter(filters.FilterSet):
    """The console's filters on the triage queue; each value is checked (a wrong one is a 400)."""

    unit = _by_code(
        Unit,
        gettext_lazy("Unknown unit code."),
        method="filter_unit",
        label=gettext_lazy("Unit code (located in or assigned to its subtree)"),
    )
    category = _by_code(Category, gettext_lazy("Unknown category code."))
    level = filters.ChoiceFilter(choices=Report._meta.get_field("level").choices)
    channel = filters.ChoiceFilter(choices=Channel.choices)
    overdue = filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="filter_overdue")

    class Meta:
        model = Report
        fields = ["unit", "category", "level", "channel", "overdue"]

    def filter_unit(self, queryset, name, unit):
        return queryset.filter(Q(unit__path__startswith=unit.path) | Q(assigned_unit__path__startswith=unit.path))

    def filter_overdue(self, queryset, name, value):
        overdue = selectors.overdue_q()
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)


QUEUE_PARAMETERS = [
    OpenApiParameter("unit", str, description=gettext_lazy("Unit code (located in or assigned to its subtree)")),
    OpenApiParameter("category", str, description=gettext_lazy("Category code")),
    OpenApiParameter("level", str, enum=Level.values),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("overdue", str, enum=["true", "false"]),
]


class SubmissionThrottled(Throttled):
    """429 with Retry-After and a sentence that says when the citizen can send again."""

    def __init__(self, wait):
        super().__init__(detail=refusal_message(wait))
        self.wait = int(retry_after(wait))


class ReportViewSet(ExportMixin, ScopedViewSet, mixins.ListModelMixin):
    """Field reports: citizens submit and follow; staff triage and handle within their scope."""

    queryset = Report.objects.select_related("category", "unit", "assigned_unit")
    serializer_class = s.ReportListSerializer
    filterset_class = ReportFilter
    scope_fields = ("unit", "assigned_unit")
    not_found_message = gettext_lazy("No such report.")
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]
    export_list = REPORTS  # GET export/: the list as a file (ioc.exports)
    # Keys read without the reporters' identity (that needs reports:contacts too) and take no step.
    key_scopes = {
        "categories": ANY_KEY,
        "create": "reports:write",
        "track": "reports:write",
        "rate": "reports:write",
        "reopen": "reports:write",
        "list": "reports:read",
        "export": "reports:read",
        "queue": "reports:read",
        "map": "reports:read",
        "retrieve": "reports:read",
        "duplicates": "reports:read",
    }

    def get_permissions(self):
        if self.action in ("create", "categories", "track", "rate", "reopen", "device"):
            return [permissions.AllowAny()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
            return [ReportSubmitThrottle()]
        return super().get_throttles()

    def throttled(self, request, wait):
        if self.action == "create":
            raise SubmissionThrottled(wait)
        super().throttled(request, wait)

    # --- citizens -----------------------------------------------------------------------------

    @extend_schema(
        request={"multipart/form-data": s.ReportSubmitSerializer, "application/json": s.ReportSubmitSerializer},
        responses={201: s.ReportSubmittedSerializer},
        examples=[SUBMIT_EXAMPLE],
        auth=[],
    )
    def create(self, request):
        """Report a problem. Anonymous and throttled; returns the tracking code and a secret to follow it."""
        body = s.ReportSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if data["channel"] == Channel.HOTLINE and not has_role(request.user, OPERATOR, ADMIN):
            raise ApiValidationError({"channel": _("Only operators record hotline calls.")})
        unit_code = data.pop("unit")
        unit = None
        if unit_code:
            unit = Unit.objects.filter(code=unit_code).first()
            if unit is None:
                raise ApiValidationError({"unit": _("Unknown commune/ward code “%(code)s”.") % {"code": unit_code}})
        report, secret = services.report_submit(unit=unit, photos=data.pop("photos"), user=request.user, **data)
        # What a citizen may see of others' reports: the published ones only (selectors.similar_for_citizen).
        similar = selectors.similar_for_citizen(report)
        return Response(
            {
                "tracking_code": report.tracking_code,
                "secret": secret,
                "status": report.status,
                "response_due_at": report.response_due_at,
                "resolution_due_at": report.resolution_due_at,
                "similar_reports": [
                    {"tracking_code": r.tracking_code, "status": r.status, "distance_m": round(d)} for r, d in similar
                ],
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=s.CategorySerializer(many=True), auth=[])
    @action(detail=False, methods=["get"], pagination_class=None)  # all of them, as the schema says
    def categories(self, request):
        """The categories a citizen can choose from."""
        categories = Category.objects.filter(active=True).select_related("group")
        return Response(s.CategorySerializer(categories, many=True).data)

    @extend_schema(
        request=None,
        responses={201: OpenApiResponse(description=_("A device token and the header to send it in."))},
        auth=[],
    )
    @action(detail=False, methods=["post"])
    def device(self, request):
        """A device token for a citizens' app: send it as the X-IOC-Device header with each report, so the
        app has its own allowance instead of sharing its address's (a commune office, a mobile carrier)."""
        return Response({"device_token": device_token_issue(), "header": DEVICE_HEADER}, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("secret", str, description=_("The secret given at submission."))],
        responses={
            200: OpenApiResponse(description=_("The report as the public sees it, with its answers.")),
            404: OpenApiResponse(description=_("Wrong code or secret.")),
        },
        auth=[],
    )
    @action(detail=False, methods=["get"], url_path=r"track/(?P<code>[A-Za-z0-9-]+)")
    def track(self, request, code=None):
        """Follow a report with its tracking code and secret (query `secret` or header `X-Report-Secret`)."""
        secret = request.query_params.get("secret") or request.headers.get("X-Report-Secret", "")
        report = services.report_for_citizen(tracking_code=code, secret=secret)
        return Response(selectors.public_report(report))

    @extend_schema(request=s.RateSerializer, auth=[])
    @action(detail=False, methods=["post"], url_path=r"track/(?P<code>[A-Za-z0-9-]+)/rate")
    def rate(self, request, code=None):
        body = s.RateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.report_rate(tracking_code=code, **body.validated_data)
        return Response(selectors.public_report(report))

    @extend_schema(request=s.ReopenSerializer, auth=[])
    @action(detail=False, methods=["post"], url_path=r"track/(?P<code>[A-Za-z0-9-]+)/reopen")
    def reopen(self, request, code=None):
        body = s.ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.report_reopen(tracking_code=code, **body.validated_data)
        return Response(selectors.public_report(report))

    # --- staff --------------------------------------------------------------------------------

    @extend_schema(responses=s.ReportListSerializer(many=True), parameters=QUEUE_PARAMETERS)
    @action(detail=False, methods=["get"])
    def queue(self, request):
        """The operators' triage queue, in pages with the true `count`: awaiting triage or assignment,
        urgent first, then the least time left as a share of the deadline window, then the oldest."""
        chosen = QueueFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not chosen.is_valid():
            raise ApiValidationError(chosen.errors)
        reports = selectors.triage_queue(chosen.qs)
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=s.ReportListSerializer(many=True))
    @action(detail=False, methods=["get"])
    def workspace(self, request):
        """The caller's unit's work: reports assigned to it and not finished, nearest deadline first."""
        reports = selectors.unit_work(scope_for(request.user))
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        """A report with its whole timeline (internal notes included) and the reporter's contact."""
        report = get_object_or_404(self.get_queryset(), pk=pk)
        data = selectors.report_live_state(report)
        data["description"] = report.description
        if not is_key(request) or key_has_scope(request, "reports:contacts"):
            data["reporter"] = {
                "name": report.reporter_name,
                "phone": report.reporter_phone,
                "email": report.reporter_email,
            }
            if any(data["reporter"].values()):
                audit.contacts_read(obj=report)
        data["rating"] = report.rating
        # Where the operator would send it: the category's department, else the ward itself.
        data["suggested_unit"] = report.category.department.code if report.category.department_id else report.unit.code
        data["duplicate_of"] = report.duplicate_of_id
        # The triage suggestion, made the first time an operator opens a report awaiting triage.
        data["suggestion"] = None
        if (
            report.status in selectors.QUEUE_STATUSES
            and not is_key(request)
            and has_role(request.user, OPERATOR, ADMIN)
        ):
            data["suggestion"] = selectors.suggestion_state(services.triage_suggestion(report))
        data["timeline"] = [
            dict(s.EventSerializer(row["event"]).data, actor_label=row["actor"], note=row["note"])
            for row in selectors.timeline_in_words(selectors.timeline(report))
        ]
        data["answers"] = selectors.public_report(report)["answers"]
        data["photos"] = [selectors.photo_url(p) for p in report.photos.all()]
        return Response(data)

    @extend_schema(responses=s.MapPointSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    @reads_from_replica
    def map(self, request):
        """Open reports with a location, for the wall's map layer."""
        return Response(selectors.report_map(scope_for(request.user)))

    @action(detail=True, methods=["get"])
    def duplicates(self, request, pk=None):
        """Open reports nearby and recent, best first by what they say and how near: candidates to merge."""
        report = get_object_or_404(self.get_queryset(), pk=pk)
        found = selectors.duplicate_candidates(report, scope=scope_for(request.user))
        return Response(
            [
                dict(
                    selectors.report_live_state(c.report),
                    distance_m=round(c.metres),
                    similarity=round(c.similarity, 2),
                    score=round(c.score, 2),
                    proposed=c.proposed,
                )
                for c in found
            ]
        )

    def _step(self, request, pk, serializer_class, step, **extra):
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        report = step(report_id=self.object_id(pk), user=request.user, **body.validated_data, **extra)
        return Response(selectors.report_live_state(report))

    @extend_schema(request=s.AcceptSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._step(request, pk, s.AcceptSerializer, services.report_accept)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="take-suggestion")
    def take_suggestion(self, request, pk=None):
        """Take the triage suggestion whole: accept with its category and level, assign to its unit."""
        report = services.report_take_suggestion(report_id=self.object_id(pk), user=request.user)
        return Response(selectors.report_live_state(report))

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._step(request, pk, s.ReasonSerializer, services.report_reject)

    @extend_schema(request=s.DuplicateSerializer)
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        body = s.DuplicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.report_mark_duplicate(
            report_id=self.object_id(pk),
            user=request.user,
            parent_id=body.validated_data["parent"],
            note=body.validated_data["note"],
        )
        return Response(selectors.report_live_state(report))

    @extend_schema(request=s.AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        body = s.AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        unit = Unit.objects.filter(code=body.validated_data["unit"]).first()
        if unit is None:
            raise ApiValidationError({"unit": _("Unknown unit code.")})
        report = services.report_assign(
            report_id=self.object_id(pk), user=request.user, unit=unit, note=body.validated_data["note"]
        )
        return Response(selectors.report_live_state(report))

    @extend_schema(request=s.ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="hand-back")
    def hand_back(self, request, pk=None):
        return self._step(request, pk, s.ReasonSerializer, services.report_hand_back)

    @extend_schema(request=s.NoteSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._step(request, pk, s.NoteSerializer, services.report_start)

    @extend_schema(request={"multipart/form-data": s.AnswerSerializer, "application/json": s.AnswerSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        return self._step(request, pk, s.AnswerSerializer, services.report_answer)

    @extend_schema(request={"multipart/form-data": s.ResolveSerializer, "application/json": s.ResolveSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._step(request, pk, s.ResolveSerializer, services.report_resolve)

    @extend_schema(request=s.NoteSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(request, pk, s.NoteSerializer, services.report_close)

    @extend_schema(request=s.DirectiveSerializer)
    @action(detail=True, methods=["post"])
    def directive(self, request, pk=None):
        """A leader's directive to the handling unit, followed up until done (due in 3 working days
        unless `due_at` says when); the unit finds it at /api/v1/directives/."""
        return self._step(request, pk, s.DirectiveSerializer, services.report_directive)
