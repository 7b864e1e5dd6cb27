import contextvars
import logging

from django.conf import settings
from django.utils import translation

from ioc.clientaddr import client_address


class LanguageMiddleware:
    """Vietnamese unless the person chose another language (the language cookie).

    The browser's Accept-Language is ignored on purpose: command-centre screens and office PCs
    often run an English system, yet the people in front of them expect Vietnamese.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


_client = contextvars.ContextVar("ioc_client_address", default=None)


class ClientAddressMiddleware:
    """Decide the client address once per request (ioc.clientaddr) and put it on the log records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_address = client_address(request)
        token = _client.set(request.client_address)
        try:
            return self.get_response(request)
        finally:
            _client.reset(token)


class ClientAddressLogFilter(logging.Filter):
    """Adds `client` (the address of the request being served, if any) to every log record."""

    def filter(self, record):
        if not hasattr(record, "client"):
            request = getattr(record, "request", None)  # django.request logs after the middleware returned
            address = client_address(request) if hasattr(request, "META") else _client.get()
            if address is not None:
                record.client = address
        return True


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header (settings.IOC_PERMISSIONS_POLICY) on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.IOC_PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.IOC_PERMISSIONS_POLICY)
        return response
