"""Vietnamese alphabetical order for lists people read (communes, wards, departments).

Code-point order puts "Bảo Vinh" after "Bình Phước" (ả is U+1EA3). PostgreSQL built with ICU
sorts by the `vi-x-icu` collation; a server without ICU (the embedded one) gets the same order
from `vi_key` in Python: letters a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y,
then the tones (none, grave, hook, tilde, acute, dot below) as in CLDR's Vietnamese rules, then
the letter case.
"""

import unicodedata

from django.db import connections
from django.db.models.functions import Collate

ICU_COLLATION = "vi-x-icu"

# Base letters with the marks that make them separate letters (breve, circumflex, horn).
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"  # one code point each once composed (NFC)
_PRIMARY = {letter: index for index, letter in enumerate(_ALPHABET)}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vi_key(text: str) -> tuple:
    """A sort key: Vietnamese letters first, tones second, case third (spaces and signs before digits,
    digits before letters, like ICU)."""
    primary, secondary, tertiary = [], [], []
    decomposed = unicodedata.normalize("NFD", text or "")
    i = 0
    while i < len(decomposed):
        char = decomposed[i]
        i += 1
        marks = []
        while i < len(decomposed) and unicodedata.combining(decomposed[i]):
            marks.append(decomposed[i])
            i += 1
        lower = char.lower()
        letter = unicodedata.normalize("NFC", lower + "".join(m for m in marks if m in _LETTER_MARKS))
        tone = next((_TONES[m] for m in marks if m in _TONES), 0)
        if letter in _PRIMARY:
            weight = (3, _PRIMARY[letter])
        elif char.isdigit():
            weight = (2, ord(char))
        elif char.isalpha():
            weight = (4, ord(lower))
        else:
            weight = (1, ord(char))
        primary.append(weight)
        secondary.append(tone)
        tertiary.append(0 if char == lower else 1)
    return (primary, secondary, tertiary)


_icu: dict[str, bool] = {}


def has_icu(using: str = "default") -> bool:
    """Whether the database server knows the ICU Vietnamese collation (asked once per process)."""
    if using not in _icu:
        connection = connections[using]
        if connection.vendor != "postgresql":
            _icu[using] = False
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [ICU_COLLATION])
                _icu[using] = cursor.fetchone() is not None
    return _icu[using]


def by_name(queryset, field: str = "name") -> list:
    """The rows of `queryset` in Vietnamese order of `field`: by the server when it has ICU, else here."""
    if has_icu(queryset.db):
        return list(queryset.order_by(Collate(field, ICU_COLLATION), "pk"))
    return sorted(queryset, key=lambda row: vi_key(getattr(row, field)))
