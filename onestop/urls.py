from django.urls import path

from onestop import views

app_name = "onestop"

urlpatterns = [
    path("", views.office_list, name="offices"),
    path("offices/<str:unit_code>/", views.office_detail, name="office"),
]
