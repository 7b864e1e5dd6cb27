from rest_framework.routers import SimpleRouter

from reports.api.views import ReportViewSet

router = SimpleRouter()
router.register("", ReportViewSet, basename="report")

urlpatterns = router.urls
