from django.urls import path
from rest_framework.routers import SimpleRouter

from ioc.api import views
from ioc.api.directives import DirectiveViewSet
from ioc.api.maps import map_units

router = SimpleRouter()
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("units", views.UnitViewSet, basename="unit")
router.register("exports", views.ExportViewSet, basename="export")
router.register("directives", DirectiveViewSet, basename="directive")

urlpatterns = [
    path("subsystems/", views.subsystem_list, name="subsystem-list"),
    path("dashboard/snapshot/", views.dashboard_snapshot, name="dashboard-snapshot"),
    path("map/units/", map_units, name="map-units"),
    *router.urls,
]
