from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ioc.models import Alert, Export, Severity, Unit


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)  # null: the top

    class Meta:
        model = Unit
        fields = ["code", "name", "name_en", "kind", "parent", "depth", "latitude", "longitude"]


class AlertSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "subsystem",
            "severity",
            "title",
            "detail",
            "unit",
            "unit_name",
            "subject_type",
            "subject_id",
            "dedup_key",
            "count",
            "state",
            "first_seen_at",
            "last_seen_at",
            "acknowledged_at",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields


class AlertRaiseSerializer(serializers.Serializer):
    subsystem = serializers.CharField(max_length=32)
    severity = serializers.ChoiceField(choices=Severity.choices)
    title = serializers.CharField(max_length=300)
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    unit = serializers.CharField(max_length=32, help_text=_("Official code of the unit the alert is about."))
    dedup_key = serializers.CharField(max_length=200)
    subject_type = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    subject_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class AlertResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SubsystemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_vi = serializers.CharField()
    name_en = serializers.CharField()
    icon = serializers.CharField()
    order = serializers.IntegerField()
    panels = serializers.ListField(child=serializers.CharField())


# --- the wall's map (documentation of GET /api/v1/map/units/; the view returns ioc.maps.map_units) ---


class MapBandSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    color = serializers.CharField(help_text=_("CSS colour, e.g. #fbd524"))


class MapLayerSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    bands = MapBandSerializer(many=True, help_text=_("In order, best first; the last is no_data."))


class MapValueSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    band = serializers.CharField()


class MapUnitPropertiesSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    approximate = serializers.BooleanField(help_text=_("The boundary is a demo cell, not a surveyed border."))
    values = serializers.DictField(child=MapValueSerializer(), help_text=_("By layer code."))


class MapGeometrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Polygon", "MultiPolygon"])
    coordinates = serializers.JSONField(help_text=_("GeoJSON positions, [longitude, latitude]."))


class MapUnitFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField()
    geometry = MapGeometrySerializer()
    properties = MapUnitPropertiesSerializer()


class MapUnitsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    bounds = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        allow_null=True,
        help_text=_("[[south, west], [north, east]] of the caller's scope."),
    )
    approximate = serializers.BooleanField(help_text=_("Some boundary drawn is approximate."))
    layers = MapLayerSerializer(many=True)
    features = MapUnitFeatureSerializer(many=True)


class ExportJobSerializer(serializers.Serializer):
    """An export job (ioc.exports.job_state): `download_url` once the file is written."""

    uid = serializers.CharField()
    list = serializers.CharField()
    format = serializers.ChoiceField(choices=["csv", "xlsx"])
    status = serializers.ChoiceField(choices=Export.Status.choices)
    status_label = serializers.CharField()
    rows_total = serializers.IntegerField(allow_null=True)
    rows_done = serializers.IntegerField()
    progress = serializers.IntegerField(help_text=_("Per cent of the rows written."))
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()
    download_url = serializers.CharField(allow_null=True)

    def to_representation(self, instance):
        from ioc.exports import job_state

        return super().to_representation(job_state(instance))
