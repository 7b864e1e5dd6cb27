"""The citizens' portal, mounted at the site root under the "portal" namespace."""

from django.urls import path

from ioc.middleware import browser_language
from reports import views

app_name = "portal"

# Citizens' pages speak the browser's language until the person picks one (docs/reports.md).
urlpatterns = [
    path("", browser_language(views.portal_home), name="home"),
    path("report/", browser_language(views.report_form), name="report"),
    path("report/sent/", browser_language(views.report_sent), name="sent"),
    path("track/", browser_language(views.track), name="track"),
    path("track/rate/", browser_language(views.track_rate), name="rate"),
    path("track/reopen/", browser_language(views.track_reopen), name="reopen"),
    path("public/", browser_language(views.public_list), name="public"),
    path("public/reports.json", browser_language(views.public_map_data), name="public_json"),
    path("public/units/", browser_language(views.unit_stats), name="units"),
]
