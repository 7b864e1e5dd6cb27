from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ioc import registry, views
from ioc.api import views as api_views

# An uncaught error: a database that is away is a 503 to retry, in the called API's shape (ioc.outage).
handler500 = "ioc.outage.server_error"
# A page the role may not open: the site's frame and the way to the person's own screen (ioc.views).
handler403 = "ioc.views.forbidden"

urlpatterns = [
    path("home/", views.home, name="home"),
    path("wall/", views.wall, name="wall"),
    path("wall/playlists/", views.wall_playlists, name="wall-playlists"),
    path("wall/playlists/<slug:slug>/", views.wall_playlists, name="wall-playlist"),
    path("briefings/", views.briefings_page, name="briefings"),
    path("briefings/view/", views.briefing_document, name="briefing-document"),
    path("briefings/pdf/", views.briefing_pdf, name="briefing-pdf"),
    path("briefings/<int:briefing_id>.pdf", views.briefing_download, name="briefing-download"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("ioc.api.urls")),
    path("api/schema/", api_views.SchemaView.as_view(), name="schema"),
    # Swagger UI's start script as a file of its own (no inline script); its page carries one <style>.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(api_views.SwaggerView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    # Each app mounts its own URL modules (AppConfig.urls): a new app touches no line here.
    *(path(prefix, include(module)) for prefix, module in registry.contributions("urls")),
]
