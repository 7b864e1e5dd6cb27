"""Refuse hostile input at the door, before any view or the database sees it (docs/security.md).

A NUL character in the path, the query string or a form field, a query string that is not UTF-8, a
form field that did not decode as UTF-8, a body over the size limits: each is a 400 or 413 with a
message in the API's error shape (`{"detail": ...}`, or GeoReport's `[{"code", "description"}]`
under /open311/).
"""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from ioc.ingest import NUL
from ioc.outage import api_error

REPLACEMENT = "\ufffd"  # what a byte sequence that is not UTF-8 decodes to
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def max_request_body() -> int:
    """The largest body any endpoint takes: a report with all its photos, plus its text fields."""
    configured = getattr(settings, "IOC_MAX_REQUEST_BODY", None)
    if configured:
        return configured
    photos = settings.IOC_PHOTOS_PER_REPORT * settings.IOC_PHOTO_MAX_BYTES
    return photos + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + 1024 * 1024


def refusal(request, status: int, message: str) -> HttpResponse:
    """An error in the shape of the API the path belongs to (each app's own, e.g. Open311's); JSON else."""
    return api_error(request, status, message) or JsonResponse({"detail": message}, status=status)


def too_many_fields_message() -> str:
    return _("Too many form fields or files: at most %(fields)s fields and %(files)s files.") % {
        "fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        "files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
    }


def _field_problem(name: str, value: str) -> str | None:
    if NUL in name or NUL in value:
        return _("%(name)s: text may not contain the NUL character (U+0000).") % {"name": name.replace(NUL, "")}
    if REPLACEMENT in name or REPLACEMENT in value:
        return _("%(name)s: not valid UTF-8 text.") % {"name": name.replace(REPLACEMENT, "?")}
    return None


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.check(request) or self.get_response(request)

    def check(self, request) -> HttpResponse | None:
        if NUL in request.path:
            return refusal(request, 400, _("The address may not contain the NUL character (U+0000)."))
        problem = self._query_problem(request.META.get("QUERY_STRING", ""))
        if problem:
            return refusal(request, 400, problem)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(request, 400, _("The Content-Length header is not a number."))
        limit = max_request_body()
        if length > limit:
            return refusal(request, 413, _("The request body is larger than %(limit)s.") % {"limit": megabytes(limit)})
        if request.method == "POST" and request.content_type in FORM_TYPES:
            return self._form_problem(request)
        return None

    @staticmethod
    def _query_problem(query: str) -> str | None:
        if not query:
            return None
        raw = unquote_to_bytes(query.replace("+", " "))
        if b"\x00" in raw:
            return _("The query string may not contain the NUL character (U+0000).")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return _("The query string is not valid UTF-8 text.")
        return None

    @staticmethod
    def _form_problem(request) -> HttpResponse | None:
        try:
            fields = request.POST
            files = request.FILES
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return refusal(
                request, 413, _("The form fields are larger than %(limit)s in all.") % {"limit": megabytes(limit)}
            )
        except (TooManyFieldsSent, TooManyFilesSent):
            return refusal(request, 413, too_many_fields_message())
        except MultiPartParserError as exc:
            return refusal(request, 400, _("The form data is malformed: %(error)s") % {"error": exc})
        for name, values in fields.lists():
            for value in values:
                problem = _field_problem(name, value)
                if problem:
                    return refusal(request, 400, problem)
        for name in files:
            for upload in files.getlist(name):
                problem = _field_problem(name, upload.name or "")
                if problem:
                    return refusal(request, 400, problem)
        return None
