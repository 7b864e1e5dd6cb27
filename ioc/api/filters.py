"""Filters of every API list: a date outside the years a city's records can be about is a 400."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import fields
from django_filters import rest_framework as filters

from ioc import ingest


def _out_of_range() -> ValidationError:
    return ValidationError(
        _("Use a date between the years %(first)s and %(last)s."),
        code="out_of_range",
        params={"first": ingest.FIRST_YEAR, "last": ingest.LAST_YEAR},
    )


class _SaneYears:
    """Refuses a date or time outside ingest.FIRST_YEAR..LAST_YEAR, and one Python cannot shift into
    the current time zone (year 1 or 9999), before it reaches the database."""

    def strptime(self, value, format):
        try:
            return super().strptime(value, format)
        except OverflowError:
            raise ValueError(value) from None

    def to_python(self, value):
        try:
            moment = super().to_python(value)
        except OverflowError:
            raise _out_of_range() from None
        if moment is not None and not ingest.FIRST_YEAR <= moment.year <= ingest.LAST_YEAR:
            raise _out_of_range()
        if isinstance(moment, datetime):
            moment = ingest.in_utc(moment)
        return moment


class SaneIsoDateTimeField(_SaneYears, fields.IsoDateTimeField):
    pass


class SaneDateTimeField(_SaneYears, forms.DateTimeField):
    pass


class SaneDateField(_SaneYears, forms.DateField):
    pass


# Most specific first: IsoDateTimeField is a DateTimeField.
SANE_FIELDS = [
    (fields.IsoDateTimeField, SaneIsoDateTimeField),
    (forms.DateTimeField, SaneDateTimeField),
    (forms.DateField, SaneDateField),
]


class FilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend whose date and time filters, declared or generated, check their years."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for item in filterset.filters.values():
                field_class = getattr(item, "field_class", None)
                if not isinstance(field_class, type) or issubclass(field_class, _SaneYears):
                    continue
                for plain, sane in SANE_FIELDS:
                    if issubclass(field_class, plain):
                        item.field_class = sane
                        break
        return filterset
