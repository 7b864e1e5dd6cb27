"""Draw the demo boundaries of a province: Voronoi cells of its unit centres, clipped to an outline.

The shipped ioc/data/boundaries_75_demo.geojson was made with `manage.py make_demo_boundaries
--province 75`. The cells are approximate by construction (each holds the points nearer its centre
than any other), the outline is a buffered concave hull of the centres, not the surveyed border;
docs/map.md says so, and how to replace them with a real file.
"""

import json
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ioc.boundaries import DATA_DIR, WARD_KINDS, demo_file, polygonal, to_geojson
from ioc.units import units_from_data_file

HULL_RATIO = 0.22  # shapely's concave_hull: 0 hugs the points, 1 is the convex hull
MARGIN = 0.055  # degrees (about 6 km) around the outermost centres
OUTLINE_POINTS = (40, 80)
PRECISION = 4  # decimals: about 11 m, plenty for a drawn cell, and a small file


def _squeeze(lat0: float) -> float:
    # Cells are drawn on a plane where a degree of longitude is as long as on the ground at `lat0`,
    # so "nearest centre" means the same as the haversine distance the routing fallback uses.
    return math.cos(math.radians(lat0))


def make(province: str) -> dict:
    import shapely
    from shapely import affinity
    from shapely.geometry import MultiPoint, Point

    rows = [r for r in units_from_data_file(province) if r["kind"] in WARD_KINDS]
    centres = json.loads((DATA_DIR / f"centres_{province}.json").read_text(encoding="utf-8"))["centres"]
    missing = [r["code"] for r in rows if r["code"] not in centres]
    if missing:
        raise CommandError(f"No centre for {', '.join(missing)} in centres_{province}.json.")
    lat0 = sum(centres[r["code"]][0] for r in rows) / len(rows)
    k = _squeeze(lat0)
    points = {r["code"]: Point(centres[r["code"]][1] * k, centres[r["code"]][0]) for r in rows}
    everything = MultiPoint(list(points.values()))
    outline = shapely.concave_hull(everything, ratio=HULL_RATIO).buffer(MARGIN, quad_segs=4)
    tolerance = 0.002
    while shapely.get_num_coordinates(outline) - 1 > OUTLINE_POINTS[1]:
        outline = outline.simplify(tolerance, preserve_topology=True)
        tolerance *= 1.3
    if shapely.get_num_coordinates(outline) - 1 < OUTLINE_POINTS[0]:
        raise CommandError("The outline came out with too few points; lower the simplification.")
    cells = shapely.voronoi_polygons(everything, extend_to=outline.buffer(1.0))
    shapes = {}
    for code, point in points.items():
        cell = next(c for c in cells.geoms if c.contains(point))
        shapes[code] = polygonal(cell.intersection(outline))
        if not shapes[code].contains(point):
            raise CommandError(f"The centre of {code} fell outside its cell: is it outside the outline?")

    def back(geom):
        return affinity.scale(geom, xfact=1 / k, yfact=1.0, origin=(0, 0))

    features = []
    province_row = next(r for r in units_from_data_file(province) if r["code"] == province)
    geometry, _s = to_geojson(back(outline), max_points=10_000, precision=PRECISION)
    features.append(_feature(province_row, geometry, centres.get(province)))
    for row in rows:
        geometry, _s = to_geojson(back(shapes[row["code"]]), max_points=10_000, precision=PRECISION)
        features.append(_feature(row, geometry, centres[row["code"]]))
    return {
        "type": "FeatureCollection",
        "name": f"boundaries_{province}_demo",
        "description": (
            "APPROXIMATE demo boundaries, not surveyed: each commune or ward is the Voronoi cell of its "
            f"approximate centre (centres_{province}.json), clipped to an outline that is a buffered concave "
            "hull of the centres. Made by `manage.py make_demo_boundaries`; see docs/map.md."
        ),
        "features": features,
    }


def _feature(row: dict, geometry: dict, centre) -> dict:
    properties = {"code": row["code"], "name": row["name"], "kind": row["kind"], "source": "approximate"}
    if centre:
        properties["centre"] = centre
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def dump(collection: dict) -> str:
    """One feature a line: a small file that still reads, and diffs, by unit."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    body = json.dumps(head, ensure_ascii=False)[:-1]
    return body + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"


class Command(BaseCommand):
    help = "Draw approximate demo boundaries (Voronoi cells of the unit centres) into ioc/data (docs/map.md)."

    def add_arguments(self, parser):
        parser.add_argument("--province", default="75")
        parser.add_argument("--output", help="where to write (default: ioc/data/boundaries_<province>_demo.geojson)")

    def handle(self, *args, province, output, **options):
        try:
            collection = make(province)
        except FileNotFoundError as exc:
            raise CommandError(f"Missing data file: {exc}") from None
        path = Path(output) if output else demo_file(province)
        path.write_text(dump(collection), encoding="utf-8")
        points = sum(len(r) for f in collection["features"] for r in _rings(f["geometry"]))
        self.stdout.write(
            f"Wrote {path}: {len(collection['features'])} features, {points} points, {path.stat().st_size // 1024} KB."
        )


def _rings(geometry: dict) -> list:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]
