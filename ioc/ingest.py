"""Checks for the items machines send in batches, one message per bad field.

Batch ingestion checks thousands of plain dicts; these small readers are much cheaper than a
serializer per item and report every bad field of an item at once.
"""

import json
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

# Limits every door applies to what it is sent (docs/security.md, "Hostile input").
JSON_MAX_DEPTH = 64
FIRST_YEAR, LAST_YEAR = 1900, 2100
NUL = "\x00"


class HostileJSON(ValueError):
    """A JSON text that parses but that no part of the IOC accepts (too deep, a NUL character)."""


def loads(text, *, max_depth: int = JSON_MAX_DEPTH, **options):
    """json.loads that refuses nesting deeper than `max_depth` and text holding a NUL character.

    Raises ValueError (json.JSONDecodeError or HostileJSON) with a message a person understands.
    """
    try:
        data = json.loads(text, **options)
    except RecursionError:
        raise HostileJSON(_("JSON nested deeper than %(n)s levels.") % {"n": max_depth}) from None
    check_json(data, max_depth=max_depth)
    return data


def check_json(data, *, max_depth: int = JSON_MAX_DEPTH) -> None:
    """Walk parsed JSON without recursion; raise HostileJSON naming the first place that is refused."""
    stack = [(data, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                raise HostileJSON(
                    _("%(name)s: text may not contain the NUL character (U+0000).") % {"name": where or "body"}
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            raise HostileJSON(_("JSON nested deeper than %(n)s levels.") % {"n": max_depth})
        if isinstance(value, dict):
            for key, inner in value.items():
                place = f"{where}.{key}" if where else str(key)
                if NUL in key:
                    raise HostileJSON(
                        _("%(name)s: text may not contain the NUL character (U+0000).")
                        % {"name": place.replace(NUL, "\\u0000")}
                    )
                stack.append((inner, depth + 1, place))
        else:
            stack.extend((inner, depth + 1, f"{where}[{index}]") for index, inner in enumerate(value))


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC: an offset PostgreSQL does not take (beyond ±15:59, e.g. -19:58) never
    reaches the database."""
    return value.astimezone(UTC) if value.tzinfo is not None else value


def sane_moment(value: datetime | None) -> bool:
    """Whether a parsed time lies in the years any record of a city can be about."""
    return value is not None and FIRST_YEAR <= value.year <= LAST_YEAR


def moment_field(item: dict, field: str, errors: dict, required: bool = False) -> datetime | None:
    """An ISO 8601 time with its time zone; a per-field message when it is missing, badly written,
    impossible (30 February, month 13) or outside FIRST_YEAR..LAST_YEAR."""
    value = item.get(field)
    if value in (None, ""):
        if required:
            errors[field] = _("This field is required.")
        return None
    moment = None
    if isinstance(value, str) and NUL not in value:
        try:
            moment = parse_datetime(value.strip())
        except (ValueError, OverflowError):
            errors[field] = _("This day or time does not exist (e.g. 30 February, month 13, hour 25).")
            return None
    if moment is None or moment.tzinfo is None:
        errors[field] = _("Give an ISO 8601 time with its time zone, e.g. 2026-11-26T08:15:00+07:00.")
        return None
    if not sane_moment(moment):
        errors[field] = _("Use a date between the years %(first)s and %(last)s.") % {
            "first": FIRST_YEAR,
            "last": LAST_YEAR,
        }
        return None
    return in_utc(moment)


def parse_moment(value) -> datetime | None:
    """An ISO 8601 time, or None when it is not one: badly written, impossible (30 February,
    month 13) or outside FIRST_YEAR..LAST_YEAR."""
    if not isinstance(value, str) or NUL in value:
        return None
    try:
        moment = parse_datetime(value.strip())
    except (ValueError, OverflowError):
        return None
    return in_utc(moment) if sane_moment(moment) else None


def text_field(item: dict, field: str, limit: int, errors: dict, required: bool = False) -> str:
    """A trimmed string (whole numbers are taken as text, e.g. codes sent as numbers)."""
    value = item.get(field)
    if value is None:
        value = ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors[field] = _("Must be text.")
        return ""
    if NUL in value:
        errors[field] = _("Text may not contain the NUL character (U+0000).")
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = _("This field is required.")
    elif len(value) > limit:
        errors[field] = _("At most %(n)s characters.") % {"n": limit}
    return value


# --- the doors of each app, by name --------------------------------------------------------------
#
# An app that must feed another app's data (the one-stop demo feed sends its counter cameras'
# events) calls the door by name; the owning app registers it in AppConfig.ready().
_doors: dict = {}


def register_door(name: str, service) -> None:
    _doors[name] = service


def door(name: str):
    """The ingestion service registered as `name`, e.g. door("camera_events")(source=, items=, scope=)."""
    return _doors[name]
