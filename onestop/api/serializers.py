"""What the one-stop software sends (dossiers, queue figures), for the OpenAPI schema.

The bulk endpoints read items with the cheap checks of onestop.services; these serializers only
describe the bodies (drf-spectacular), so the schema says what the endpoints take.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from onestop import conf
from onestop.models import Channel, DossierStatus, Satisfaction


class ApplicantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class SupplementSerializer(serializers.Serializer):
    requested_at = serializers.DateTimeField()
    supplied_at = serializers.DateTimeField(required=False, allow_null=True)


class DossierItemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    procedure = serializers.CharField(help_text=_("The procedure's code in the national catalogue."))
    unit = serializers.CharField(help_text=_("Official code of the receiving unit."))
    status = serializers.ChoiceField(choices=DossierStatus.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    updated_at = serializers.DateTimeField(help_text=_("When the one-stop software last changed it."))
    applicant = ApplicantSerializer(required=False)
    submitted_at = serializers.DateTimeField(required=False, allow_null=True)
    received_at = serializers.DateTimeField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    processing_ended_at = serializers.DateTimeField(required=False, allow_null=True)
    returned_at = serializers.DateTimeField(required=False, allow_null=True)
    has_fees = serializers.BooleanField(required=False)
    paid_online = serializers.BooleanField(required=False)
    digitized = serializers.BooleanField(required=False)
    electronic_result = serializers.BooleanField(required=False)
    complaint = serializers.BooleanField(required=False)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False, allow_null=True)
    supplements = SupplementSerializer(many=True, required=False)


class DossierBatchSerializer(serializers.Serializer):
    dossiers = DossierItemSerializer(many=True, max_length=conf.BATCH_MAX, min_length=1)


DossiersBody = PolymorphicProxySerializer(
    component_name="DossiersBody",
    serializers=[DossierBatchSerializer, DossierItemSerializer],
    resource_type_field_name=None,
)


class QueueFigureItemSerializer(serializers.Serializer):
    counter = serializers.CharField(help_text=_("The counter's code."))
    waiting = serializers.IntegerField(min_value=0, max_value=100_000)
    average_wait_minutes = serializers.FloatField(min_value=0, max_value=24 * 60, required=False, allow_null=True)
    at = serializers.DateTimeField(required=False, help_text=_("When the figures were taken; default: now."))


class QueueFigureBatchSerializer(serializers.Serializer):
    figures = QueueFigureItemSerializer(many=True, max_length=conf.BATCH_MAX, min_length=1)


QueueFiguresBody = PolymorphicProxySerializer(
    component_name="QueueFiguresBody",
    serializers=[QueueFigureBatchSerializer, QueueFigureItemSerializer],
    resource_type_field_name=None,
)
