"""Paging of every API list: `limit` and `offset` are checked, never passed on to the database blindly."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000


class CheckedLimitOffsetPagination(LimitOffsetPagination):
    """`limit` is a whole number from 1; above MAX_LIMIT it is lowered to MAX_LIMIT. `offset` is a whole
    number from 0 to MAX_OFFSET. Anything else is a 400 naming the parameter."""

    max_limit = MAX_LIMIT

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw in (None, ""):
            return self.default_limit
        value = self._whole_number(self.limit_query_param, raw)
        if value < 1:
            raise ValidationError({self.limit_query_param: _("Must be a whole number of at least 1.")})
        return min(value, self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw in (None, ""):
            return 0
        value = self._whole_number(self.offset_query_param, raw)
        if not 0 <= value <= MAX_OFFSET:
            raise ValidationError(
                {self.offset_query_param: _("Must be a whole number from 0 to %(max)s.") % {"max": f"{MAX_OFFSET:,}"}}
            )
        return value

    @staticmethod
    def _whole_number(name: str, raw: str) -> int:
        text = raw.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            raise ValidationError({name: _("Must be a whole number.")})
        return int(text)
