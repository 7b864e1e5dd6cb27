"""What a caller may see: one helper used by every selector, view, API and socket.

A scope is a unit subtree (or everything, for administrators). Querysets are filtered
before any object is touched, so an object outside the scope is simply not found (404).
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from ioc.models import Unit
from ioc.roles import ADMIN, has_role


@dataclass(frozen=True)
class Scope:
    unit: Unit | None  # None: the whole deployment
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return self.unit is None and not self.everything

    def q(self, *unit_fields: str) -> Q:
        """A Q matching rows whose unit (through any of `unit_fields`) lies in this scope."""
        if self.everything:
            return Q()
        if self.unit is None:
            return Q(pk__in=[])
        return reduce(or_, (Q(**{f"{field}__path__startswith": self.unit.path}) for field in unit_fields))

    def filter(self, queryset: QuerySet, *unit_fields: str) -> QuerySet:
        """Rows of `queryset` in scope. Several fields OR together, e.g. ("unit", "assigned_unit")."""
        if self.everything:
            return queryset
        return queryset.filter(self.q(*(unit_fields or ("unit",))))

    def units(self) -> QuerySet:
        units = Unit.objects.all()
        if self.everything:
            return units
        if self.unit is None:
            return units.none()
        return units.filter(path__startswith=self.unit.path)

    def contains(self, unit: Unit) -> bool:
        if self.everything:
            return True
        return self.unit is not None and unit.path.startswith(self.unit.path)

    @property
    def label(self) -> str:
        return self.unit.code if self.unit else "*"


EVERYTHING = Scope(unit=None, everything=True)
NOTHING = Scope(unit=None)


def scope_for(principal) -> Scope:
    """The scope of a logged-in user or an API-key principal."""
    if not getattr(principal, "is_authenticated", False):
        return NOTHING
    api_key = getattr(principal, "api_key", None)
    if api_key is not None:
        return Scope(unit=api_key.unit)
    if has_role(principal, ADMIN):
        return EVERYTHING
    home = getattr(principal, "home_unit", None)
    return Scope(unit=home) if home is not None else NOTHING


def scope_for_unit(unit: Unit | None) -> Scope:
    return EVERYTHING if unit is None else Scope(unit=unit)
