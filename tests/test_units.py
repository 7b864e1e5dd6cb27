"""The unit tree: official codes, any depth, materialized paths, the demo city."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ioc.demo import load_demo_city
from ioc.models import Unit, User
from ioc.scope import Scope
from ioc.services import unit_upsert

pytestmark = pytest.mark.django_db


def test_demo_city_is_dong_nai_with_its_95_communes_and_wards():
    load_demo_city()
    province = Unit.objects.get(code="75")
    below = Unit.objects.filter(parent=province)
    assert below.filter(kind="ward").count() == 23
    assert below.filter(kind="commune").count() == 72
    assert Unit.objects.get(code="26080").name == "Phường Long Khánh"
    assert below.filter(kind="department").count() >= 5
    assert User.objects.get(username="staff_26080").home_unit.code == "26080"


def test_loading_the_demo_city_twice_changes_nothing():
    load_demo_city()
    units, users = Unit.objects.count(), User.objects.count()
    again = load_demo_city()
    assert again["users_created"] == []
    assert (Unit.objects.count(), User.objects.count()) == (units, users)


def test_a_district_level_tree_works_and_moving_a_subtree_moves_its_paths():
    province = unit_upsert(code="75", name="Đồng Nai", kind="province")
    district = unit_upsert(code="732", name="Thành phố Long Khánh", kind="district", parent=province)
    ward = unit_upsert(code="26080", name="Phường Xuân An", kind="ward", parent=district)
    assert ward.path == "/75/732/26080/" and ward.depth == 2
    other = unit_upsert(code="731", name="Huyện Xuân Lộc", kind="district", parent=province)
    unit_upsert(code="732", name="Thành phố Long Khánh", kind="district", parent=other)
    ward.refresh_from_db()
    assert ward.path == "/75/731/732/26080/" and ward.depth == 3
    assert Scope(unit=other).contains(ward)


def test_a_unit_cannot_be_put_under_itself():
    from django.core.exceptions import ValidationError

    province = unit_upsert(code="75", name="Đồng Nai", kind="province")
    ward = unit_upsert(code="26080", name="Long Khánh", kind="ward", parent=province)
    with pytest.raises(ValidationError):
        unit_upsert(code="75", name="Đồng Nai", kind="province", parent=ward)


def test_this_unit_and_all_below_is_one_indexed_query(city):
    with CaptureQueriesContext(connection) as queries:
        codes = sorted(Scope(unit=city["province"]).units().values_list("code", flat=True))
    assert codes == ["26068", "26080", "26089", "75", "75-CA"]
    assert len(queries) == 1
    assert "LIKE" in queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'unit_path_prefix'")
        assert "varchar_pattern_ops" in cursor.fetchone()[0]


def test_load_units_command_uses_the_shipped_file():
    out = StringIO()
    call_command("load_units", "--province", "75", "--from-file", stdout=out)
    assert "96 units" in out.getvalue()
    assert Unit.objects.count() == 96


def test_load_units_command_explains_a_bad_province():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="numeric"):
        call_command("load_units", "--province", "dong-nai", stdout=StringIO())
