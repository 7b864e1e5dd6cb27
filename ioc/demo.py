"""The demo city: Đồng Nai with its communes and wards, departments, roles and demo users.

Loading is idempotent: run it on every start, it changes nothing the second time.
"""

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from ioc.models import Unit, User
from ioc.roles import ADMIN, LEADER, OPERATOR, SCREEN, UNIT_STAFF
from ioc.services import unit_upsert
from ioc.units import load_units, units_from_data_file

PROVINCE = "75"

DEPARTMENTS = [
    ("75-SXD", "Sở Xây dựng (quản lý đô thị, giao thông)", "Department of Construction (urban management, roads)"),
    ("75-SNNMT", "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"),
    ("75-CA", "Công an tỉnh Đồng Nai", "Đồng Nai Provincial Police"),
    ("75-PC", "Công ty Điện lực Đồng Nai", "Đồng Nai Power Company"),
    ("75-CN", "Công ty Cấp nước Đồng Nai", "Đồng Nai Water Supply Company"),
    ("75-SYT", "Sở Y tế", "Department of Health"),
    ("75-SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("75-SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    ("75-STC", "Sở Tài chính", "Department of Finance"),
]

# Approximate centres for the map (the unit data file carries codes and names only).
CENTRES = {
    "75": (10.9575, 106.8427),
    "26068": (10.9500, 106.8200),
    "26080": (10.9370, 107.2430),
    "26089": (10.9850, 107.2300),
    "26098": (10.9480, 107.2780),
    "26104": (10.9050, 107.2050),
    "26113": (10.8850, 107.2550),
}

# (username, role, home unit code, first name)
DEMO_USERS = [
    ("admin", ADMIN, None, "Quản trị"),
    ("leader", LEADER, PROVINCE, "Lãnh đạo tỉnh"),
    ("operator", OPERATOR, PROVINCE, "Điều hành viên IOC"),
    ("leader_26080", LEADER, "26080", "Lãnh đạo phường Long Khánh"),
    ("staff_26080", UNIT_STAFF, "26080", "Cán bộ phường Long Khánh"),
    ("staff_26089", UNIT_STAFF, "26089", "Cán bộ phường Bình Lộc"),
    ("staff_26068", UNIT_STAFF, "26068", "Cán bộ phường Biên Hòa"),
    ("screen", SCREEN, PROVINCE, "Màn hình giám sát tỉnh"),
]


def ensure_roles() -> None:
    for name in (ADMIN, LEADER, OPERATOR, UNIT_STAFF, SCREEN):
        Group.objects.get_or_create(name=name)


def load_demo_city(password: str | None = None) -> dict:
    password = password or settings.IOC_DEMO_PASSWORD
    with transaction.atomic():
        ensure_roles()
        province_loaded = Unit.objects.filter(code=PROVINCE).exists()
        if not province_loaded:
            load_units(units_from_data_file(PROVINCE))
        province = Unit.objects.get(code=PROVINCE)
        for code, name, name_en in DEPARTMENTS:
            if not Unit.objects.filter(code=code).exists():
                unit_upsert(code=code, name=name, name_en=name_en, kind=Unit.Kind.DEPARTMENT, parent=province)
        for code, (lat, lon) in CENTRES.items():
            Unit.objects.filter(code=code, latitude__isnull=True).update(latitude=lat, longitude=lon)
        from ioc.boundaries import load_demo_boundaries

        # The wall's map draws approximate cells where a unit has no surveyed boundary (docs/map.md).
        load_demo_boundaries(PROVINCE)
        created_users = []
        for username, role, unit_code, first_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username, first_name=first_name, is_staff=role == ADMIN, is_superuser=role == ADMIN
                )
                user.home_unit = Unit.objects.get(code=unit_code) if unit_code else None
                user.set_password(password)
                user.save()
                user.groups.add(Group.objects.get(name=role))
                created_users.append(username)
        # Each subsystem app adds its own demo configuration (categories, cameras, offices...).
        for app in apps.get_app_configs():
            if hasattr(app, "load_demo"):
                app.load_demo()
    return {"units": Unit.objects.count(), "users_created": created_users}
