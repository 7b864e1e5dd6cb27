"""Demo definitions for Đồng Nai's indicator subsystems, the plan the demo feed follows (idempotent),
and the demo feed itself (`IndicatorsFeed`): the departments and stations report their figures.

Magnitudes are plausible for the merged province (Đồng Nai + Bình Phước), not official figures.

The feed goes through indicators.services, as a department's system would. On start it fills in the
recent history (the same values on every start, so a restart changes nothing); then every round it
reports the current period's provisional readings (a later report replaces them, as real provisional
figures are) and the previous period's final ones; sums such as monthly revenue arrive once their month
has closed. Air quality follows the rush hours, so Biên Hòa's AQI crosses into "unhealthy for sensitive
groups" and back, raising and resolving alerts.
"""

import hashlib
import math
import random
from decimal import Decimal

from django.db import DatabaseError, transaction
from django.utils import timezone

from indicators import periods, services
from indicators.models import Indicator, IndicatorTarget, Period, Station
from indicators.selectors import SPARK_POINTS
from ioc.feeds import DemoDataMissing, Feed, survive
from ioc.models import Unit
from ioc.scope import EVERYTHING

PROVINCE = "75"
LONG_KHANH_WARDS = ["26080", "26089", "26098", "26104", "26113"]
BIEN_HOA = "26068"

# code, subsystem, name (vi), name (en), unit of measure, period, direction, warning, critical, roll-up,
# accumulates, scale, source, wall order
INDICATORS = [
    # 5 socio-economy
    ("budget_revenue", "socioeconomic", "Thu ngân sách nhà nước", "State budget revenue", "tỷ đồng", "monthly",
     "higher", 4500, 3500, "sum", True, "", "Sở Tài chính", 10),
    ("fdi_registered", "socioeconomic", "Vốn FDI đăng ký", "FDI registered", "triệu USD", "monthly",
     "higher", None, None, "sum", True, "", "Sở Tài chính (đầu tư)", 20),
    ("iip", "socioeconomic", "Chỉ số sản xuất công nghiệp (IIP, cùng kỳ)", "Industrial production index (y/y)", "%",
     "monthly", "higher", 103, 100, "avg", False, "", "Thống kê tỉnh", 30),
    # 6 health
    ("bed_occupancy", "health", "Công suất sử dụng giường bệnh", "Hospital bed occupancy", "%", "daily",
     "lower", 95, 105, "avg", False, "", "Sở Y tế", 10),
    ("full_vaccination", "health", "Tỷ lệ tiêm chủng đầy đủ trẻ dưới 1 tuổi", "Full vaccination, infants", "%",
     "monthly", "higher", 95, 90, "avg", False, "", "CDC Đồng Nai", 20),
    ("dengue_cases", "health", "Ca sốt xuất huyết mới", "New dengue cases", "ca", "daily",
     "lower", 8, 15, "sum", False, "", "Trạm y tế phường", 30),
    # 7 education
    ("pupils", "education", "Học sinh các cấp", "Pupils enrolled", "học sinh", "yearly",
     "higher", None, None, "sum", False, "", "Sở Giáo dục và Đào tạo", 10),
    ("attendance_rate", "education", "Tỷ lệ học sinh đi học chuyên cần", "Pupil attendance", "%", "daily",
     "higher", 95, 90, "avg", False, "", "Sở Giáo dục và Đào tạo", 20),
    ("schools", "education", "Trường học", "Schools", "trường", "yearly",
     "higher", None, None, "sum", False, "", "Sở Giáo dục và Đào tạo", 30),
    # 8 tourism
    ("visitors", "tourism", "Lượt khách du lịch", "Visitors", "nghìn lượt", "monthly",
     "higher", 300, 200, "sum", True, "", "Sở Văn hóa, Thể thao và Du lịch", 10),
    ("hotel_occupancy", "tourism", "Công suất phòng lưu trú", "Hotel occupancy", "%", "daily",
     "higher", 40, 25, "avg", False, "", "Sở Văn hóa, Thể thao và Du lịch", 20),
    ("tourism_revenue", "tourism", "Doanh thu du lịch", "Tourism revenue", "tỷ đồng", "monthly",
     "higher", None, None, "sum", True, "", "Sở Văn hóa, Thể thao và Du lịch", 30),
    # 9 environment
    ("aqi", "environment", "Chỉ số chất lượng không khí (VN_AQI)", "Air quality index (VN_AQI)", "", "hourly",
     "lower", 101, 201, "max", False, "vn_aqi", "Sở Nông nghiệp và Môi trường (quan trắc tự động)", 10),
    ("pm25", "environment", "Bụi mịn PM2.5", "Fine particulates PM2.5", "µg/m³", "hourly",
     "lower", 50, 100, "max", False, "", "Sở Nông nghiệp và Môi trường (quan trắc tự động)", 20),
    ("water_level_dong_nai", "environment", "Mực nước sông Đồng Nai", "Đồng Nai river level", "m", "hourly",
     "lower", 1.8, 2.0, "max", False, "", "Đài Khí tượng Thủy văn tỉnh", 30),
    ("rainfall", "environment", "Lượng mưa ngày", "Daily rainfall", "mm", "daily",
     "lower", 50, 100, "max", False, "", "Đài Khí tượng Thủy văn tỉnh", 40),
]  # fmt: skip

