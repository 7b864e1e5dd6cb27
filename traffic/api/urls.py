from django.urls import path
from rest_framework.routers import SimpleRouter

from traffic.api import views

router = SimpleRouter()
router.register("cameras", views.CameraViewSet, basename="camera")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("events/list", views.EventViewSet, basename="camera-event")

urlpatterns = [path("events/", views.ingest, name="camera-events-ingest"), *router.urls]
