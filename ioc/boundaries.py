"""Ward and commune boundaries: read a GeoJSON file or a zipped shapefile, match its features to the
units of a province, clean the geometry for the wall's map and for routing, and load the demo cells.

Everything is checked before anything is written: a file that cannot be read whole changes nothing.
See docs/map.md for the matching rules and how the demo boundaries were made.
"""

import io
import json
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

MAX_FILE_BYTES = 64 * 1024 * 1024  # a province's wards at survey precision fit; simplify a bigger file first
MAX_UNZIPPED_BYTES = 128 * 1024 * 1024  # what a zipped shapefile may unpack to (a small zip can hide gigabytes)
MAX_FEATURES = 5000
MAX_JSON_DEPTH = 64  # GeoJSON needs 6 levels; deeper nesting is a hostile file, not a map
MAX_POINTS = 2000  # per unit: more is simplified until it fits (the wall draws 95 of them at once)
MAX_OUTLINE_POINTS = 4000
PRECISION = 5  # decimals of a degree: about a metre

TERRITORIAL_KINDS = ("ward", "commune", "special_zone", "district")
WARD_KINDS = ("ward", "commune", "special_zone")

# Property names tried in turn when the command is not told which field holds what (lower case).
CODE_FIELDS = ("ma_xa", "maxa", "ma_px", "ma_phuong", "ma_dvhc", "madvhc", "ma", "code", "ward_code", "commune_code")
NAME_FIELDS = ("ten_xa", "tenxa", "ten_px", "ten_phuong", "ten_dvhc", "tendvhc", "ten", "name", "ward_name", "name_vi")

# Prefixes a name may carry, with the kind each tells (townships were abolished in 2025: now communes).
NAME_PREFIXES = (
    ("thị trấn", "commune"),
    ("đặc khu", "special_zone"),
    ("phường", "ward"),
    ("xã", "commune"),
    ("tỉnh", "province"),
    ("thành phố", "province"),
    ("tt.", "commune"),
    ("p.", "ward"),
    ("x.", "commune"),
)

DATA_DIR = Path(__file__).resolve().parent / "data"


class BoundaryFileError(ValueError):
    """The file cannot be used; the message says why, for the person who runs the import."""


# --- names and codes --------------------------------------------------------------------------


def _strip_prefix(text: str) -> tuple[str, str | None]:
    lowered = unicodedata.normalize("NFC", text).strip().lower()
    for prefix, kind in NAME_PREFIXES:
        if lowered.startswith(prefix) and (prefix.endswith(".") or lowered[len(prefix) : len(prefix) + 1].isspace()):
            return lowered[len(prefix) :].strip(), kind
    return lowered, None


def normalise_name(text) -> str:
    """'Phường Long Khánh', 'P. Long Khanh' and 'long  khánh' all give 'long khanh'."""
    name, _kind = _strip_prefix(str(text or ""))
    return _fold(name)


def name_kind(text) -> str | None:
    """The kind a name's prefix tells ('Xã Bàu Hàm' -> commune), or None."""
    return _strip_prefix(str(text or ""))[1]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def normalise_code(value) -> str:
    """'26080', 26080, 26080.0 and '026080' are the same code."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text.upper()


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Feature:
    index: int
    properties: dict
    geometry: dict  # a checked GeoJSON Polygon or MultiPolygon

    def label(self, name_field: str | None = None) -> str:
        name = pick(self.properties, name_field, NAME_FIELDS)
        return f"#{self.index + 1} “{name}”" if name not in (None, "") else f"#{self.index + 1}"


def pick(properties: dict, explicit: str | None, candidates: tuple[str, ...]):
    """The value of `explicit` if given, else of the first candidate field present (any case)."""
    lowered = {str(k).lower(): v for k, v in properties.items()}
    if explicit:
        return lowered.get(explicit.lower())
    for name in candidates:
        if lowered.get(name) not in (None, ""):
            return lowered[name]
    return None


def read_features(path: str | Path, *, encoding: str | None = None) -> tuple[list[Feature], list[str]]:
    """The polygon features of a GeoJSON FeatureCollection or a zipped shapefile, and warnings."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BoundaryFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if size > MAX_FILE_BYTES:
        raise BoundaryFileError(
            f"{path.name} is {size / 1_048_576:.0f} MB; at most {MAX_FILE_BYTES // 1_048_576} MB is read. "
            "Simplify it first (for example `mapshaper in.geojson -simplify 10% -o out.geojson`)."
        )
    if zipfile.is_zipfile(path):
        return _read_shapefile_zip(path, encoding)
    if path.suffix.lower() in (".shp", ".dbf", ".shx"):
        raise BoundaryFileError("Give the shapefile as one .zip holding its .shp, .shx, .dbf (and .prj) files.")
    return _read_geojson(path.read_bytes()), []


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BoundaryFileError(f"The file holds a number too large to be a coordinate ({text[:30]}).")
    return value


