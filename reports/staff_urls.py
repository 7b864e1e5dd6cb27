"""Staff screens of field reports, beside the console (no namespace: the staff pages share one)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("workspace/", views.workspace, name="workspace"),
    path("console/reports/", views.report_list_page, name="report-list-page"),
    path("console/reports/<int:report_id>/", views.report_page, name="report-page"),
]
