"""The wall's vector map: importing boundaries, the approximate demo cells, the map API and its layers,
and the states of the map's markers (docs/map.md)."""

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import shapefile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ioc import boundaries, geo, registry
from ioc.models import BoundarySource, Unit
from ioc.scope import EVERYTHING, Scope
from tests.world import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
VN2000_UTM_PRJ = 'PROJCS["VN_2000_UTM_Zone_48N",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000"]]]'


def square(lat: float, lon: float, half: float = 0.01, decimals: int = 8) -> list:
    """A closed ring around (lat, lon), with more decimals than the map keeps."""
    jitter = 0.123456789e-5
    west, east = round(lon - half + jitter, decimals), round(lon + half + jitter, decimals)
    south, north = round(lat - half + jitter, decimals), round(lat + half + jitter, decimals)
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def feature(properties: dict, ring: list, kind: str = "Polygon") -> dict:
    coordinates = [ring] if kind == "Polygon" else [[ring]]
    return {"type": "Feature", "properties": properties, "geometry": {"type": kind, "coordinates": coordinates}}


def write_geojson(tmp_path, features, name="wards.geojson") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return str(path)


def load(path, *args) -> str:
    out = StringIO()
    call_command("load_boundaries", path, "--province", "75", *args, stdout=out)
    return out.getvalue()


def drawn() -> dict:
    return dict(Unit.objects.exclude(boundary=None).values_list("code", "boundary_source"))


LONG_KHANH, BINH_LOC, BIEN_HOA = (10.937, 107.243), (10.985, 107.23), (10.95, 106.82)


# --- importing ----------------------------------------------------------------------------------


def test_a_geojson_is_matched_by_code_then_by_name_and_the_rest_is_reported(city, tmp_path):
    path = write_geojson(
        tmp_path,
        [
            feature({"ma_xa": "26080", "ten_xa": "Xuân An (cũ)"}, square(*LONG_KHANH)),
            feature({"ten": "P. Bình Lộc"}, square(*BINH_LOC), kind="MultiPolygon"),
            feature({"ma_xa": "99999", "ten_xa": "Xã Không Có"}, square(10.5, 107.0)),
        ],
    )
    said = load(path)
    assert "Matched 2 of 3 features" in said and "1 by code, 1 by name" in said
    assert "#3 “Xã Không Có” (code 99999): no unit has this code or name" in said
    assert "Units left without a boundary (1 of 3)" in said and "26068 Phường Biên Hòa" in said
    assert "left as it was" in said
    assert drawn() == {"26080": BoundarySource.IMPORTED, "26089": BoundarySource.IMPORTED}
    long_khanh = Unit.objects.get(code="26080")
    ring = long_khanh.boundary["coordinates"][0]
    assert all(len(str(x).split(".")[1]) <= boundaries.PRECISION for point in ring for x in point)
    assert long_khanh.bbox == pytest.approx([10.927, 107.233, 10.947, 107.253], abs=1e-4)
    # Routing now finds the ward by its boundary.
    assert geo.locate_unit(*LONG_KHANH).code == "26080"


def test_a_file_that_covers_every_ward_gives_the_province_its_outline(city, tmp_path):
    path = write_geojson(
        tmp_path,
        [
            feature({"code": code}, square(lat, lon))
            for code, (lat, lon) in (("26080", LONG_KHANH), ("26089", BINH_LOC), ("26068", BIEN_HOA))
        ],
    )
    said = load(path)
    assert "union of its wards" in said and "Every ward and commune of Tỉnh Đồng Nai has a boundary" in said
    province = Unit.objects.get(code="75")
    assert province.boundary_source == BoundarySource.IMPORTED
    assert province.boundary["type"] == "MultiPolygon"  # three squares apart
    assert geo.contains(province.boundary, *BIEN_HOA)


