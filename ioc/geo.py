"""Small geography without GIS: distances, the service area, point in polygon, unit lookup."""

import copy
import math

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ioc.errors import ValidationError
from ioc.models import Unit

EARTH_RADIUS_M = 6_371_000
TERRITORIAL_KINDS = ("ward", "commune", "special_zone", "district")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def box_around(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) containing the circle, for an indexed prefilter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 0.01)))
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def check_in_service_area(lat, lon) -> None:
    """Refuse coordinates that are missing a half, out of range, or outside the service area."""
    if (lat is None) != (lon is None):
        raise ValidationError({"location": _("Give both latitude and longitude, or neither.")})
    if lat is None:
        return
    min_lat, min_lon, max_lat, max_lon = settings.IOC_SERVICE_AREA
    if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
        message = _("This location is outside the area this center serves.")
        area = service_area_name()
        if area:  # which area, so a citizen who is just across the border knows where to turn
            message += " " + _("It serves %(area)s.") % {"area": area}
        raise ValidationError({"location": message})


def service_area_name() -> str:
    """The name of the area served: the root unit's (the province), in the page's language; empty
    when there is no single root."""
    roots = list(Unit.objects.filter(parent__isnull=True).only("name", "name_en")[:2])
    if len(roots) != 1:
        return ""
    root = roots[0]
    return root.name_en if (get_language() or "").startswith("en") and root.name_en else root.name


def _rings(geometry: dict) -> list[list[list[list[float]]]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError("a boundary must be a GeoJSON Polygon or MultiPolygon")


def _in_ring(lat: float, lon: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(geometry: dict, lat: float, lon: float) -> bool:
    """Point in a GeoJSON (Multi)Polygon, holes respected."""
    for polygon in _rings(geometry):
        if polygon and _in_ring(lat, lon, polygon[0]) and not any(_in_ring(lat, lon, hole) for hole in polygon[1:]):
            return True
    return False


def bbox_of(geometry: dict) -> list[float]:
    points = [pt for polygon in _rings(geometry) for ring in polygon for pt in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return [min(lats), min(lons), max(lats), max(lons)]


# Unit boundaries as prepared shapes, per process, each under the row version it was read at
# (PostgreSQL's xmin and ctid: every UPDATE writes a new version at a new place, even within one
# transaction): any change to the unit's row reads it again. Locating a report's unit is then one
# small indexed query instead of decoding GeoJSON on every submission.
_shapes: dict[int, tuple[str, object, Unit]] = {}


def _shape(pk: int, version: str) -> tuple[object, Unit]:
    known = _shapes.get(pk)
    if known is None or known[0] != version:
        import shapely
        from shapely.geometry import shape

        geometry = shape(Unit.objects.values_list("boundary", flat=True).get(pk=pk))
        shapely.prepare(geometry)
        known = (version, geometry, Unit.objects.defer("boundary", "bbox").get(pk=pk))
        _shapes[pk] = known
    return known[1], known[2]


# The units whose box holds a point, smallest first; where a surveyed boundary and an approximate
# demo cell overlap, the surveyed one decides. Plain SQL: it runs on every submission, and building
# it through the ORM cost more than the rest of the lookup.
_CANDIDATES = (
    'SELECT id, xmin::text || ctid::text FROM "ioc_unit" WHERE kind = ANY(%s) AND boundary IS NOT NULL '
    "AND bbox[1] <= %s AND bbox[2] <= %s AND bbox[3] >= %s AND bbox[4] >= %s "
    "ORDER BY depth DESC, boundary_source = %s, id"
)


def locate_unit(lat: float, lon: float, *, chosen=None):
    """The commune/ward for a point: its boundary where loaded, else the chosen unit, else the nearest centre."""
    import shapely
    from django.db import connection

    from ioc.models import BoundarySource

    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES, [list(TERRITORIAL_KINDS), lat, lon, lat, lon, BoundarySource.APPROXIMATE.value])
        candidates = cursor.fetchall()
    point = shapely.Point(lon, lat)
    for pk, version in candidates:
        geometry, unit = _shape(pk, version)
        if geometry.covers(point):
            return copy.copy(unit)  # callers may set attributes on it; the cached one stays as read
    if chosen is not None:
        return chosen
    centres = Unit.objects.filter(kind__in=TERRITORIAL_KINDS, latitude__isnull=False, longitude__isnull=False).only(
        "id", "code", "name", "path", "latitude", "longitude"
    )
    return min(centres, key=lambda u: distance_m(lat, lon, u.latitude, u.longitude), default=None)
