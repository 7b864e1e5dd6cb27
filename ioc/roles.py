"""The roles, as Django groups."""

from django.utils.translation import gettext_lazy as _

ADMIN = "admin"
LEADER = "leader"
OPERATOR = "operator"
UNIT_STAFF = "unit_staff"
# An unattended wall display: it reaches only the wall and what the wall reads (ioc.screens).
SCREEN = "screen"

ROLE_NAMES = {
    ADMIN: _("Administrator"),
    LEADER: _("Leader"),
    OPERATOR: _("Operator"),
    UNIT_STAFF: _("Unit staff"),
    SCREEN: _("Wall screen"),
}


def roles_of(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_ioc_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if hasattr(user, "groups") else set()
        if getattr(user, "is_superuser", False):
            cached.add(ADMIN)
        user._ioc_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))
