"""Checks for the items machines send in batches, one message per bad field.

Batch ingestion checks thousands of plain dicts; these small readers are much cheaper than a
serializer per item and report every bad field of an item at once.
"""

from django.utils.translation import gettext as _


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
    value = value.strip()
    if required and not value:
        errors[field] = _("This field is required.")
    elif len(value) > limit:
        errors[field] = _("At most %(n)s characters.") % {"n": limit}
    return value
