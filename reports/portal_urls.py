"""The citizens' portal, mounted at the site root under the "portal" namespace."""

from django.urls import path

from reports import views

app_name = "portal"

urlpatterns = [
    path("", views.portal_home, name="home"),
    path("report/", views.report_form, name="report"),
    path("report/sent/", views.report_sent, name="sent"),
    path("track/", views.track, name="track"),
    path("track/rate/", views.track_rate, name="rate"),
    path("track/reopen/", views.track_reopen, name="reopen"),
    path("public/", views.public_list, name="public"),
    path("public/reports.json", views.public_map_data, name="public_json"),
    path("public/units/", views.unit_stats, name="units"),
]
