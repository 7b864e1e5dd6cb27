"""Reads of the indicator subsystems: scoped querysets, series for sparklines, and the wall figures.

A scope's figure for an indicator comes from the highest units in the scope that report it: the
province's own budget revenue when the province reports it, else its wards' figures rolled up
(sum, average, maximum or minimum, as the indicator says).
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import Avg, Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from indicators import periods
from indicators.models import Indicator, IndicatorTarget, Observation, Period, Rollup, Scale, Station
from ioc import charts
from ioc.scope import Scope

SPARK_POINTS = {
    Period.HOURLY: 24,
    Period.DAILY: 30,
    Period.MONTHLY: 12,
    Period.QUARTERLY: 8,
    Period.YEARLY: 6,
}

# VN_AQI bands, Decision 1459/QĐ-TCMT (2019): upper bound, code, Vietnamese, English, colour.
VN_AQI_BANDS = [
    (50, "good", "Tốt", "Good", "#00e400"),
    (100, "moderate", "Trung bình", "Moderate", "#ffff00"),
    (150, "usg", "Kém", "Unhealthy for sensitive groups", "#ff7e00"),
    (200, "unhealthy", "Xấu", "Unhealthy", "#ff0000"),
    (300, "very_unhealthy", "Rất xấu", "Very unhealthy", "#8f3f97"),
    (None, "hazardous", "Nguy hại", "Hazardous", "#7e0023"),
]
AQI_BAND_STATUS = {
    "good": "ok",
    "moderate": "ok",
    "usg": "warning",
    "unhealthy": "warning",
    "very_unhealthy": "critical",
    "hazardous": "critical",
}


def aqi_band(value) -> dict | None:
    """The VN_AQI band of an index value (0-50 good ... 301+ hazardous)."""
    if value is None:
        return None
    value = round(float(value))
    for upper, code, name_vi, name_en, colour in VN_AQI_BANDS:
        if upper is None or value <= upper:
            english = (get_language() or "vi").startswith("en")
            return {"code": code, "label": name_en if english else name_vi, "color": colour}
    return None


def indicators_visible():
    """Definitions are not secret: every signed-in caller may read them."""
    return Indicator.objects.filter(active=True)


def observations_visible_to(scope: Scope):
    return scope.filter(Observation.objects.select_related("indicator", "unit", "station"), "unit")


def stations_visible_to(scope: Scope):
    return scope.filter(Station.objects.filter(active=True).select_related("unit"), "unit")


def _cutoff(indicator: Indicator, now, points: int):
    return periods.step_back(indicator.period, periods.period_start(indicator.period, now), points - 1)


def series_map(indicators: list[Indicator], scope: Scope, points: int | None = None, now=None) -> dict[int, list]:
    """{indicator id: [(period start, value, worst status), ...] oldest first} for the scope's last periods.

    One query for all indicators: rows grouped by indicator, unit depth and period; per indicator only
    the shallowest depth that reports is kept, and the indicator's roll-up combines its units. The status
    is the worst of the units behind the figure (a province's dengue total is red if one ward is).
    """
    if not indicators:
        return {}
    now = now or timezone.now()
    window = Q()
    for indicator in indicators:
        count = points or SPARK_POINTS[indicator.period]
        # Both bounds keep the query on the monthly partitions of the window (docs/partitions.md).
        window |= Q(indicator=indicator, period_start__gte=_cutoff(indicator, now, count), period_start__lt=now)
    rows = (
        scope.filter(Observation.objects.filter(window), "unit")
        .values("indicator_id", "unit__depth", "period_start")
        .annotate(
            total=Sum("value"),
            mean=Avg("value"),
            high=Max("value"),
            low=Min("value"),
            critical=Count("id", filter=Q(status=Observation.Status.CRITICAL)),
            warning=Count("id", filter=Q(status=Observation.Status.WARNING)),
        )
        .order_by("indicator_id", "unit__depth", "period_start")
    )
    by_indicator = {i.pk: i for i in indicators}
    picked: dict[int, int] = {}
    result: dict[int, list] = defaultdict(list)
    field = {Rollup.SUM: "total", Rollup.AVG: "mean", Rollup.MAX: "high", Rollup.MIN: "low"}
    for row in rows:
        indicator = by_indicator[row["indicator_id"]]
        depth = picked.setdefault(indicator.pk, row["unit__depth"])
        if row["unit__depth"] != depth:
            continue
        worst = "critical" if row["critical"] else "warning" if row["warning"] else "ok"
        result[indicator.pk].append((row["period_start"], row[field[indicator.rollup]], worst))
    return result


def series(indicator: Indicator, scope: Scope, points: int | None = None) -> list[dict]:
    """One indicator's last periods in the scope, for a sparkline."""
    return [
        {"period_start": start.isoformat(), "label": periods.label(indicator.period, start), "value": _float(value)}
        for start, value, _status in series_map([indicator], scope, points).get(indicator.pk, [])
    ]


def _float(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _progress(indicators: list[Indicator], scope: Scope, now=None) -> dict[int, dict]:
    """Progress to this year's target: the year's sum (or its latest value) against the plan, by `now`."""
    now = now or timezone.now()
    year = timezone.localtime(now).year
    if scope.is_empty:
        return {}
    targets = {}
    for target in IndicatorTarget.objects.filter(indicator__in=indicators, year=year).select_related("unit"):
        # The plan of the scope's own unit; for the whole deployment, the plans of its top units.
        if (target.unit.depth == 0) if scope.everything else (target.unit_id == scope.unit.pk):
            targets.setdefault(target.indicator_id, target)
    progress = {}
    for indicator_id, target in targets.items():
        indicator = next(i for i in indicators if i.pk == indicator_id)
        start = periods.period_start(Period.YEARLY, now)
        rows = Observation.objects.filter(
            indicator=indicator, unit=target.unit, station__isnull=True, period_start__gte=start, period_start__lt=now
        )
        if indicator.accumulates:
            done = rows.aggregate(total=Sum("value"))["total"]
        else:
            done = rows.order_by("-period_start").values_list("value", flat=True).first()
        if done is None or not target.value:
            continue
        share = Decimal(done) / target.value * 100
        expected = (timezone.localtime(now).timetuple().tm_yday / 365 * 100) if indicator.accumulates else 100
        progress[indicator_id] = {
            "done": _float(done),
            "target": _float(target.value),
            "percent": _float(share),
            "expected_percent": round(expected, 1),
        }
    return progress


def _has_thresholds(indicator: Indicator) -> bool:
    return indicator.warning_threshold is not None or indicator.critical_threshold is not None


def _kpi(indicator: Indicator, points: list, progress: dict | None) -> dict:
    value = points[-1][1] if points else None
    previous = points[-2][1] if len(points) > 1 else None
    change = None if value is None or previous is None else value - previous
    kpi = {
        "code": indicator.code,
        "label": indicator.label,
        "value": _float(value),
        "unit": indicator.unit_of_measure,
        "status": points[-1][2] if points and _has_thresholds(indicator) else None,
        "period": periods.label(indicator.period, points[-1][0]) if points else None,
        "spark": [_float(v) for _s, v, _st in points],
        "change": _float(change),
        "change_percent": _float(change / previous * 100) if change is not None and previous else None,
        "direction": indicator.direction,
    }
    if change is not None and change != 0:
        better = (change > 0) == (indicator.direction == "higher")
        kpi["trend"] = "better" if better else "worse"
    if indicator.scale == Scale.VN_AQI and value is not None:
        kpi["band"] = aqi_band(value)
        kpi["status"] = AQI_BAND_STATUS[kpi["band"]["code"]]
    if progress:
        kpi["target"] = progress
    return kpi


def subsystem_figures(subsystem: str, scope: Scope) -> dict | None:
    """The wall panel of one indicator subsystem: key figures with sparklines, change, status, progress."""
    indicators = list(Indicator.objects.filter(subsystem=subsystem, active=True, on_wall=True))
    data = series_map(indicators, scope)
    shown = [i for i in indicators if data.get(i.pk)]
    if not shown:
        return None
    progress = _progress(shown, scope)
    kpis = [_kpi(i, data[i.pk], progress.get(i.pk)) for i in shown]
    lists = []
    if progress:
        lists.append(
            {
                "code": "progress",
                "label": _("Progress to this year's target"),
                "rows": [
                    {"key": k["code"], "label": k["label"], "value": k["target"]["percent"], "unit": "%"}
                    for k in kpis
                    if "target" in k
                ],
            }
        )
    if subsystem == "environment":
        stations = station_map(scope)
        lists.append(
            {
                "code": "stations",
                "label": _("Monitoring stations"),
                "rows": [
                    _station_row(s) for s in sorted(stations, key=lambda s: -(s["aqi"]["value"] if s["aqi"] else -1))
                ],
            }
        )
        return {"kpis": kpis, "lists": lists, "stations": stations, "aqi_bands": aqi_bands()}
    return {"kpis": kpis, "lists": lists}


def _station_row(station: dict) -> dict:
    """A station's headline on the wall: its AQI and band, else its first reading."""
    row = {"key": station["code"], "label": station["name"], "value": None, "unit": ""}
    if station["aqi"]:
        row.update(value=station["aqi"]["value"], unit=f"AQI · {station['aqi']['band']['label']}")
        row["status"] = AQI_BAND_STATUS[station["aqi"]["band"]["code"]]
    elif station["readings"]:
        reading = station["readings"][0]
        row.update(value=reading["value"], unit=reading["unit"], status=reading["status"])
    return row


def aqi_bands() -> list[dict]:
    low = 0
    bands = []
    for upper, code, _vi, _en, colour in VN_AQI_BANDS:
        band = aqi_band(low)
        bands.append({"code": code, "from": low, "to": upper, "label": band["label"], "color": colour})
        low = (upper or 0) + 1
    return bands


STATUS_RANK = {"ok": 0, "warning": 1, "critical": 2}
# On the wall map a ward shows the AQI of its stations' latest readings of this many hours; an older
# reading is no news of the air now, and the ward shows "no data".
AQI_MAP_HOURS = 48
NO_AQI = "aqi-none"  # a station's map state without an AQI reading


def aqi_by_area(scope: Scope, areas) -> dict[str, float | None]:
    """The wall map's "aqi" layer: the highest latest VN_AQI of the active stations in each unit (one query)."""
    since = timezone.now() - timedelta(hours=AQI_MAP_HOURS)
    latest = (
        scope.filter(Observation.objects.all(), "station__unit")
        .filter(indicator__scale=Scale.VN_AQI, station__active=True, period_start__gte=since)
        .order_by("station_id", "-period_start")
        .distinct("station_id")
        .values_list("station__unit__path", "value")
    )
    return areas.highest((path, round(float(value))) for path, value in latest if value is not None)


STATION_MAP_DAYS = 31


def station_map(scope: Scope) -> list[dict]:
    """Stations in scope with their position and latest value of each indicator (AQI with its band)."""
    stations = list(stations_visible_to(scope))
    if not stations:
        return []
    # A reading older than STATION_MAP_DAYS is no station's current value; the bound also keeps the
    # query on the recent monthly partitions (docs/partitions.md).
    now = timezone.now()
    latest = (
        Observation.objects.filter(
            station__in=stations, period_start__gte=now - timedelta(days=STATION_MAP_DAYS), period_start__lte=now
        )
        .order_by("station_id", "indicator_id", "-period_start")
        .distinct("station_id", "indicator_id")
        .select_related("indicator")
    )
    values = defaultdict(list)
    for observation in latest:
        values[observation.station_id].append(observation)
    result = []
    for station in stations:
        readings = []
        aqi = None
        for observation in values.get(station.pk, []):
            indicator = observation.indicator
            reading = {
                "indicator": indicator.code,
                "label": indicator.label,
                "value": _float(observation.value),
                "unit": indicator.unit_of_measure,
                "status": observation.status or None,
                "period_start": observation.period_start.isoformat(),
            }
            if indicator.scale == Scale.VN_AQI:
                reading["band"] = aqi_band(observation.value)
                aqi = aqi or reading
            readings.append(reading)
        worst = max((r["status"] for r in readings if r["status"]), key=STATUS_RANK.get, default="ok")
        headline = aqi or (readings[0] if readings else None)
        result.append(
            {
                # The wall's map layer reads label and status.
                "label": station.name
                + (
                    f" · {headline['label']} {headline['value']:g}"
                    if headline and headline["value"] is not None
                    else ""
                ),
                "status": AQI_BAND_STATUS[aqi["band"]["code"]] if aqi and aqi.get("band") else worst,
                "state": f"aqi-{aqi['band']['code']}" if aqi and aqi.get("band") else NO_AQI,
                "code": station.code,
                "name": station.name,
                "kind": station.kind,
                "unit": station.unit.code,
                "latitude": station.latitude,
                "longitude": station.longitude,
                "aqi": aqi,
                "readings": readings,
            }
        )
    return result


def figures_provider(subsystem: str):
    """The registry's snapshot provider for one subsystem."""

    def provider(scope: Scope) -> dict | None:
        return subsystem_figures(subsystem, scope)

    provider.__name__ = f"{subsystem}_figures"
    return provider


# --- the briefing (ioc.briefings) ---------------------------------------------------------------


def briefing_provider(subsystem: str):
    """The registry's briefing provider for one indicator subsystem."""

    def provider(scope: Scope, when) -> dict | None:
        return briefing(subsystem, scope, when)

    provider.__name__ = f"{subsystem}_briefing"
    return provider


def briefing(subsystem: str, scope: Scope, when) -> dict | None:
    """The subsystem's wall figures as they stood at the end of the briefing's window (the last
    periods before it, the same series and progress to target), with a small chart of each."""
    indicators = list(Indicator.objects.filter(subsystem=subsystem, active=True, on_wall=True))
    now = min(timezone.now(), when.end)
    data = series_map(indicators, scope, now=now)
    shown = [i for i in indicators if data.get(i.pk)]
    if not shown:
        return None
    progress = _progress(shown, scope, now=now)
    kpis = [_kpi(i, data[i.pk], progress.get(i.pk)) for i in shown]
    rows = []
    for kpi in kpis:
        target = kpi.get("target") or {}
        status = {"critical": _("critical"), "warning": _("warning"), "ok": _("good")}.get(kpi["status"] or "", "")
        rows.append(
            [
                kpi["label"],
                kpi["period"],
                kpi["value"],
                kpi["unit"],
                kpi["change"],
                target.get("percent"),
                target.get("expected_percent"),
                status,
            ]
        )
    return {
        "headline": [],
        "tables": [
            {
                "title": _("Indicators against target"),
                "columns": [
                    _("Indicator"),
                    _("Period"),
                    _("Value"),
                    _("Unit"),
                    _("Change"),
                    _("Of the year's target (%)"),
                    _("Expected by now (%)"),
                    _("Status"),
                ],
                "rows": rows,
                "empty": "",
            }
        ],
        "charts": [
            {
                "title": f"{k['label']} ({k['unit']})" if k["unit"] else k["label"],
                "svg": charts.sparkline(k["spark"], label=k["label"]),
            }
            for k in kpis
        ],
    }