# code, name, unit, latitude, longitude, kind
STATIONS = [
    ("BH-KK-01", "Trạm quan trắc không khí Biên Hòa", BIEN_HOA, 10.9574, 106.8427, "air"),
    ("LK-KK-01", "Trạm quan trắc không khí Long Khánh", "26080", 10.9386, 107.2435, "air"),
    ("BH-TV-01", "Trạm thủy văn Biên Hòa (sông Đồng Nai)", BIEN_HOA, 10.9440, 106.8230, "water"),
]

# This year's plan at the province: indicator code -> target.
TARGETS = {"budget_revenue": 66000, "fdi_registered": 2000, "visitors": 5200, "tourism_revenue": 4200}

# What the feed reports, where, around which value: indicator -> (places, base, relative spread).
# A place is ("unit", code) or ("station", code).
FEED = {
    "budget_revenue": ([("unit", PROVINCE)], 5600, 0.12),
    "fdi_registered": ([("unit", PROVINCE)], 165, 0.35),
    "iip": ([("unit", PROVINCE)], 108.5, 0.02),
    "bed_occupancy": ([("unit", PROVINCE)], 88, 0.05),
    "full_vaccination": ([("unit", PROVINCE)], 96.5, 0.015),
    "dengue_cases": ([("unit", code) for code in [*LONG_KHANH_WARDS, BIEN_HOA]], 4, 0.6),
    "pupils": ([("unit", PROVINCE)], 925000, 0.01),
    "attendance_rate": ([("unit", PROVINCE)], 97.2, 0.01),
    "schools": ([("unit", PROVINCE)], 1290, 0.005),
    "visitors": ([("unit", PROVINCE)], 430, 0.15),
    "hotel_occupancy": ([("unit", PROVINCE)], 58, 0.12),
    "tourism_revenue": ([("unit", PROVINCE)], 340, 0.15),
    "aqi": ([("station", "BH-KK-01"), ("station", "LK-KK-01")], 72, 0.25),
    "pm25": ([("station", "BH-KK-01"), ("station", "LK-KK-01")], 28, 0.3),
    "water_level_dong_nai": ([("station", "BH-TV-01")], 1.35, 0.12),
    "rainfall": ([("station", "LK-KK-01"), ("station", "BH-TV-01")], 12, 1.0),
}


def load_demo_indicators() -> None:
    with transaction.atomic():
        for row in INDICATORS:
            (code, subsystem, name, name_en, uom, period, direction, warning, critical, rollup, accumulates, scale,
             source, order) = row  # fmt: skip
            Indicator.objects.get_or_create(
                code=code,
                defaults={
                    "subsystem": subsystem,
                    "name": name,
                    "name_en": name_en,
                    "unit_of_measure": uom,
                    "period": period,
                    "direction": direction,
                    "warning_threshold": None if warning is None else Decimal(str(warning)),
                    "critical_threshold": None if critical is None else Decimal(str(critical)),
                    "rollup": rollup,
                    "accumulates": accumulates,
                    "scale": scale,
                    "source": source,
                    "wall_order": order,
                },
            )
        for code, name, unit_code, lat, lon, kind in STATIONS:
            unit = Unit.objects.filter(code=unit_code).first()
            if unit is not None:
                Station.objects.get_or_create(
                    code=code, defaults={"name": name, "unit": unit, "latitude": lat, "longitude": lon, "kind": kind}
                )
        province = Unit.objects.filter(code=PROVINCE).first()
        if province is not None:
            year = timezone.localtime().year
            for code, value in TARGETS.items():
                IndicatorTarget.objects.get_or_create(
                    indicator=Indicator.objects.get(code=code),
                    unit=province,
                    year=year,
                    defaults={"value": Decimal(value)},
                )


# --- the demo feed -----------------------------------------------------------------------------

