"""Bench data: schema, the demo city, the two people whose sessions the benchmarks use."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from ioc.demo import PROVINCE, load_demo_city
from ioc.models import Alert, Unit, User
from ioc.roles import LEADER, UNIT_STAFF

STAFF_UNIT = "26080"  # a ward of the demo province


def migrate() -> None:
    call_command("migrate", interactive=False, verbosity=0)


def demo_city() -> None:
    load_demo_city()
    Alert.objects.all().delete()  # every run starts from the same (empty) alert table


def wards() -> list[Unit]:
    """The communes and wards of the demo province."""
    kinds = [Unit.Kind.WARD, Unit.Kind.COMMUNE, Unit.Kind.SPECIAL_ZONE]
    units = list(Unit.objects.filter(path__startswith=f"/{PROVINCE}/", kind__in=kinds).order_by("code"))
    if not units:
        raise RuntimeError("the demo city has no wards")
    return units


def _person(username: str, role: str, unit_code: str) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.home_unit = Unit.objects.get(code=unit_code)
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def people() -> dict[str, str]:
    """Session cookies of a provincial leader and a ward's staff member."""
    leader = _person("bench_leader", LEADER, PROVINCE)
    staff = _person(f"bench_staff_{STAFF_UNIT}", UNIT_STAFF, STAFF_UNIT)
    return {"leader": session_cookie(leader), "staff": session_cookie(staff)}
