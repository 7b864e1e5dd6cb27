"""What the cameras API reads and writes.

What a vendor system sends to POST /api/v1/traffic/events/ is read with the cheap checks of
traffic.services.parse_item; the serializers of that body only describe it (drf-spectacular), so the
schema says what the endpoint takes.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from traffic import selectors
from traffic.models import Camera, CameraEvent, CongestionLevel


class CameraEventItemSerializer(serializers.Serializer):
    camera = serializers.CharField(help_text=_("The camera's code."))
    kind = serializers.CharField(help_text=_("An event kind code, e.g. red_light, congestion, heartbeat."))
    occurred_at = serializers.DateTimeField(help_text=_("ISO 8601 with its time zone."))
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    plate = serializers.CharField(max_length=20, required=False, allow_blank=True)
    zone = serializers.CharField(max_length=100, required=False, allow_blank=True)
    snapshot_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    clip_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, help_text=_("A video clip of the event (http or https).")
    )
    speed_kmh = serializers.FloatField(min_value=0, max_value=400, required=False, allow_null=True)
    vehicle_count = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, allow_null=True)
    score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    congestion_level = serializers.ChoiceField(choices=CongestionLevel.choices, required=False, allow_blank=True)
    avg_speed_kmh = serializers.FloatField(min_value=0, max_value=400, required=False, allow_null=True)
    free_flow_kmh = serializers.FloatField(min_value=1, max_value=400, required=False, allow_null=True)
    data = serializers.DictField(required=False, help_text=_("Anything else the vendor sends, kept as is."))


class CameraEventUploadSerializer(CameraEventItemSerializer):
    snapshot = serializers.ImageField(required=False, help_text=_("The snapshot image of a single event."))


class CameraEventBatchSerializer(serializers.Serializer):
    events = CameraEventItemSerializer(many=True, max_length=settings.IOC_CAMERA_BATCH_MAX, min_length=1)


CameraEventsBody = PolymorphicProxySerializer(
    component_name="CameraEventsBody",
    serializers=[CameraEventBatchSerializer, CameraEventItemSerializer],
    resource_type_field_name=None,
)


class OpenIncidentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    severity = serializers.CharField()
    count = serializers.IntegerField()


class CameraMapSerializer(serializers.Serializer):
    """One camera on the wall's map (traffic.selectors.camera_map)."""

    code = serializers.CharField()
    name = serializers.CharField()
    purpose = serializers.CharField()
    health = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    road = serializers.CharField()
    last_event_at = serializers.DateTimeField(allow_null=True)
    open_incident = OpenIncidentSerializer(allow_null=True)


class CameraSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Camera
        fields = [
            "code",
            "name",
            "purpose",
            "unit",
            "latitude",
            "longitude",
            "road",
            "vendor",
            "health",
            "last_heartbeat_at",
            "last_event_at",
            "active",
        ]


class IncidentSerializer(serializers.Serializer):
    def to_representation(self, instance):
        return selectors.incident_state(instance)


class EventSerializer(serializers.ModelSerializer):
    camera = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CameraEvent
        fields = [
            "id",
            "camera",
            "kind",
            "occurred_at",
            "received_at",
            "plate",
            "speed_kmh",
            "vehicle_count",
            "congestion_level",
            "score",
            "zone",
            "snapshot_url",
            "clip_url",
            "incident",
        ]
