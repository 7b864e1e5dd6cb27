from django.urls import re_path

from reports.open311 import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>json|xml)$"
CODE = r"(?P<{}>[-\w]+)"

urlpatterns = [
    re_path(r"^$", views.not_found, name="root"),
    re_path(r"^discovery" + FORMAT, views.DiscoveryView.as_view(), name="discovery"),
    re_path(r"^services" + FORMAT, views.ServiceListView.as_view(), name="services"),
    re_path(
        r"^services/" + CODE.format("service_code") + FORMAT, views.ServiceDefinitionView.as_view(), name="service"
    ),
    re_path(r"^requests" + FORMAT, views.RequestListView.as_view(), name="requests"),
    re_path(
        r"^requests/" + CODE.format("service_request_id") + FORMAT, views.RequestDetailView.as_view(), name="request"
    ),
    re_path(r"^tokens/" + CODE.format("token") + FORMAT, views.TokenView.as_view(), name="token"),
    re_path(r"", views.not_found),
]