SOURCE = "demo-feed"
WHOLE = {"aqi", "dengue_cases", "pupils", "schools"}
POLLUTED_STATIONS = {"BH-KK-01": 1.3}  # Biên Hòa's industrial parks and traffic


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def final_value(indicator: Indicator, place: str, start, base: float, spread: float) -> float:
    """The period's value: the same for the same (indicator, place, period) on every run."""
    rng = _rng(indicator.code, place, start.isoformat())
    local = timezone.localtime(start)
    code = indicator.code
    if code in ("aqi", "pm25"):
        hour = local.hour
        rush = 1.45 if hour in (7, 8, 17, 18, 19) else 1.15 if hour in (6, 9, 16, 20) else 0.8 if hour < 5 else 1.0
        value = base * rush * POLLUTED_STATIONS.get(place, 1.0) * (1 + spread * rng.uniform(-0.5, 0.5))
    elif code == "water_level_dong_nai":  # semi-diurnal tide at Biên Hòa
        tide = 0.38 * math.sin(2 * math.pi * (start.timestamp() / 3600) / 12.42)
        value = base + tide + spread * rng.uniform(-0.5, 0.5)
    elif code == "rainfall":
        value = rng.expovariate(1 / base) if rng.random() < 0.55 else 0.0
    elif code == "dengue_cases":
        value = max(0.0, rng.gauss(base, base * spread)) + (rng.random() < 0.05) * rng.uniform(6, 14)
    elif indicator.period == Period.YEARLY:
        value = base * (1 + 0.015 * (local.year - timezone.localtime().year)) * (1 + spread * rng.uniform(-1, 1))
    else:
        value = base * (1 + spread * rng.uniform(-1, 1))
    return value


def provisional(indicator: Indicator, value: float, rng: random.Random) -> float | None:
    """A figure for a period still running: a jittered reading; sums (revenue, visitors) only once closed."""
    if indicator.accumulates:
        return None  # a month-to-date sum would sit below the monthly thresholds and alarm every month
    if indicator.period in (Period.HOURLY, Period.DAILY):
        return value * (1 + rng.uniform(-0.03, 0.03))
    return value


def _rounded(code: str, value: float) -> str:
    return str(Decimal(round(value)) if code in WHOLE else Decimal(f"{value:.2f}"))


class IndicatorsFeed(Feed):
    """The recent history once, then a round of figures every `interval` seconds (`rounds` of them, or
    endless when 0)."""

    def __init__(self, *, interval: float = 20.0, rounds: int = 0, history: bool = True, **common):
        super().__init__(**common)
        self.interval, self.rounds, self.history, self.done = interval, rounds, history, 0

    def load(self) -> None:
        self.indicators = {i.code: i for i in Indicator.objects.filter(code__in=FEED, active=True)}
        if not self.indicators:
            raise DemoDataMissing("the demo indicators")
        self.stations = {s.code: s for s in Station.objects.all()}

    def start(self) -> None:
        if self.history:
            self._fill_history()
        self.at(0, self._round)

    def summary(self) -> str:
        return f"stopped after {self.done} round{'' if self.done == 1 else 's'}"

    def _places(self, code: str):
        places, base, spread = FEED[code]
        for kind, place in places:
            if kind == "station" and place not in self.stations:
                continue
            yield kind, place, base, spread

    def _item(self, code: str, kind: str, place: str, start, value: float) -> dict:
        return {"indicator": code, kind: place, "period": start.isoformat(), "value": _rounded(code, value)}

    def _fill_history(self) -> None:
        now = timezone.now()
        items = []
        for code, indicator in self.indicators.items():
            current = periods.period_start(indicator.period, now)
            for n in range(SPARK_POINTS[indicator.period], 0, -1):
                start = periods.step_back(indicator.period, current, n)
                for kind, place, base, spread in self._places(code):
                    items.append(
                        self._item(code, kind, place, start, final_value(indicator, place, start, base, spread))
                    )
        totals = {}
        for chunk in range(0, len(items), services.BATCH_MAX):
            results = self._ingest(items[chunk : chunk + services.BATCH_MAX])
            for key, count in services.summarize(results).items():
                totals[key] = totals.get(key, 0) + count
        self.say(f"history: {totals}")

    def _round(self) -> float | None:
        """One round of figures; the pause before the next, or None after the last of `rounds`."""
        self._report_round()
        self.done += 1
        return None if self.rounds and self.done >= self.rounds else self.interval

    def _report_round(self) -> None:
        now = timezone.now()
        items = []
        for code, indicator in self.indicators.items():
            current = periods.period_start(indicator.period, now)
            last = periods.step_back(indicator.period, current, 1)
            for kind, place, base, spread in self._places(code):
                items.append(self._item(code, kind, place, last, final_value(indicator, place, last, base, spread)))
                value = provisional(indicator, final_value(indicator, place, current, base, spread), self.rng)
                if value is not None:
                    items.append(self._item(code, kind, place, current, value))
        results = self._ingest(items)
        if results:
            summary = services.summarize(results)
            self.say(f"round: {summary['created']} new, {summary['replaced']} revised, {summary['error']} errors")

    def _ingest(self, items: list) -> list:
        try:
            return services.observations_ingest(items=items, source=SOURCE, scope=EVERYTHING)
        except (DatabaseError, services.ValidationError) as exc:
            survive(exc, "round", self.say)
            return []