def _no_constant(name: str):
    raise BoundaryFileError(f"The file holds {name}, which is not a number GeoJSON allows.")


def _depth(value, limit: int) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _read_geojson(raw: bytes) -> list[Feature]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BoundaryFileError("This is not a GeoJSON file (it is not UTF-8 text).") from None
    try:
        data = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise BoundaryFileError("This is not a GeoJSON file (nested too deeply).") from None
    except json.JSONDecodeError as exc:
        raise BoundaryFileError(f"This is not a GeoJSON file: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryFileError('This is not a GeoJSON FeatureCollection (its top level has no "type": ...).')
    features = data.get("features")
    if not isinstance(features, list):
        raise BoundaryFileError("The FeatureCollection has no list of features.")
    if len(features) > MAX_FEATURES:
        raise BoundaryFileError(f"The file holds {len(features)} features; at most {MAX_FEATURES} are read.")
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BoundaryFileError("This is not a GeoJSON file (nested too deeply).")
    crs = ((data.get("crs") or {}).get("properties") or {}).get("name", "") if isinstance(data.get("crs"), dict) else ""
    if crs and not re.search(r"(CRS84|4326)$", str(crs)):
        raise BoundaryFileError(f"The file is in {crs}; export it in WGS 84 longitude/latitude (EPSG:4326).")
    result = []
    for index, item in enumerate(features):
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise BoundaryFileError(f"Feature #{index + 1} is not a GeoJSON Feature.")
        properties = item.get("properties") or {}
        if not isinstance(properties, dict):
            raise BoundaryFileError(f"Feature #{index + 1} has properties that are not an object.")
        result.append(Feature(index, properties, {}))
        result[-1].geometry = check_geometry(item.get("geometry"), result[-1].label())
    return result


def check_geometry(geometry, label: str) -> dict:
    """A GeoJSON Polygon or MultiPolygon of finite longitude/latitude pairs, 2D, else BoundaryFileError."""
    if not isinstance(geometry, dict):
        raise BoundaryFileError(f"Feature {label} has no geometry.")
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise BoundaryFileError(
            f"Feature {label} is a {kind or 'shape of no type'}; only Polygon and MultiPolygon are boundaries."
        )
    polygons = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list) or not polygons:
        raise BoundaryFileError(f"Feature {label} has no coordinates.")
    clean = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise BoundaryFileError(f"Feature {label} has a polygon without rings.")
        rings = []
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise BoundaryFileError(f"Feature {label} has a ring of fewer than 4 positions.")
            rings.append([_position(point, label) for point in ring])
        clean.append(rings)
    return (
        {"type": "MultiPolygon", "coordinates": clean}
        if kind == "MultiPolygon"
        else {"type": "Polygon", "coordinates": clean[0]}
    )


def _position(point, label: str) -> list[float]:
    if not isinstance(point, list | tuple) or len(point) < 2:
        raise BoundaryFileError(f"Feature {label} has a position that is not [longitude, latitude].")
    lon, lat = point[0], point[1]
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise BoundaryFileError(f"Feature {label} has a coordinate that is not a finite number ({value!r}).")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BoundaryFileError(
            f"Feature {label} has the position ({lon}, {lat}), which is no longitude/latitude: is the file in "
            "another coordinate system (VN-2000, UTM)? Export it in WGS 84 (EPSG:4326)."
        )
    return [float(lon), float(lat)]


