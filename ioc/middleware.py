import contextvars
import logging

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from ioc.clientaddr import client_address


class LanguageMiddleware:
    """Vietnamese unless the person chose another language (the language cookie).

    Staff screens ignore the browser's Accept-Language on purpose: command-centre screens and office
    PCs often run an English system, yet the people in front of them expect Vietnamese. Pages for the
    public (views marked with `browser_language`) follow Accept-Language until the person chooses:
    a visitor's phone set to English is a better guess than Vietnamese. The cookie wins once set.
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
        if getattr(request, "_language_from_browser", False):
            # Caches keep one copy per language asked for (and per cookie, which may override it).
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "browser_language", False):
            return None
        request._language_from_browser = True
        if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in self.supported:
            return None
        language = translation.get_language_from_request(request)
        if language in self.supported:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return None


def browser_language(view):
    """Mark a public page: its language follows the browser's Accept-Language until the person
    chooses one (LanguageMiddleware)."""
    view.browser_language = True
    return view


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
