"""Demo cameras on Đồng Nai roads (QL1A, QL20, the Long Khánh centre, Biên Hòa). Idempotent."""

from ioc.models import Unit
from traffic.models import Camera

# (code, name, purpose, unit code, latitude, longitude, road)
CAMERAS = [
    ("LK-QL1A-01", "QL1A - Ngã tư Long Khánh", "traffic", "26080", 10.9412, 107.2389, "QL1A"),
    ("LK-QL1A-02", "QL1A - Cầu Suối Tre", "traffic", "26089", 10.9611, 107.2135, "QL1A"),
    ("LK-QL1A-03", "QL1A - Km 1835 Bảo Vinh", "traffic", "26098", 10.9502, 107.2705, "QL1A"),
    ("LK-HV-01", "Hùng Vương - Chợ Long Khánh", "traffic", "26080", 10.9368, 107.2437, "Hùng Vương"),
    ("LK-NVC-01", "Nguyễn Văn Cừ - Hồ Thị Hương", "traffic", "26080", 10.9335, 107.2470, "Nguyễn Văn Cừ"),
    ("QL20-01", "QL20 - Ngã ba Dầu Giây", "traffic", "26104", 10.9435, 107.1405, "QL20"),
    ("QL20-02", "QL20 - Km 12", "traffic", "26113", 11.0290, 107.2805, "QL20"),
    ("BH-DK-01", "Đồng Khởi - Ngã tư Tân Phong", "traffic", "26068", 10.9682, 106.8462, "Đồng Khởi"),
    ("BH-PVT-01", "Phạm Văn Thuận - Cầu Hóa An", "traffic", "26068", 10.9495, 106.8105, "Phạm Văn Thuận"),
    ("LK-SEC-01", "Quảng trường Long Khánh", "security", "26080", 10.9380, 107.2420, ""),
    ("LK-SEC-02", "Chợ Long Khánh - Cổng chính", "security", "26080", 10.9366, 107.2441, ""),
    ("LK-SEC-03", "Bến xe Long Khánh", "security", "26089", 10.9450, 107.2350, ""),
    ("BH-SEC-01", "Công viên Biên Hùng", "security", "26068", 10.9471, 106.8225, ""),
]


def load_demo_cameras() -> None:
    for code, name, purpose, unit_code, lat, lon, road in CAMERAS:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            continue
        Camera.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "purpose": purpose,
                "unit": unit,
                "latitude": lat,
                "longitude": lon,
                "road": road,
                "vendor": "Demo",
                "health": Camera.Health.OFFLINE,
            },
        )