def test_a_zipped_shapefile_made_with_pyshp_loads(city, tmp_path):
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding="utf-8") as writer:
        writer.field("MA_XA", "C", size=10)
        writer.field("TEN_XA", "C", size=80)
        writer.poly([list(reversed(square(*LONG_KHANH)))])  # shapefiles run outer rings clockwise
        writer.record("26080", "Phường Long Khánh")
        writer.poly([list(reversed(square(*BIEN_HOA)))])
        writer.record("", "Phường Biên Hòa")
    path = tmp_path / "ranh_gioi_xa.shp.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for ext, blob in ((".shp", shp), (".shx", shx), (".dbf", dbf)):
            archive.writestr(f"ranh_gioi_xa{ext}", blob.getvalue())
        archive.writestr("ranh_gioi_xa.prj", WGS84_PRJ)
        archive.writestr("ranh_gioi_xa.cpg", "UTF-8")
    said = load(str(path))
    assert "Matched 2 of 2 features" in said and "1 by code, 1 by name" in said
    assert drawn() == {"26080": BoundarySource.IMPORTED, "26068": BoundarySource.IMPORTED}
    assert geo.contains(Unit.objects.get(code="26068").boundary, *BIEN_HOA)


def _zip(tmp_path, prj=WGS84_PRJ, shape_type=shapefile.POLYGON):
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shape_type) as writer:
        writer.field("MA_XA", "C", size=10)
        if shape_type == shapefile.POINT:
            writer.point(107.24, 10.94)
        else:
            writer.poly([list(reversed(square(*LONG_KHANH)))])
        writer.record("26080")
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for ext, blob in ((".shp", shp), (".shx", shx), (".dbf", dbf)):
            archive.writestr(f"x{ext}", blob.getvalue())
        archive.writestr("x.prj", prj)
    return str(path)


