"""Errors a service raises for the caller to see (the API turns them into 4xx answers)."""

from django.core.exceptions import PermissionDenied, ValidationError  # noqa: F401  (re-exported)


class Conflict(Exception):
    """The object changed under the caller (e.g. another operator acted first): HTTP 409."""


class NotFound(Exception):
    """The object does not exist or lies outside the caller's scope: HTTP 404."""
