"""Demo definitions for Đồng Nai's indicator subsystems, and the plan the demo feed follows. Idempotent.

Magnitudes are plausible for the merged province (Đồng Nai + Bình Phước), not official figures.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from indicators.models import Indicator, IndicatorTarget, Station
from ioc.models import Unit

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
