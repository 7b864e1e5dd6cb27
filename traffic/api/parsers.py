"""The JSON parser of the camera ingest: the same limits as every API view (ioc.api.parsers), read
faster, because a batch of 1,000 events is parsed on every request of a busy vendor system.

orjson reads the bytes (and checks their UTF-8) several times faster than the json module; what it
refuses is read again by the common parser, so what is accepted and the messages are the same.
JSON text can hold a NUL character only written as an escape (backslash, u0000), so the walk over
every text for it (ingest.check_json) runs only when the body holds that escape; otherwise only
the containers are walked, for their depth.
"""

import io

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError

from ioc import ingest
from ioc.api.parsers import BodyTooLarge, SafeJSONParser


def _too_deep(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        inner = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in inner if isinstance(v, dict | list))
    return False


class EventsJSONParser(SafeJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            return super().parse(stream, media_type, parser_context)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(limit)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # Whatever orjson refuses (bad UTF-8 or JSON, integers beyond 64 bits, nesting past
            # its own limit) goes the common way, which accepts or refuses it with its own words.
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        try:
            if b"\\u0000" in raw or isinstance(data, dict | list) and _too_deep(data, ingest.JSON_MAX_DEPTH):
                ingest.check_json(data)  # names the place refused, as every other door does
        except ingest.HostileJSON as exc:
            raise ParseError(str(exc)) from None
        return data
