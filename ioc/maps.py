"""The wall's vector map: the units in a scope with their boundaries, coloured by the apps' layers.

The base map is the project's own data (Unit.boundary), so the wall draws it on a closed network;
each app adds choropleth layers through the registry (ioc.registry.Choropleth). docs/map.md.
"""

from ioc import registry
from ioc.models import BoundarySource, Unit
from ioc.scope import Scope

MAP_KINDS = ("province", "district", "ward", "commune", "special_zone")  # departments have no territory


class Areas:
    """The units drawn on a map, found by path: which of them a row's unit counts for."""

    def __init__(self, units):
        self._by_path = {unit.path: unit.code for unit in units}

    def codes(self) -> list[str]:
        return list(self._by_path.values())

    def codes_for(self, path: str | None) -> list[str]:
        """Every drawn unit whose subtree holds the unit at `path`: its ward, the province around it."""
        if not path:
            return []
        found, prefix = [], "/"
        for code in path.strip("/").split("/"):
            prefix += code + "/"
            if prefix in self._by_path:
                found.append(self._by_path[prefix])
        return found

    def total(self, rows, *, empty=0) -> dict[str, float]:
        """{code: sum of the values of the rows (path, value) in it}; `empty` where there are none."""
        totals = dict.fromkeys(self._by_path.values(), empty)
        for path, value in rows:
            for code in self.codes_for(path):
                totals[code] = (totals[code] or 0) + value
        return totals

    def highest(self, rows) -> dict[str, float | None]:
        """{code: the highest value of the rows (path, value) in it}; None where there are none."""
        highest: dict[str, float | None] = dict.fromkeys(self._by_path.values())
        for path, value in rows:
            if value is None:
                continue
            for code in self.codes_for(path):
                if highest[code] is None or value > highest[code]:
                    highest[code] = value
        return highest


def _bounds(units: list[Unit], scope: Scope):
    """[[south, west], [north, east]] of the drawn units; of the scope's centres when none is drawn."""
    boxes = [u.bbox for u in units if u.bbox]
    if boxes:
        return [
            [min(b[0] for b in boxes), min(b[1] for b in boxes)],
            [max(b[2] for b in boxes), max(b[3] for b in boxes)],
        ]
    centres = list(
        scope.units()
        .filter(kind__in=MAP_KINDS, latitude__isnull=False, longitude__isnull=False)
        .values_list("latitude", "longitude")
    )
    if not centres:
        return None
    lats, lons = [c[0] for c in centres], [c[1] for c in centres]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _layer(layer: registry.Choropleth) -> dict:
    bands = [{"code": b.code, "label": str(b.label), "color": b.color} for b in layer.bands]
    bands.append({"code": registry.NO_DATA, "label": str(_no_data_label()), "color": registry.NO_DATA_COLOR})
    return {"code": layer.code, "label": str(layer.label), "unit": str(layer.unit), "bands": bands}


def _no_data_label():
    from django.utils.translation import gettext

    return gettext("No data")


def _value(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(float(value), 1)


def map_units(scope: Scope) -> dict:
    """A GeoJSON FeatureCollection of the units in `scope` that have a boundary, with each layer's value."""
    units = list(
        scope.units()
        .filter(kind__in=MAP_KINDS, boundary__isnull=False)
        .only("code", "name", "kind", "path", "boundary", "bbox", "boundary_source")
        .order_by("depth", "code")
    )
    layers = registry.choropleths()
    areas = Areas(units)
    values = {layer.code: layer.values(scope, areas) if units else {} for layer in layers}
    features = []
    for unit in units:
        properties = {
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "approximate": unit.boundary_source == BoundarySource.APPROXIMATE,
            "values": {},
        }
        for layer in layers:
            value = _value(values[layer.code].get(unit.code))
            properties["values"][layer.code] = {"value": value, "band": layer.band_of(value)}
        features.append({"type": "Feature", "id": unit.code, "geometry": unit.boundary, "properties": properties})
    return {
        "type": "FeatureCollection",
        "bounds": _bounds(units, scope),
        "approximate": any(f["properties"]["approximate"] for f in features),
        "layers": [_layer(layer) for layer in layers],
        "features": features,
    }
