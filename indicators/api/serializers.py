"""What the indicators API reads and writes."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from indicators.models import Indicator, Observation


class ObservationItemSerializer(serializers.Serializer):
    """One observation as a department's system sends it (checked item by item, see the results)."""

    indicator = serializers.CharField(help_text=_("Indicator code."))
    unit = serializers.CharField(required=False, help_text=_("Unit code; default: the station's unit, or the key's."))
    station = serializers.CharField(required=False, help_text=_("Monitoring station code."))
    period = serializers.CharField(help_text=_("2026, 2026-Q3, 2026-11, 2026-11-26 or an ISO 8601 time."))
    value = serializers.DecimalField(max_digits=18, decimal_places=4)


class ObservationBatchSerializer(serializers.Serializer):
    observations = ObservationItemSerializer(many=True)


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "code",
            "subsystem",
            "name",
            "name_en",
            "unit_of_measure",
            "period",
            "direction",
            "warning_threshold",
            "critical_threshold",
            "rollup",
            "accumulates",
            "scale",
            "source",
        ]


class ObservationSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    station = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Observation
        fields = [
            "id",
            "indicator",
            "unit",
            "station",
            "period",
            "period_start",
            "value",
            "status",
            "source",
            "received_at",
            "revisions",
        ]