def _text(tmp_path, text: str) -> str:
    path = tmp_path / "bad.geojson"
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD = feature({"code": "26080"}, square(*LONG_KHANH))
HOSTILE = {
    "not json": (lambda t: _text(t, "ma_xa;ten_xa\n26080;Long Khánh\n"), "not a GeoJSON file"),
    "binary": (lambda t: (t / "x.geojson").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe") and str(t / "x.geojson"), "UTF-8"),
    "not a collection": (lambda t: _text(t, json.dumps({"type": "Topology", "objects": {}})), "FeatureCollection"),
    "a point": (
        lambda t: write_geojson(t, [GOOD, {**GOOD, "geometry": {"type": "Point", "coordinates": [107.2, 10.9]}}]),
        "is a Point",
    ),
    "a line": (
        lambda t: write_geojson(t, [{**GOOD, "geometry": {"type": "LineString", "coordinates": square(*BINH_LOC)}}]),
        "is a LineString",
    ),
    "NaN": (
        lambda t: _text(t, json.dumps({"type": "FeatureCollection", "features": [GOOD]})[:-3] + ', "x": NaN}]}'),
        "NaN",
    ),
    "huge number": (
        lambda t: _text(
            t, json.dumps({"type": "FeatureCollection", "features": [GOOD]}).replace("107.233", "1e400", 1)
        ),
        "too large",
    ),
    "projected metres": (
        lambda t: write_geojson(
            t, [GOOD, feature({"code": "26089"}, [[x * 1e4, y * 1e4] for x, y in square(*BINH_LOC)])]
        ),
        "VN-2000",
    ),
    "another country": (
        lambda t: write_geojson(t, [feature({"code": "26080"}, square(48.85, 2.35))]),
        "outside the area",
    ),
    "a broken ring": (
        lambda t: write_geojson(t, [{**GOOD, "geometry": {"type": "Polygon", "coordinates": [[[107.2, 10.9]]]}}]),
        "fewer than 4",
    ),
    "too deep": (lambda t: _text(t, "[" * 100_000 + "]" * 100_000), "nested too deeply"),
    "no feature matches": (lambda t: write_geojson(t, [feature({"id": 7}, square(*LONG_KHANH))]), "fields are: id"),
    "a projected shapefile": (lambda t: _zip(t, prj=VN2000_UTM_PRJ), "projected coordinate system"),
    "a shapefile of points": (lambda t: _zip(t, shape_type=shapefile.POINT), "only polygons"),
    "a zip that is not a shapefile": (
        lambda t: (zipfile.ZipFile(t / "y.zip", "w").writestr("readme.txt", "hi"), str(t / "y.zip"))[1],
        "exactly one .shp",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_files_are_refused_with_a_reason_and_nothing_written(city, tmp_path, case):
    make, reason = HOSTILE[case]
    path = make(tmp_path)
    with pytest.raises(CommandError, match=reason):
        load(path)
    assert drawn() == {}


def test_a_100_mb_file_is_refused_before_it_is_read(city, tmp_path):
    path = tmp_path / "huge.geojson"
    with open(path, "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: no 100 MB written to the disk
    with pytest.raises(CommandError, match="100 MB; at most 64 MB"):
        load(str(path))


def test_a_zip_that_unpacks_to_too_much_is_refused(city, tmp_path, monkeypatch):
    monkeypatch.setattr(boundaries, "MAX_UNZIPPED_BYTES", 100)
    with pytest.raises(CommandError, match="unpacks to more than"):
        load(_zip(tmp_path))


def test_a_dry_run_reports_and_writes_nothing(city, tmp_path):
    said = load(write_geojson(tmp_path, [GOOD]), "--dry-run")
    assert "Matched 1 of 1" in said and "Nothing written" in said
    assert drawn() == {}


def test_names_are_compared_without_prefix_case_or_diacritics():
    same = ["Phường Long Khánh", "P. Long Khanh", "LONG KHÁNH", " long  khánh ", "Long-Khánh"]
    assert {boundaries.normalise_name(n) for n in same} == {"long khanh"}
    assert boundaries.normalise_name("Thị trấn Dầu Giây") == "dau giay"
    assert boundaries.normalise_name("Xã Đăk Ơ") == "dak o"
    assert boundaries.normalise_name("Xà Phiên") == "xa phien"  # a name, not the prefix "Xã"
    assert boundaries.name_kind("Xã Bàu Hàm") == "commune" and boundaries.name_kind("Bàu Hàm") is None
    assert {boundaries.normalise_code(c) for c in ("26080", 26080, 26080.0, "026080", " 26080 ")} == {"26080"}


def test_an_imported_boundary_replaces_the_approximate_ones_and_wins_where_they_overlap(city, tmp_path):
    from ioc.services import unit_boundaries_set

    big = {"type": "Polygon", "coordinates": [square(*LONG_KHANH, half=0.2)]}
    unit_boundaries_set(boundaries={"26089": big, "26068": big}, source=BoundarySource.APPROXIMATE)
    load(write_geojson(tmp_path, [GOOD]), "--keep-approximate")
    assert drawn() == {"26080": "imported", "26089": "approximate", "26068": "approximate"}
    assert geo.locate_unit(*LONG_KHANH).code == "26080"  # inside all three: the surveyed one decides
    said = load(write_geojson(tmp_path, [GOOD]))
    assert "Approximate boundaries removed: 2" in said
    assert drawn() == {"26080": "imported"}


# --- the demo cells -----------------------------------------------------------------------------


def test_the_demo_file_loads_for_all_95_units_and_each_centre_lies_in_its_own_cell():
    from ioc.demo import CENTRES, load_demo_city

    path = boundaries.demo_file("75")
    assert path.stat().st_size < 300 * 1024
    load_demo_city()
    wards = list(Unit.objects.filter(kind__in=boundaries.WARD_KINDS))
    assert len(wards) == 95
    assert all(u.boundary_source == BoundarySource.APPROXIMATE and u.bbox for u in wards)
    assert Unit.objects.get(code="75").boundary_source == BoundarySource.APPROXIMATE
    for unit in wards:
        assert unit.latitude is not None, unit.code
        assert geo.contains(unit.boundary, unit.latitude, unit.longitude), unit.code
        assert geo.locate_unit(unit.latitude, unit.longitude).code == unit.code
    # The file's centres are the demo's own where it names them.
    for code, (lat, lon) in CENTRES.items():
        assert Unit.objects.filter(code=code, latitude=lat, longitude=lon).exists(), code
    # Loading again changes nothing, and keeps a boundary that was imported meanwhile.
    from ioc.services import unit_boundaries_set

    mine = {"type": "Polygon", "coordinates": [square(*LONG_KHANH)]}
    unit_boundaries_set(boundaries={"26080": mine}, source=BoundarySource.IMPORTED)
    assert boundaries.load_demo_boundaries("75") == 0
    assert Unit.objects.get(code="26080").boundary_source == BoundarySource.IMPORTED


def test_the_demo_feeds_places_route_to_the_wards_they_name():
    from ioc.demo import load_demo_city
    from reports.demo import PLACES

    load_demo_city()
    for code, lat, lon, where, *_rest in PLACES:
        assert geo.locate_unit(lat, lon).code == code, where


def test_the_demo_file_is_what_the_command_draws(tmp_path):
    out = tmp_path / "again.geojson"
    call_command("make_demo_boundaries", "--province", "75", "--output", str(out), stdout=StringIO())
    assert out.read_text(encoding="utf-8") == boundaries.demo_file("75").read_text(encoding="utf-8")


# --- the map API --------------------------------------------------------------------------------


@pytest.fixture
def mapped(city):
    """The three wards and the province with boundaries; Bình Lộc's is approximate."""
    from ioc.services import unit_boundaries_set

    def polygon(lat, lon, half=0.01):
        return {"type": "Polygon", "coordinates": [square(lat, lon, half, decimals=5)]}

    unit_boundaries_set(
        boundaries={"26080": polygon(*LONG_KHANH), "26068": polygon(*BIEN_HOA), "75": polygon(10.95, 107.0, 0.4)},
        source=BoundarySource.IMPORTED,
    )
    unit_boundaries_set(boundaries={"26089": polygon(*BINH_LOC)}, source=BoundarySource.APPROXIMATE)
    return city


def test_a_ward_sees_only_its_ward_with_bounds_around_it(mapped, people, api_as):
    body = api_as(people["staff_lk"]).get("/api/v1/map/units/").json()
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == ["26080"]
    (south, west), (north, east) = body["bounds"]
    assert south < LONG_KHANH[0] < north and west < LONG_KHANH[1] < east
    assert north - south == pytest.approx(0.02, abs=1e-4)
    assert body["approximate"] is False
    ward = body["features"][0]
    assert ward["geometry"]["type"] == "Polygon"
    assert ward["properties"]["code"] == "26080" and ward["properties"]["name"] == "Phường Long Khánh"
    assert ward["properties"]["kind"] == "ward" and ward["properties"]["approximate"] is False
    assert set(ward["properties"]["values"]) == {"overdue", "late_rate", "aqi"}


def test_the_province_gets_every_ward_its_outline_and_the_layers(mapped, people, api_as):
    body = api_as(people["leader"]).get("/api/v1/map/units/").json()
    assert [f["id"] for f in body["features"]] == ["75", "26068", "26080", "26089"]
    assert body["approximate"] is True
    assert {f["id"]: f["properties"]["approximate"] for f in body["features"]}["26089"] is True
    assert body["bounds"] == [[pytest.approx(10.55, abs=1e-3), pytest.approx(106.6, abs=1e-3)], [10.95 + 0.4, 107.4]]
    layers = {layer["code"]: layer for layer in body["layers"]}
    assert list(layers) == ["overdue", "late_rate", "aqi"]
    assert [b["code"] for b in layers["overdue"]["bands"]] == ["0", "1-2", "3-5", "6+", "no_data"]
    assert [b["code"] for b in layers["aqi"]["bands"]][:2] == ["good", "moderate"]
    assert layers["aqi"]["bands"][0]["label"] == "Tốt"  # Vietnamese first
    assert layers["overdue"]["label"] == "Phản ánh quá hạn"
    assert all(b["color"].startswith("#") for layer in body["layers"] for b in layer["bands"])


def test_a_key_needs_the_dashboard_scope(mapped):
    from ioc.services import api_key_create
    from tests.world import key_client

    _key, plain = api_key_create(name="wall", scopes=["dashboard:read"], unit=mapped["long_khanh"])
    assert [f["id"] for f in key_client(plain).get("/api/v1/map/units/").json()["features"]] == ["26080"]
    _key, other = api_key_create(name="reader", scopes=["reports:read"], unit=mapped["province"])
    assert key_client(other).get("/api/v1/map/units/").status_code == 403


def _values(client, code: str, layer: str) -> dict:
    body = client.get("/api/v1/map/units/").json()
    return next(f for f in body["features"] if f["id"] == code)["properties"]["values"][layer]


def test_a_ward_turns_when_it_gets_an_overdue_report_and_a_sub_unit_counts_for_it(mapped, people, api_as, submit):
    from ioc.services import unit_upsert
    from reports.models import Report

    leader = api_as(people["leader"])
    assert _values(leader, "26080", "overdue") == {"value": 0, "band": "0"}
    report, _secret = submit()
    assert report.unit.code == "26080"
    assert _values(leader, "26080", "overdue") == {"value": 0, "band": "0"}  # not past a deadline yet
    Report.objects.filter(pk=report.pk).update(response_due_at=timezone.now() - timedelta(minutes=1))
    assert _values(leader, "26080", "overdue") == {"value": 1, "band": "1-2"}
    assert _values(leader, "75", "overdue") == {"value": 1, "band": "1-2"}  # the province counts its wards
    assert _values(leader, "26089", "overdue") == {"value": 0, "band": "0"}
    # A report located in a part of the ward counts for the ward.
    hamlet = unit_upsert(code="26080-KP1", name="Khu phố 1", kind="ward", parent=mapped["long_khanh"])
    second, _secret = submit()
    Report.objects.filter(pk=second.pk).update(unit=hamlet, response_due_at=timezone.now() - timedelta(minutes=1))
    assert _values(leader, "26080", "overdue") == {"value": 2, "band": "1-2"}
    # Bình Lộc's staff see none of it.
    assert _values(api_as(people["staff_bl"]), "26089", "overdue") == {"value": 0, "band": "0"}


def test_the_one_stop_and_air_layers(mapped, world, people, api_as):
    from indicators.models import Indicator, Scale
    from indicators.services import observation_upsert
    from onestop.services import dossiers_upsert

    leader = api_as(people["leader"])
    assert _values(leader, "26089", "late_rate") == {"value": None, "band": "no_data"}
    assert _values(leader, "26080", "aqi") == {"value": None, "band": "no_data"}  # PM2.5 is no AQI
    now = timezone.now()
    late = {"code": "LATE-MAP", "procedure": "1.001193", "unit": "26080", "status": 4, "channel": 1}
    dossiers_upsert(
        items=[
            {
                **late,
                "received_at": (now - timedelta(hours=3)).isoformat(),
                "due_at": (now - timedelta(hours=1)).isoformat(),
                "updated_at": (now - timedelta(minutes=5)).isoformat(),
            }
        ],
        scope=EVERYTHING,
    )
    rate = _values(leader, "26080", "late_rate")
    assert rate["value"] == 50.0 and rate["band"] == "30+"  # one of the two this month is late
    aqi = Indicator.objects.create(code="aqi", subsystem="environment", name="AQI", period="hourly", scale=Scale.VN_AQI)
    observation_upsert(
        indicator=aqi, unit=world["unit"], station=world["station"], period=now, value=Decimal("120"), source="t"
    )
    assert _values(leader, "26080", "aqi") == {"value": 120, "band": "usg"}
    assert _values(leader, "75", "aqi") == {"value": 120, "band": "usg"}


def test_a_layer_leaves_with_its_subsystem(mapped, people, api_as, settings):
    settings.IOC_SUBSYSTEMS_DISABLED = ["onestop"]
    body = api_as(people["leader"]).get("/api/v1/map/units/").json()
    assert [layer["code"] for layer in body["layers"]] == ["overdue", "aqi"]
    assert set(body["features"][0]["properties"]["values"]) == {"overdue", "aqi"}


def test_the_map_reads_in_a_few_queries_whatever_the_number_of_wards(mapped, people, api_as):
    from ioc.units import load_units, units_from_data_file

    leader = api_as(people["leader"])
    leader.get("/api/v1/map/units/")
    with CaptureQueriesContext(connection) as few:
        assert leader.get("/api/v1/map/units/").status_code == 200
    load_units(units_from_data_file("75"))
    boundaries.load_demo_boundaries("75")  # 95 wards and communes now
    with CaptureQueriesContext(connection) as many:
        body = leader.get("/api/v1/map/units/").json()
    assert len(body["features"]) == 96
    assert len(many) == len(few)


def test_registering_a_layer_twice_from_another_app_is_refused():
    layer = registry.choropleths()[0]
    with pytest.raises(ValueError, match="already registered"):
        registry.register_choropleth(registry.Choropleth(**{**layer.__dict__, "app": "someone-else"}))
    with pytest.raises(ValueError, match="the map's own"):
        bands = (registry.Band(registry.NO_DATA, "x", "#000"),)
        registry.register_choropleth(registry.Choropleth(**{**layer.__dict__, "code": "x", "bands": bands}))


# --- marker states ------------------------------------------------------------------------------


def test_markers_carry_a_state_from_a_fixed_set(world, submit):
    from indicators.models import Indicator, Scale
    from indicators.selectors import station_map
    from indicators.services import observation_upsert
    from reports.models import Report
    from reports.selectors import report_map
    from traffic.models import Camera, Incident
    from traffic.selectors import camera_map

    scope = Scope(unit=world["unit"])
    assert {r["label"].split(" · ")[0]: r["state"] for r in report_map(scope)} == {
        world["report"].tracking_code: "open",
        world["waiting"].tracking_code: "open",
    }
    Report.objects.filter(pk=world["report"].pk).update(response_due_at=timezone.now() - timedelta(minutes=1))
    urgent, _secret = submit(category="fire")
    states = {r["label"].split(" · ")[0]: (r["state"], r["status"], r["overdue"]) for r in report_map(scope)}
    assert states[world["report"].tracking_code] == ("overdue", "critical", True)
    assert states[urgent.tracking_code] == ("urgent", "warning", False)

    assert [c["state"] for c in camera_map(scope)] == ["incident"]  # the world's accident
    Incident.objects.update(status="resolved")
    assert [c["state"] for c in camera_map(scope)] == ["ok"]
    Camera.objects.update(health=Camera.Health.OFFLINE)
    assert [c["state"] for c in camera_map(scope)] == ["offline"]
    Camera.objects.update(health=Camera.Health.TAMPERED)
    assert [c["state"] for c in camera_map(scope)] == ["incident"]

    assert [s["state"] for s in station_map(scope)] == ["aqi-none"]
    aqi = Indicator.objects.create(code="aqi", subsystem="environment", name="AQI", period="hourly", scale=Scale.VN_AQI)
    observation_upsert(
        indicator=aqi,
        unit=world["unit"],
        station=world["station"],
        period=timezone.now(),
        value=Decimal("77"),
        source="t",
    )
    assert [s["state"] for s in station_map(scope)] == ["aqi-moderate"]
    assert station_map(scope)[0]["status"] == "ok"  # kept for the screens that read it
