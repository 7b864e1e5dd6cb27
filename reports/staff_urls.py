"""Staff screens of field reports: console, workspace, drill-down (no namespace: staff pages share one)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("console/", views.console, name="console"),
    path("workspace/", views.workspace, name="workspace"),
    path("console/hotline/", views.hotline, name="hotline"),
    path("console/reports/", views.report_list_page, name="report-list-page"),
    path("console/reports/<int:report_id>/", views.report_page, name="report-page"),
]
