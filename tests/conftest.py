"""Standing units and people: a province, three wards, a department, and one user per role."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from ioc import bus
from ioc.demo import ensure_roles
from ioc.models import Unit, User
from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF
from ioc.services import api_key_create, unit_upsert

PASSWORD = "correct-horse-battery"


@pytest.fixture
def city(db):
    """Đồng Nai with three wards and one department."""
    # Reference data from a data migration is emptied by transactional tests: put it back.
    from indicators.apps import ensure_default_subsystems
    from traffic.catalogue import ensure_event_kinds

    ensure_event_kinds()
    ensure_default_subsystems()
    province = unit_upsert(code="75", name="Tỉnh Đồng Nai", kind=Unit.Kind.PROVINCE)
    return {
        "province": province,
        "long_khanh": unit_upsert(code="26080", name="Phường Long Khánh", kind=Unit.Kind.WARD, parent=province),
        "binh_loc": unit_upsert(code="26089", name="Phường Bình Lộc", kind=Unit.Kind.WARD, parent=province),
        "bien_hoa": unit_upsert(code="26068", name="Phường Biên Hòa", kind=Unit.Kind.WARD, parent=province),
        "police": unit_upsert(code="75-CA", name="Công an tỉnh", kind=Unit.Kind.DEPARTMENT, parent=province),
    }


def make_user(username, role, unit):
    ensure_roles()
    user = User.objects.create_user(username=username, password=PASSWORD, home_unit=unit)
    user.groups.add(Group.objects.get(name=role))
    if role == ADMIN:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


@pytest.fixture
def people(city):
    return {
        "admin": make_user("admin", ADMIN, None),
        "leader": make_user("leader", LEADER, city["province"]),
        "operator": make_user("operator", OPERATOR, city["province"]),
        "staff_lk": make_user("staff_26080", UNIT_STAFF, city["long_khanh"]),
        "staff_bl": make_user("staff_26089", UNIT_STAFF, city["binh_loc"]),
    }


@pytest.fixture
def api_as():
    def client_for(user):
        client = APIClient()
        client.force_login(user)
        return client

    return client_for


@pytest.fixture
def machine_key(city):
    """A vendor system's key for the province, allowed to raise alerts."""
    key, plain = api_key_create(name="camera-vendor", scopes=["alerts:write"], unit=city["province"])
    return key, plain


@pytest.fixture(autouse=True)
def _drain_live_bus():
    yield
    bus.flush(timeout=5)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Users are made in nearly every test; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render without a collectstatic run; the browser tests serve collected files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Figures are computed for every snapshot: inside a test's transaction no commit announces a change,
    # so kept figures would outlive it (tests/test_snapshot_figures.py keeps them on purpose).
    settings.IOC_SNAPSHOT_FIGURES_SECONDS = 0


@pytest.fixture
def categories(city):
    """Three report categories: normal (no department), urgent (police), complex (no anonymous)."""
    from reports.models import Category, CategoryGroup, Level

    group = CategoryGroup.objects.create(code="ha-tang", name="Hạ tầng")
    # Ward centres, so a location finds its ward.
    Unit.objects.filter(code="26080").update(latitude=10.9370, longitude=107.2430)
    Unit.objects.filter(code="26089").update(latitude=10.9850, longitude=107.2300)
    Unit.objects.filter(code="26068").update(latitude=10.9500, longitude=106.8200)
    return {
        "pothole": Category.objects.create(code="o-ga", name="Ổ gà", group=group, default_level=Level.NORMAL),
        "fire": Category.objects.create(
            code="chay-no", name="Cháy nổ", group=group, default_level=Level.URGENT, department=city["police"]
        ),
        "building": Category.objects.create(
            code="xay-dung",
            name="Xây dựng trái phép",
            group=group,
            default_level=Level.COMPLEX,
            allow_anonymous=False,
        ),
    }


LONG_KHANH = (10.9372, 107.2431)


@pytest.fixture
def submit(categories):
    """Submit a report through the service, as a citizen would."""
    from reports.services import report_submit

    def _submit(category="pothole", where=LONG_KHANH, **extra):
        fields = {
            "description": "Ổ gà lớn trước số 12 đường Hùng Vương",
            "reporter_name": "Nguyễn Văn An",
            "reporter_phone": "0912345678",
            "reporter_email": "an@example.vn",
            **extra,
        }
        return report_submit(category=categories[category], latitude=where[0], longitude=where[1], **fields)

    return _submit


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Throttle counters live in the real Redis cache and outlast a test: start each test at zero.
    from django.core.cache import cache

    cache.delete_pattern("*throttle_*")


# The browser tests' static files, collected once for the whole run: a fixture imported into each test
# module would be a fixture of that module, and collect them again for every file (half a minute each).
from tests.browser import collected_static  # noqa: E402, F401
