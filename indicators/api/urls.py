from django.urls import path
from rest_framework.routers import SimpleRouter

from indicators.api import views

router = SimpleRouter()
router.register("observations", views.ObservationViewSet, basename="indicator-observation")
router.register("", views.IndicatorViewSet, basename="indicator")  # last: its detail route takes any code

urlpatterns = [
    path("series/", views.series, name="indicator-series"),
    path("stations/", views.stations, name="indicator-stations"),
    *router.urls,
]
