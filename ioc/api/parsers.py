"""The JSON parser of every API view: bounded in size and depth, and no NUL character in any text."""

import codecs

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

from ioc import ingest


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self, limit: int):
        super().__init__(_("The request body is larger than %(limit)s.") % {"limit": megabytes(limit)})


class SafeJSONParser(JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE, nested at most ingest.JSON_MAX_DEPTH deep,
    valid UTF-8, without NaN/Infinity and without a NUL character in any key or text."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(limit)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(_("The JSON body is not valid %(encoding)s text.") % {"encoding": encoding}) from None
        options = {"parse_constant": self._refuse_constant} if api_settings.STRICT_JSON else {}
        try:
            return ingest.loads(text, **options)
        except ingest.HostileJSON as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from None

    @staticmethod
    def _refuse_constant(name):
        raise ValueError(_("%(name)s is not a number JSON allows.") % {"name": name})
