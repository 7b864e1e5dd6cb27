"""Staff screens of the camera subsystems, beside the console."""

from django.urls import path

from traffic import views

urlpatterns = [path("console/cameras/", views.cameras, name="cameras")]
