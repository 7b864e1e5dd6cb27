from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ioc.auth import key_scopes


@key_scopes(get="dashboard:read")
@api_view(["GET"])
def pressure(request):
    return Response({"pressure_ok": 97.5})


urlpatterns = [path("pressure/", pressure, name="water-pressure")]
