"""A new indicator subsystem is a row: it reaches the registry, the API, the snapshot and the wall."""

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from indicators.models import Indicator, IndicatorSubsystem
from ioc import registry
from ioc.worktime import LOCAL_TZ

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 25, 15, 0, tzinfo=LOCAL_TZ))
def test_a_subsystem_added_as_data_appears_everywhere(client, people, city):
    IndicatorSubsystem.objects.create(
        code="transport", name="Giao thông công cộng", name_en="Public transport", order=10, icon="bus"
    )
    registry.invalidate()
    Indicator.objects.create(
        code="luot-xe-buyt",
        subsystem="transport",
        name="Lượt hành khách xe buýt",
        unit_of_measure="lượt",
        period="daily",
    )
    client.force_login(people["leader"])
    codes = [s["code"] for s in client.get("/api/v1/subsystems/").json()]
    assert codes[-1] == "transport" and len(codes) == 10
    assert 'data-subsystem="transport"' in client.get("/wall/").content.decode()
    panel = next(s for s in client.get("/api/v1/dashboard/snapshot/").json()["subsystems"] if s["code"] == "transport")
    assert panel["name_vi"] == "Giao thông công cộng"

    from indicators.services import observation_upsert

    observation_upsert(
        indicator=Indicator.objects.get(code="luot-xe-buyt"),
        unit=city["province"],
        period="2026-11-25",
        value=Decimal("18250"),
        source="test",
    )
    panel = next(s for s in client.get("/api/v1/dashboard/snapshot/").json()["subsystems"] if s["code"] == "transport")
    assert panel["figures"]["kpis"][0]["value"] == 18250


def test_switching_a_subsystem_off_is_data_too(client, people):
    IndicatorSubsystem.objects.filter(code="tourism").update(active=False)
    registry.invalidate()
    client.force_login(people["leader"])
    assert "tourism" not in [s["code"] for s in client.get("/api/v1/subsystems/").json()]
    IndicatorSubsystem.objects.filter(code="tourism").update(active=True)
    registry.invalidate()


def test_an_indicator_of_an_unknown_subsystem_is_refused():
    from django.core.exceptions import ValidationError

    indicator = Indicator(code="x", subsystem="nowhere", name="X", period="daily")
    with pytest.raises(ValidationError):
        indicator.clean()
