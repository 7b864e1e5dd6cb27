"""The subsystem registry.

Each app registers the subsystems it owns in its AppConfig.ready(). The wall, the snapshot
API and the console iterate the registry, so adding a subsystem touches no core code.

A snapshot provider takes a Scope and returns the panel's figures for that scope, cheaply:
    {"kpis": [{"code": str, "label": str, "value": number | None, "unit": str,
               "status": "ok" | "warning" | "critical" | None}, ...], ...}
or None when the subsystem holds no data yet (the wall says so rather than show zeros).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import get_language

from ioc.scope import Scope

SnapshotProvider = Callable[[Scope], dict | None]
# A briefing provider takes a Scope and a Window (ioc.briefings) and returns the subsystem's section of
# a briefing, computed by the same selectors as the wall (shape in ioc.briefings), or None without data.
BriefingProvider = Callable[[Scope, object], dict | None]


@dataclass(frozen=True)
class Subsystem:
    code: str
    name_vi: str
    name_en: str
    order: int
    app: str
    icon: str = ""
    snapshot: SnapshotProvider = field(default=lambda scope: None, compare=False)
    panels: tuple[str, ...] = ("summary",)
    # Optional URL of map points for the wall: [{"latitude", "longitude", "label", "status"}, ...]
    map_layer: str = ""
    briefing: BriefingProvider | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name_vi

    @property
    def enabled(self) -> bool:
        return self.code not in settings.IOC_SUBSYSTEMS_DISABLED


_registry: dict[str, Subsystem] = {}

# Subsystems kept as data (e.g. the indicator subsystems an administrator adds) come from sources,
# re-read at most every DYNAMIC_TTL seconds or when invalidate() is called after a change.
_sources: list[Callable[[], list[Subsystem]]] = []
_dynamic: dict = {"at": None, "items": {}}
DYNAMIC_TTL = 30.0


def add_source(source: Callable[[], list[Subsystem]]) -> None:
    _sources.append(source)
    invalidate()


def invalidate() -> None:
    _dynamic["at"] = None


def _all() -> dict[str, Subsystem]:
    now = time.monotonic()
    if _sources and (_dynamic["at"] is None or now - _dynamic["at"] > DYNAMIC_TTL):
        items = {s.code: s for source in _sources for s in source()}
        _dynamic.update(at=now, items=items)
    return {**_dynamic["items"], **_registry}  # a subsystem registered in code wins


def register(subsystem: Subsystem) -> None:
    existing = _registry.get(subsystem.code)
    if existing is not None and existing.app != subsystem.app:
        raise ValueError(f"subsystem {subsystem.code!r} is already registered by {existing.app}")
    _registry[subsystem.code] = subsystem


# --- choropleth layers of the wall's map -------------------------------------------------------
#
# An app colours the wards and communes by one of its figures: in ready(),
#   registry.register_choropleth(Choropleth(code="overdue", label=_("Overdue reports"), unit="",
#       bands=(Band("0", _("None"), "#...", upto=0), ...), values=overdue_by_area, subsystem="reports"))
# `values(scope, areas)` returns {unit code: number or None} for the units on the map, in one or two
# queries: `areas.codes_for(path)` names the drawn units a row's unit counts for (its ward and the
# province around it), so a report in a sub-unit counts for its ward. GET /api/v1/map/units/ serves
# them (ioc.maps); docs/map.md describes each layer.

# A sequential scale for "more is worse", darkest first: lightness rises with each step, so it reads
# in grey and to colour-blind eyes, and the worst wards are the brightest on the dark wall (plasma).
SEQUENTIAL = ("#3b0f8c", "#a2308f", "#ec6b54", "#fbd524")
NO_DATA_COLOR = "#4a5566"


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    color: str
    upto: float | None = None  # the band holds values up to this one, included; None: all above


@dataclass(frozen=True)
class Choropleth:
    code: str
    label: str
    unit: str
    bands: tuple[Band, ...]
    values: Callable  # (Scope, ioc.maps.Areas) -> {unit code: number | None}
    band: Callable[[float], str] | None = None  # value -> band code; by default the first band whose `upto` holds it
    subsystem: str = ""  # the layer is left out while this subsystem is disabled or unknown
    app: str = ""
    order: int = 50

    def band_of(self, value) -> str:
        if value is None:
            return NO_DATA
        if self.band is not None:
            return self.band(value)
        for band in self.bands:
            if band.upto is None or value <= band.upto:
                return band.code
        return self.bands[-1].code


NO_DATA = "no_data"  # the band of a unit without a value (no station, no dossier handled)
_choropleths: dict[str, Choropleth] = {}


def register_choropleth(layer: Choropleth) -> None:
    existing = _choropleths.get(layer.code)
    if existing is not None and existing.app != layer.app:
        raise ValueError(f"choropleth {layer.code!r} is already registered by {existing.app}")
    if NO_DATA in {band.code for band in layer.bands}:
        raise ValueError(f"band code {NO_DATA!r} is the map's own")
    _choropleths[layer.code] = layer


def choropleths() -> list[Choropleth]:
    """The layers whose subsystem is enabled, in order."""
    shown = [c for c in _choropleths.values() if not c.subsystem or ((s := get(c.subsystem)) and s.enabled)]
    return sorted(shown, key=lambda c: (c.order, c.code))


# --- what the apps contribute ------------------------------------------------------------------
#
# Each app declares on its AppConfig what the project wires in, so that a new app touches no core file:
#   urls = (("api/v1/reports/", "reports.api.urls"), ...)          URL modules mounted at a prefix
#   periodic_tasks = {"reports-deadline-sweep": {"task": ..., "schedule": 60.0}}   Celery beat entries
#   nav = (NavEntry("workspace", _("Workspace"), roles=(...)), ...) staff navigation, per role
#   outbox_sweeps = ("reports.tasks.thumbnail_sweep",)              run when a worker (re)connects


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str
    roles: tuple[str, ...]
    order: int = 50
    active: str = ""  # the `active` a page passes to highlight this entry
    home_for: tuple[str, ...] = ()  # roles that land on this screen after signing in


def contributions(attribute: str) -> list:
    """Every app's `attribute` (a sequence), in INSTALLED_APPS order."""
    from django.apps import apps

    return [item for config in apps.get_app_configs() for item in getattr(config, attribute, ())]


