from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

app_name = "water"


@login_required
def stations(request):
    return HttpResponse("Trạm bơm")


urlpatterns = [path("", stations, name="stations")]
