"""Indicator subsystems 5-9: idempotent observations with history, thresholds, scope, wall figures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from indicators import periods, services
from indicators.models import Indicator, IndicatorTarget, Observation, ObservationRevision, Station
from indicators.selectors import aqi_band, subsystem_figures
from ioc.models import Alert
from ioc.scope import EVERYTHING, Scope
from ioc.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicators(city):
    revenue = Indicator.objects.create(
        code="budget_revenue",
        subsystem="socioeconomic",
        name="Thu ngân sách nhà nước",
        name_en="Budget revenue",
        unit_of_measure="tỷ đồng",
        period="monthly",
        direction="higher",
        warning_threshold=Decimal("4500"),
        critical_threshold=Decimal("3500"),
        accumulates=True,
    )
    return {
        "revenue": revenue,
        "dengue": Indicator.objects.create(
            code="dengue_cases",
            subsystem="health",
            name="Ca sốt xuất huyết",
            unit_of_measure="ca",
            period="daily",
            direction="lower",
            warning_threshold=Decimal("8"),
            critical_threshold=Decimal("15"),
        ),
        "pupils": Indicator.objects.create(
            code="pupils", subsystem="education", name="Học sinh", period="yearly", direction="higher"
        ),
        "visitors": Indicator.objects.create(
            code="visitors", subsystem="tourism", name="Lượt khách", unit_of_measure="nghìn lượt", period="monthly"
        ),
        "aqi": Indicator.objects.create(
            code="aqi",
            subsystem="environment",
            name="VN_AQI",
            period="hourly",
            direction="lower",
            warning_threshold=Decimal("101"),
            critical_threshold=Decimal("201"),
            rollup="max",
            scale="vn_aqi",
        ),
    }


@pytest.fixture
def department(city):
    """A health department's system: a key for the province that may report health figures only."""
    key, plain = api_key_create(name="so-y-te", scopes=["indicators:write"], unit=city["province"])
    services.indicator_source_set(api_key=key, subsystems=["health"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def this_month(months_back=0):
    start = periods.period_start("monthly", timezone.now())
    return periods.step_back("monthly", start, months_back).strftime("%Y-%m")


def today(days_back=0):
    return (timezone.localdate() - timedelta(days=days_back)).isoformat()


def post(client, items):
    return client.post("/api/v1/indicators/observations/", {"observations": items}, format="json")


# --- idempotent upsert and history ------------------------------------------------------------------


def test_resending_the_same_observations_changes_nothing(
    indicators, city, department, django_capture_on_commit_callbacks
):
    batch = [
        {"indicator": "dengue_cases", "unit": "26080", "period": today(1), "value": 3},
        {"indicator": "dengue_cases", "unit": "26089", "period": today(1), "value": "4"},
    ]
    first = post(department, batch).json()
    assert first["created"] == 2
    stored = list(Observation.objects.order_by("pk").values("pk", "value", "received_at", "source"))
    with django_capture_on_commit_callbacks() as announced:
        again = post(department, batch).json()
    assert again["unchanged"] == 2 and again["created"] == again["replaced"] == 0
    assert list(Observation.objects.order_by("pk").values("pk", "value", "received_at", "source")) == stored
    assert ObservationRevision.objects.count() == 0
    assert announced == []  # nothing changed, nothing announced


def test_a_later_value_for_the_same_period_replaces_it_and_is_recorded(indicators, city):
    revenue = indicators["revenue"]
    first, status = services.observation_upsert(
        indicator=revenue, unit=city["province"], period=this_month(1), value="5200.5", source="so-tai-chinh"
    )
    assert status == "created"
    again, status = services.observation_upsert(
        indicator=revenue, unit=city["province"], period=f"{this_month(1)}-15", value=5200.5, source="so-tai-chinh"
    )
    assert status == "unchanged" and again.pk == first.pk
    later, status = services.observation_upsert(
        indicator=revenue, unit=city["province"], period=this_month(1), value="5310", source="so-tai-chinh:final"
    )
    assert status == "replaced" and later.pk == first.pk
    assert Observation.objects.get().value == Decimal("5310")
    old = ObservationRevision.objects.get()
    assert old.observation_id == first.pk and old.value == Decimal("5200.5")
    assert old.source == "so-tai-chinh" and old.replaced_by_source == "so-tai-chinh:final"
    assert Observation.objects.get().revisions == 1


# --- thresholds -------------------------------------------------------------------------------------


def upsert(indicator, unit, period, value):
    return services.observation_upsert(indicator=indicator, unit=unit, period=period, value=value, source="test")


def test_crossing_a_threshold_raises_one_alert_and_recovery_resolves_it(indicators, city):
    dengue, ward = indicators["dengue"], city["long_khanh"]
    upsert(dengue, ward, today(3), 2)
    assert not Alert.objects.exists()
    upsert(dengue, ward, today(2), 9)  # into warning (lower is better)
    upsert(dengue, ward, today(1), 10)  # still in warning: the same alert, no repeat
    alert = Alert.objects.get()
    assert alert.subsystem == "health" and alert.severity == "warning" and alert.unit == ward
    assert alert.count == 1 and alert.dedup_key == "indicator:dengue_cases:26080"
    upsert(dengue, ward, today(0), 16)  # worse: the same alert becomes critical
    alert.refresh_from_db()
    assert Alert.objects.count() == 1 and alert.severity == "critical"
    upsert(dengue, ward, today(0), 5)  # today's figure corrected: back in range
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert Alert.objects.count() == 1


def test_direction_is_respected(indicators, city):
    revenue, province = indicators["revenue"], city["province"]
    upsert(revenue, province, this_month(2), 9000)  # high revenue is good
    assert not Alert.objects.exists()
    upsert(revenue, province, this_month(1), 3000)  # low revenue is critical
    alert = Alert.objects.get()
    assert alert.severity == "critical" and alert.subsystem == "socioeconomic"
    assert services.threshold_status(revenue, 4000) == "warning"
    assert services.threshold_status(indicators["dengue"], 4000) == "critical"
    assert services.threshold_status(indicators["dengue"], 1) == "ok"


def test_a_correction_of_an_old_period_says_nothing_about_now(indicators, city):
    dengue, ward = indicators["dengue"], city["long_khanh"]
    upsert(dengue, ward, today(0), 2)
    upsert(dengue, ward, today(5), 20)
    assert not Alert.objects.exists()


def test_thresholds_are_per_unit(indicators, city):
    dengue = indicators["dengue"]
    upsert(dengue, city["long_khanh"], today(0), 12)
    upsert(dengue, city["binh_loc"], today(0), 12)
    assert Alert.objects.count() == 2
    upsert(dengue, city["long_khanh"], today(0), 1)
    assert set(Alert.objects.values_list("unit__code", "state")) == {("26080", "resolved"), ("26089", "open")}


# --- the batch API ----------------------------------------------------------------------------------


def test_batch_names_bad_items_and_stores_the_good_ones(indicators, city, department):
    body = post(
        department,
        [
            {"indicator": "dengue_cases", "unit": "26080", "period": today(), "value": 3},
            {"indicator": "nope", "unit": "26080", "period": today(), "value": 3},
            {"indicator": "dengue_cases", "unit": "99999", "period": today(), "value": "ba"},
            {"indicator": "dengue_cases", "unit": "26080", "period": "next week", "value": 1},
            {"indicator": "budget_revenue", "unit": "75", "period": this_month(), "value": 1},
        ],
    ).json()
    assert body["created"] == 1 and body["error"] == 4
    errors = [r.get("errors") for r in body["results"]]
    assert errors[0] is None
    assert set(errors[1]) == {"indicator"}
    assert set(errors[2]) == {"unit", "value"}
    assert set(errors[3]) == {"period"}
    assert "socioeconomic" in errors[4]["indicator"]  # this key may report health figures only
    assert Observation.objects.count() == 1


def test_a_ward_key_cannot_report_for_another_ward(indicators, city):
    _key, plain = api_key_create(name="tram-y-te-lk", scopes=["indicators:write"], unit=city["long_khanh"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    body = post(
        client,
        [
            {"indicator": "dengue_cases", "period": today(), "value": 2},  # no unit: the key's own ward
            {"indicator": "dengue_cases", "unit": "26089", "period": today(), "value": 2},
        ],
    ).json()
    assert [r["status"] for r in body["results"]] == ["created", "error"]
    assert Observation.objects.get().unit == city["long_khanh"]


def test_only_keys_with_the_scope_may_post(indicators, city, people, api_as):
    assert post(api_as(people["operator"]), [{"indicator": "pupils"}]).status_code == 403
    _key, plain = api_key_create(name="cameras", scopes=["traffic:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert post(client, [{"indicator": "pupils"}]).status_code == 403


# --- scope ------------------------------------------------------------------------------------------


def test_a_wards_figures_are_seen_by_the_ward_and_the_province_not_another_ward(indicators, city, people, api_as):
    upsert(indicators["dengue"], city["long_khanh"], today(1), 4)
    upsert(indicators["dengue"], city["long_khanh"], today(0), 6)
    observations = "/api/v1/indicators/observations/?indicator=dengue_cases"
    series = "/api/v1/indicators/series/?indicator=dengue_cases&unit=26080"

    ward = api_as(people["staff_lk"])
    assert ward.get(observations).json()["count"] == 2
    assert [p["value"] for p in ward.get(series).json()["points"]] == [4, 6]

    province = api_as(people["leader"])
    assert province.get(observations).json()["count"] == 2
    assert [p["value"] for p in province.get(series).json()["points"]] == [4, 6]
    # The province's own series rolls its wards up.
    rolled = province.get("/api/v1/indicators/series/?indicator=dengue_cases").json()
    assert [p["value"] for p in rolled["points"]] == [4, 6]

    other = api_as(people["staff_bl"])
    assert other.get(observations).json()["count"] == 0
    assert other.get(series).status_code == 404
    assert other.get("/api/v1/indicators/series/?indicator=dengue_cases").json()["points"] == []
    assert other.get("/api/v1/indicators/?subsystem=health").json()["count"] == 1  # definitions are shared


def test_station_readings_follow_the_station_unit(indicators, city, people, api_as):
    Station.objects.create(
        code="BH-KK-01", name="Trạm Biên Hòa", unit=city["bien_hoa"], latitude=10.9574, longitude=106.8427
    )
    key, plain = api_key_create(name="quan-trac", scopes=["indicators:write"], unit=city["province"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    hour = periods.period_start("hourly", timezone.now()).isoformat()
    assert (
        post(client, [{"indicator": "aqi", "station": "BH-KK-01", "period": hour, "value": 130}]).json()["created"] == 1
    )
    assert Observation.objects.get().unit == city["bien_hoa"]
    stations = api_as(people["leader"]).get("/api/v1/indicators/stations/").json()
    assert stations[0]["aqi"]["value"] == 130 and stations[0]["aqi"]["band"]["code"] == "usg"
    assert api_as(people["staff_lk"]).get("/api/v1/indicators/stations/").json() == []


# --- figures ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [(0, "good"), (50, "good"), (51, "moderate"), (100, "moderate"), (101, "usg"), (150, "usg"), (151, "unhealthy"),
     (200, "unhealthy"), (201, "very_unhealthy"), (300, "very_unhealthy"), (301, "hazardous"), (500, "hazardous")],
)  # fmt: skip
def test_vn_aqi_bands(value, band):
    assert aqi_band(value)["code"] == band


def test_figures_show_sparkline_change_status_and_progress(indicators, city):
    revenue, province = indicators["revenue"], city["province"]
    IndicatorTarget.objects.create(indicator=revenue, unit=province, year=timezone.localdate().year, value=60000)
    month = periods.period_start("monthly", timezone.now())
    this_year = [m for m in range(2, -1, -1) if periods.step_back("monthly", month, m).year == month.year]
    for n, m in enumerate(this_year):
        upsert(revenue, province, this_month(m), 5000 + 100 * n)
    figures = subsystem_figures("socioeconomic", Scope(unit=province))
    kpi = figures["kpis"][0]
    assert kpi["code"] == "budget_revenue" and kpi["status"] == "ok"
    assert kpi["spark"] == [5000 + 100 * n for n in range(len(this_year))]
    if len(this_year) > 1:
        assert kpi["change"] == 100 and kpi["trend"] == "better"
    total = sum(5000 + 100 * n for n in range(len(this_year)))
    assert kpi["target"]["done"] == total and kpi["target"]["percent"] == round(total / 600, 2)
    assert figures["lists"][0]["code"] == "progress"
    assert subsystem_figures("socioeconomic", Scope(unit=city["long_khanh"])) is None


def test_the_leaders_wall_shows_the_five_panels_with_figures(indicators, city, people, api_as):
    Station.objects.create(
        code="LK-KK-01", name="Trạm Long Khánh", unit=city["long_khanh"], latitude=10.9, longitude=107.2
    )
    hour = periods.period_start("hourly", timezone.now()).isoformat()
    upsert(indicators["revenue"], city["province"], this_month(), 5600)
    upsert(indicators["dengue"], city["binh_loc"], today(), 3)
    upsert(indicators["pupils"], city["province"], str(timezone.localdate().year), 925000)
    upsert(indicators["visitors"], city["province"], this_month(), 430)
    services.observation_upsert(
        indicator=indicators["aqi"],
        unit=city["long_khanh"],
        station=Station.objects.get(),
        period=hour,
        value=215,
        source="test",
    )
    snapshot = api_as(people["leader"]).get("/api/v1/dashboard/snapshot/").json()
    panels = {p["code"]: p for p in snapshot["subsystems"]}
    for code in ("socioeconomic", "health", "education", "tourism", "environment"):
        assert panels[code]["figures"]["kpis"], code
    environment = panels["environment"]["figures"]
    aqi = environment["kpis"][0]
    assert aqi["value"] == 215 and aqi["band"]["code"] == "very_unhealthy" and aqi["status"] == "critical"
    assert environment["stations"][0]["latitude"] == 10.9
    assert panels["environment"]["alerts"]["critical"] == 1
    assert panels["health"]["figures"]["kpis"][0]["value"] == 3  # a ward's figure rolled up to the province
    # The figures of an empty scope say "no data" rather than zeros.
    assert subsystem_figures("tourism", Scope(unit=city["bien_hoa"])) is None
    assert subsystem_figures("tourism", EVERYTHING)["kpis"][0]["value"] == 430
