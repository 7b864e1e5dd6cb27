from django.urls import path

from traffic import views

app_name = "traffic"

urlpatterns = [path("snapshots/<int:event_id>", views.snapshot, name="snapshot")]
