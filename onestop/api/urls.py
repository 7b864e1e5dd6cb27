from django.urls import path
from rest_framework.routers import SimpleRouter

from onestop.api import views

router = SimpleRouter()
router.register("dossiers", views.DossierViewSet, basename="onestop-dossier")
router.register("offices", views.OfficeViewSet, basename="onestop-office")
router.register("counters", views.CounterViewSet, basename="onestop-counter")
router.register("procedures", views.ProcedureViewSet, basename="onestop-procedure")

urlpatterns = [
    path("queues/", views.queue_figures, name="onestop-queues"),
    path("indicators/", views.indicators, name="onestop-indicators"),
    path("ranking/", views.ranking, name="onestop-ranking"),
    *router.urls,
]
