from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("photos/<str:uid>", views.photo, name="photo"),
]
