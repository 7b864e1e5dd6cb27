from datetime import date, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ioc.worktime import LOCAL_TZ, parse_sessions
from reports.models import Category, Channel, Level, Report, ReportEvent
from reports.selectors import report_live_state


class CategorySerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group.name")
    group_code = serializers.CharField(source="group.code")

    class Meta:
        model = Category
        fields = ["code", "name", "name_en", "description", "group", "group_code", "default_level", "allow_anonymous"]


class ReportSubmitSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(active=True),
        error_messages={"does_not_exist": _("Unknown category “{value}”.")},
    )
    description = serializers.CharField(max_length=4000)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    unit = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Official code of the commune/ward, when the location is not shared."),
    )
    reporter_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    reporter_phone = serializers.RegexField(r"^\+?[0-9 .-]{8,20}$", required=False, allow_blank=True, default="")
    reporter_email = serializers.EmailField(required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(
        choices=[Channel.APP, Channel.WEB, Channel.HOTLINE], required=False, default=Channel.WEB
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=10)


class ReportSubmittedSerializer(serializers.Serializer):
    tracking_code = serializers.CharField()
    secret = serializers.CharField(help_text=_("Shown once: needed to follow, rate or reopen the report."))
    status = serializers.CharField()
    response_due_at = serializers.DateTimeField()
    resolution_due_at = serializers.DateTimeField()
    similar_reports = serializers.ListField(child=serializers.DictField())


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(max_length=64)


class RateSerializer(SecretSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReopenSerializer(SecretSerializer):
    reason = serializers.CharField(max_length=1000)


class ReportListSerializer(serializers.ModelSerializer):
    def to_representation(self, instance):
        return report_live_state(instance)

    class Meta:
        model = Report
        fields = ["id"]


class EventSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    label = serializers.CharField(source="get_action_display")

    class Meta:
        model = ReportEvent
        fields = ["at", "action", "label", "actor_label", "unit", "from_status", "to_status", "note", "public"]


class AcceptSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all(), required=False)
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class DuplicateSerializer(serializers.Serializer):
    parent = serializers.IntegerField(help_text=_("Id of the original report."))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class AssignSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=32, help_text=_("Official code of the unit that must handle it."))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class AnswerSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=10)


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=10)


class DueDateField(serializers.CharField):
    """An ISO 8601 moment ("2026-05-20T16:30+07:00"; without an offset, local time) or a date alone
    ("2026-05-20"), which means the end of that day's working hours (17:00 local by default)."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data).strip()
        example = {"example": "2026-05-20, 2026-05-20T16:30+07:00"}
        try:
            if len(text) > 40:
                raise ValueError(text)
            if len(text) <= 10 and ":" not in text:  # a date alone
                day = date.fromisoformat(text)
                return datetime.combine(day, parse_sessions(settings.IOC_WORK_SESSIONS)[-1][1], LOCAL_TZ)
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise serializers.ValidationError(
                _("Not a real date and time; use ISO 8601, e.g. %(example)s.") % example
            ) from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=LOCAL_TZ)
        return moment


class DirectiveSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    due_at = DueDateField(
        required=False,
        help_text=_(
            "When the handling unit must have carried it out: ISO 8601, or a date alone for the end of that "
            "working day (17:00). Without it: 3 working days from now."
        ),
    )


class MapPointSerializer(serializers.Serializer):
    """One open report on the wall's map (reports.selectors.report_map)."""

    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    label = serializers.CharField()
    status = serializers.ChoiceField(choices=["critical", "warning", "ok"])


class HotlineCallSerializer(serializers.Serializer):
    """A call an operator takes: who called, what and where, and the triage decided on the phone."""

    reporter_phone = serializers.CharField(
        max_length=30,
        help_text=_("The caller's number; Vietnamese formats (+84, 0084, spaces, dots) are normalised."),
        error_messages={
            "required": _("The caller's phone number is required."),
            "blank": _("The caller's phone number is required."),
        },
    )
    reporter_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(active=True),
        error_messages={
            "does_not_exist": _("Unknown category “{value}”."),
            "required": _("Choose a category from the list."),
            "null": _("Choose a category from the list."),
        },
    )
    description = serializers.CharField(max_length=4000)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180, default=None)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    unit = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text=_("Official code of the commune/ward.")
    )
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_null=True, default=None)
    assign_to = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Official code of the unit to assign it to; empty leaves it accepted, to assign later."),
    )


class HotlineTakenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_code = serializers.CharField()
    secret = serializers.CharField(help_text=_("Also sent to the caller by text message."))
    status = serializers.CharField()
    level = serializers.CharField()
    unit_name = serializers.CharField()
    assigned_unit_name = serializers.CharField(allow_null=True)
    sms_to = serializers.CharField(help_text=_("The normalised number the text message goes to."))