def beat_schedule() -> dict:
    from django.apps import apps

    schedule = {}
    for config in apps.get_app_configs():
        schedule.update(getattr(config, "periodic_tasks", {}))
    return schedule


def nav_for(user) -> list[NavEntry]:
    from ioc.roles import has_role

    entries = [entry for entry in contributions("nav") if has_role(user, *entry.roles)]
    return sorted(entries, key=lambda entry: entry.order)


def get(code: str) -> Subsystem | None:
    return _all().get(code)


def enabled() -> list[Subsystem]:
    return sorted((s for s in _all().values() if s.enabled), key=lambda s: (s.order, s.code))


def codes() -> set[str]:
    return set(_all())


# --- data at scale -------------------------------------------------------------------------------
#
# `manage.py bench_data` fills the tables with a year of a province's data (docs/scale.md). Each app
# hands it a generator in ready():
#   registry.register_scale_generator(ScaleGenerator("reports", "reports", 1_000_000, generate, tables))
# `generate(run: ioc.scale.Run)` writes `run.count` rows (and the rows that go with them) by COPY;
# `tables()` names the models `--reset` empties and that are analysed afterwards; `refresh()`, if any,
# rebuilds the app's roll-ups once every generator has run.


@dataclass(frozen=True)
class ScaleGenerator:
    code: str
    option: str  # the command's option: --reports N
    default: int
    generate: Callable
    tables: Callable[[], list]
    help: str = ""
    refresh: Callable[[], None] | None = None
    app: str = ""
    order: int = 50


_scale_generators: dict[str, ScaleGenerator] = {}


def register_scale_generator(generator: ScaleGenerator) -> None:
    existing = _scale_generators.get(generator.code)
    if existing is not None and existing.app != generator.app:
        raise ValueError(f"scale generator {generator.code!r} is already registered by {existing.app}")
    _scale_generators[generator.code] = generator


def scale_generators() -> list[ScaleGenerator]:
    return sorted(_scale_generators.values(), key=lambda g: (g.order, g.code))