def _read_shapefile_zip(path: Path, encoding: str | None) -> tuple[list[Feature], list[str]]:
    import shapefile

    warnings = []
    try:
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise BoundaryFileError(f"This zip cannot be read: {exc}.") from None
    if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise BoundaryFileError(f"This zip unpacks to more than {MAX_UNZIPPED_BYTES // 1_048_576} MB.")
    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        names = ", ".join(m.filename for m in shps) or "none"
        raise BoundaryFileError(f"The zip must hold exactly one .shp file (found: {names}).")
    stem = shps[0].filename[:-4].lower()
    parts = {m.filename[len(stem) :].lower(): m for m in members if m.filename.lower().startswith(stem)}
    if ".dbf" not in parts:
        raise BoundaryFileError("The zip has no .dbf file beside its .shp: the units' codes and names are in it.")
    try:
        blobs = {
            ext: archive.read(member)
            for ext, member in parts.items()
            if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
        }
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:  # RuntimeError: encrypted
        raise BoundaryFileError(f"This zip cannot be read: {exc}.") from None
    prj = blobs.get(".prj", b"").decode("latin-1")
    if "PROJCS" in prj.upper():
        name = re.search(r'PROJCS\["([^"]+)"', prj)
        raise BoundaryFileError(
            f"The shapefile is in a projected coordinate system ({name[1] if name else 'see its .prj'}); "
            "reproject it to WGS 84 longitude/latitude (EPSG:4326) first, e.g. `ogr2ogr -t_srs EPSG:4326`."
        )
    if not prj:
        warnings.append("The shapefile has no .prj: its coordinates are taken as WGS 84 longitude/latitude.")
    elif "WGS" not in prj.upper() and "4326" not in prj:
        warnings.append("The shapefile's .prj names another datum than WGS 84: boundaries may be off by some metres.")
    codepage = encoding or blobs.get(".cpg", b"").decode("ascii", "ignore").strip() or "utf-8"
    try:
        reader = shapefile.Reader(
            shp=io.BytesIO(blobs[".shp"]),
            shx=io.BytesIO(blobs[".shx"]) if ".shx" in blobs else None,
            dbf=io.BytesIO(blobs[".dbf"]),
            encoding=codepage,
        )
        if len(reader) > MAX_FEATURES:
            raise BoundaryFileError(f"The shapefile holds {len(reader)} shapes; at most {MAX_FEATURES} are read.")
        polygon_types = (shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM)
        features = []
        for index, item in enumerate(reader.iterShapeRecords()):
            feature = Feature(index, item.record.as_dict(), {})
            if item.shape.shapeType not in polygon_types:
                kind = shapefile.SHAPETYPE_LOOKUP.get(item.shape.shapeType, item.shape.shapeType)
                raise BoundaryFileError(f"Shape {feature.label()} is a {kind}; only polygons are boundaries.")
            feature.geometry = check_geometry(item.shape.__geo_interface__, feature.label())
            features.append(feature)
    except BoundaryFileError:
        raise
    except (UnicodeDecodeError, LookupError):
        raise BoundaryFileError(
            f"The shapefile's table is not in {codepage}: give its encoding with --encoding (e.g. cp1258)."
        ) from None
    except Exception as exc:  # pyshp raises many kinds on a damaged file; none of them is ours to let through
        raise BoundaryFileError(f"This is not a readable shapefile: {exc}.") from None
    return features, warnings


# --- geometry ---------------------------------------------------------------------------------


def to_shape(geometry: dict):
    """A valid shapely (Multi)Polygon of a checked GeoJSON geometry; BoundaryFileError if nothing is left."""
    import shapely
    from shapely.geometry import shape

    geom = shape(geometry)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = polygonal(geom)
    if geom is None or geom.is_empty or geom.area == 0:
        raise BoundaryFileError("a polygon with no area")
    return geom


def polygonal(geom):
    """The polygons of a shape (a GeometryCollection's lines and points dropped), or None."""
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polygons = [p for part in parts for p in getattr(part, "geoms", [part])]
    return MultiPolygon(polygons) if polygons else None


def point_count(geom) -> int:
    import shapely

    return int(shapely.get_num_coordinates(geom))


def to_geojson(geom, *, max_points: int = MAX_POINTS, precision: int = PRECISION) -> tuple[dict, bool]:
    """GeoJSON of a polygonal shape: simplified under `max_points`, snapped to `precision` decimals,
    exterior rings counter-clockwise (RFC 7946). Returns (geometry, simplified)."""
    import shapely
    from shapely.geometry import mapping

    simplified = False
    tolerance = 10**-precision
    while point_count(geom) > max_points and tolerance < 0.05:
        candidate = polygonal(shapely.make_valid(geom.simplify(tolerance, preserve_topology=True)))
        if candidate is not None and not candidate.is_empty:
            geom, simplified = candidate, True
        tolerance *= 2
    snapped = polygonal(shapely.set_precision(geom, 10**-precision))
    if snapped is not None and not snapped.is_empty:
        geom = snapped
    geom = shapely.orient_polygons(geom) if hasattr(shapely, "orient_polygons") else geom
    return _rounded(mapping(geom), precision), simplified


