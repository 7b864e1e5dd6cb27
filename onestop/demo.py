"""Demo one-stop offices of the Long Khánh, Bình Lộc and Biên Hòa wards, their procedures, counters
and counter cameras. Idempotent."""

from decimal import Decimal

from ioc.models import Unit
from onestop.models import Counter, Office, Procedure

# (code, name, field, legal duration in working days, fees apply)
PROCEDURES = [
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", Decimal("1"), False),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", Decimal("1"), False),
    ("2.000815", "Chứng thực bản sao từ bản chính", "Chứng thực", Decimal("1"), True),
    ("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", Decimal("1"), True),
    (
        "1.004227",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "Đất đai",
        Decimal("10"),
        True,
    ),  # noqa: E501
    ("1.003003", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "Đất đai", Decimal("20"), True),
    ("2.000720", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động hộ kinh doanh", Decimal("3"), True),
]

# (unit code, office name, address, [(counter code, counter name, staff on duty, camera latitude, longitude)])
OFFICES = [
    (
        "26080",
        "Bộ phận Một cửa phường Long Khánh",
        "Số 2 đường Hùng Vương, phường Long Khánh",
        [
            ("LK-MC-01", "Quầy 1 - Hộ tịch, chứng thực", "Nguyễn Thị Thu Hà", 10.93705, 107.24302),
            ("LK-MC-02", "Quầy 2 - Đất đai", "Trần Văn Minh", 10.93706, 107.24305),
            ("LK-MC-03", "Quầy 3 - Hộ kinh doanh", "Lê Ngọc Lan", 10.93707, 107.24308),
        ],
    ),
    (
        "26089",
        "Bộ phận Một cửa phường Bình Lộc",
        "Ấp 1, phường Bình Lộc",
        [
            ("BL-MC-01", "Quầy 1 - Hộ tịch, chứng thực", "Phạm Thị Mai", 10.98501, 107.23002),
            ("BL-MC-02", "Quầy 2 - Đất đai, kinh doanh", "Võ Quốc Hùng", 10.98502, 107.23005),
        ],
    ),
    (
        "26068",
        "Bộ phận Một cửa phường Biên Hòa",
        "Số 10 đường 30 Tháng 4, phường Biên Hòa",
        [
            ("BH-MC-01", "Quầy 1 - Hộ tịch", "Đặng Thanh Trang", 10.95001, 106.82002),
            ("BH-MC-02", "Quầy 2 - Chứng thực", "Bùi Minh Tuấn", 10.95002, 106.82005),
            ("BH-MC-03", "Quầy 3 - Đất đai", "Huỳnh Kim Phương", 10.95003, 106.82008),
            ("BH-MC-04", "Quầy 4 - Hộ kinh doanh", "Ngô Đức Nam", 10.95004, 106.82011),
        ],
    ),
]


def load_demo_offices() -> None:
    # The counters' cameras, of the model a counter links to (the cameras app's): no import of that app.
    Camera = Counter._meta.get_field("camera").related_model  # noqa: N806
    for code, name, field, days, fees in PROCEDURES:
        Procedure.objects.get_or_create(
            code=code, defaults={"name": name, "field": field, "duration_days": days, "has_fees": fees}
        )
    for unit_code, office_name, address, counters in OFFICES:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            continue
        office, _made = Office.objects.get_or_create(unit=unit, defaults={"name": office_name, "address": address})
        for counter_code, counter_name, staff, lat, lon in counters:
            camera, _made = Camera.objects.get_or_create(
                code=f"CAM-{counter_code}",
                defaults={
                    "name": f"Camera {counter_name} ({unit.name})",
                    "purpose": "counter",
                    "unit": unit,
                    "latitude": lat,
                    "longitude": lon,
                    "vendor": "Demo",
                    "health": "offline",
                },
            )
            Counter.objects.get_or_create(
                code=counter_code,
                defaults={"office": office, "name": counter_name, "staff_on_duty": staff, "camera": camera},
            )
