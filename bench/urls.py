"""The project's URLs plus the framework floor (bench/floor.py), for the servers `make bench` starts."""

from django.urls import path

from bench.floor import FloorView
from ioc.urls import *  # noqa: F403 (the same handlers and patterns as the product)
from ioc.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("bench/floor/", FloorView.as_view()), *product_urlpatterns]