def _rounded(geometry: dict, precision: int) -> dict:
    def ring(points):
        return [[round(x, precision), round(y, precision)] for x, y, *_z in points]

    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in geometry["coordinates"]]}
    return {"type": "MultiPolygon", "coordinates": [[ring(r) for r in p] for p in geometry["coordinates"]]}


def outside_service_area(geom) -> bool:
    min_lat, min_lon, max_lat, max_lon = settings.IOC_SERVICE_AREA
    west, south, east, north = geom.bounds
    return south < min_lat or north > max_lat or west < min_lon or east > max_lon


# --- matching ---------------------------------------------------------------------------------


@dataclass
class Match:
    """What became of the file: the geometry chosen for each unit and the features left over."""

    shapes: dict = field(default_factory=dict)  # unit code -> shapely geometry
    by_code: int = 0
    by_name: int = 0
    merged: list[str] = field(default_factory=list)  # unit codes drawn from more than one feature
    unmatched: list[tuple[Feature, str]] = field(default_factory=list)  # (feature, why)

    @property
    def matched(self) -> int:
        return self.by_code + self.by_name


def match_features(features: list[Feature], units, *, code_field=None, name_field=None) -> Match:
    """Each feature to a unit by its code, else by its name (see normalise_name); ambiguity is reported."""
    by_code = {normalise_code(u.code): u for u in units}
    by_name: dict[str, list] = {}
    for unit in units:
        by_name.setdefault(normalise_name(unit.name), []).append(unit)
    result = Match()
    found: dict[str, list] = {}
    for feature in features:
        code = pick(feature.properties, code_field, CODE_FIELDS)
        name = pick(feature.properties, name_field, NAME_FIELDS)
        unit = by_code.get(normalise_code(code)) if code not in (None, "") else None
        why = ""
        if unit is not None:
            result.by_code += 1
        elif name not in (None, ""):
            candidates = by_name.get(normalise_name(name), [])
            kind = name_kind(name)
            if len(candidates) > 1 and kind:
                candidates = [u for u in candidates if u.kind == kind] or candidates
            if len(candidates) == 1:
                unit = candidates[0]
                result.by_name += 1
            elif candidates:
                why = f"its name fits {len(candidates)} units ({', '.join(u.code for u in candidates)})"
            else:
                why = "no unit has this code or name" if code not in (None, "") else "no unit has this name"
        else:
            why = "it has no code or name the command can read"
        if unit is None:
            result.unmatched.append((feature, why))
            continue
        try:
            found.setdefault(unit.code, []).append(to_shape(feature.geometry))
        except BoundaryFileError as exc:
            raise BoundaryFileError(f"Feature {feature.label(name_field)} is {exc}.") from None
    from shapely import union_all

    for code, shapes in found.items():
        result.shapes[code] = shapes[0] if len(shapes) == 1 else polygonal(union_all(shapes))
        if len(shapes) > 1:
            result.merged.append(code)
    return result


# --- the demo cells ---------------------------------------------------------------------------


def demo_file(province: str) -> Path:
    return DATA_DIR / f"boundaries_{province}_demo.geojson"


def load_demo_boundaries(province: str) -> int:
    """Give the units of `province` that have no boundary the shipped approximate demo cell (and a
    centre where they have none). Returns how many boundaries were set; 0 when there is no demo file."""
    from ioc.models import BoundarySource, Unit
    from ioc.scope import Scope

    path = demo_file(province)
    root = Unit.objects.filter(code=province).first()
    if not path.exists() or root is None:
        return 0
    features = {f["properties"]["code"]: f for f in json.loads(path.read_text(encoding="utf-8"))["features"]}
    from ioc import geo

    changed, drawn = [], 0
    for unit in Scope(unit=root).units().filter(code__in=list(features)):
        feature = features[unit.code]
        touched = False
        if unit.boundary is None:
            unit.boundary = feature["geometry"]
            unit.bbox = geo.bbox_of(unit.boundary)
            unit.boundary_source = BoundarySource.APPROXIMATE
            touched, drawn = True, drawn + 1
        centre = feature["properties"].get("centre")
        if centre and unit.latitude is None:
            unit.latitude, unit.longitude = centre
            touched = True
        if touched:
            changed.append(unit)
    Unit.objects.bulk_update(changed, ["boundary", "bbox", "boundary_source", "latitude", "longitude"])
    return drawn
