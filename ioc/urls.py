from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ioc import views
from ioc.api import views as api_views
from reports import views as report_views
from reports.urls import portal_urlpatterns

# An uncaught error: a database that is away is a 503 to retry, in the called API's shape (ioc.outage).
handler500 = "ioc.outage.server_error"

urlpatterns = [
    path("home/", views.home, name="home"),
    path("", include((portal_urlpatterns, "portal"))),
    path("wall/", views.wall, name="wall"),
    path("console/", views.console, name="console"),
    path("console/reports/", views.report_list_page, name="report-list-page"),
    path("console/cameras/", views.cameras, name="cameras"),
    path("console/reports/<int:report_id>/", report_views.report_page, name="report-page"),
    path("workspace/", views.workspace, name="workspace"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/reports/", include("reports.api.urls")),
    path("api/v1/traffic/", include("traffic.api.urls")),
    path("traffic/", include("traffic.urls")),
    path("api/v1/onestop/", include("onestop.api.urls")),
    path("onestop/", include("onestop.urls")),
    path("api/v1/indicators/", include("indicators.api.urls")),
    path("api/v1/", include("ioc.api.urls")),
    path("reports/", include("reports.urls")),
    path("open311/v2/", include("reports.open311.urls")),
    path("api/schema/", api_views.SchemaView.as_view(), name="schema"),
    # Swagger UI's start script as a file of its own (no inline script); its page carries one <style>.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(api_views.SwaggerView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
]
