"""The wall's vector map: units with their boundaries and the apps' choropleth values (ioc.maps)."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from ioc import maps
from ioc.api.serializers import MapUnitsSerializer
from ioc.auth import key_scopes
from ioc.dbrouters import reads_from_replica
from ioc.scope import scope_for


@reads_from_replica
@extend_schema(responses=MapUnitsSerializer)
@key_scopes(get="dashboard:read")
@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
def map_units(request):
    """The units of your scope that have a boundary, as GeoJSON, each with its value and band per layer."""
    return Response(maps.map_units(scope_for(request.user)))
