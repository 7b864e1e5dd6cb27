from django.urls import path
from rest_framework.routers import SimpleRouter

from reports.api import hotline
from reports.api.views import ReportViewSet

router = SimpleRouter()
router.register("", ReportViewSet, basename="report")

# Before the router: its detail route would take "places/" and "hotline/" for a report's id.
urlpatterns = [
    path("places/", hotline.places, name="report-places"),
    path("hotline/", hotline.take_call, name="report-hotline"),
    *router.urls,
]
