"""Demo configuration for field reports: the categories a Vietnamese city uses, their departments
and deadline policies. Idempotent."""

from decimal import Decimal

from django.db import transaction

from ioc.models import Unit
from ioc.worktime import DurationUnit
from reports.models import Category, CategoryGroup, DeadlinePolicy, Level

GROUPS = [
    ("ha-tang", "Hạ tầng giao thông", "Road infrastructure", 1),
    ("moi-truong", "Môi trường, vệ sinh", "Environment and sanitation", 2),
    ("trat-tu-do-thi", "Trật tự đô thị", "Urban order", 3),
    ("dien-nuoc", "Điện, chiếu sáng, cấp nước", "Power, lighting, water", 4),
    ("an-toan", "An ninh, an toàn", "Safety and security", 5),
]

# (code, group, name, English name, department code, default level, anonymous allowed)
CATEGORIES = [
    ("o-ga-mat-duong", "ha-tang", "Ổ gà, hư hỏng mặt đường", "Pothole, damaged road", "75-SXD", Level.NORMAL, True),
    ("ngap-nuoc", "ha-tang", "Ngập nước", "Flooding", "75-SXD", Level.COMPLEX, True),
    ("den-giao-thong", "ha-tang", "Đèn tín hiệu giao thông hỏng", "Broken traffic light", "75-SXD", Level.URGENT, True),
    ("rac-thai", "moi-truong", "Rác thải, vệ sinh môi trường", "Rubbish, sanitation", "75-SNNMT", Level.NORMAL, True),
    ("o-nhiem", "moi-truong", "Ô nhiễm không khí, tiếng ồn", "Air or noise pollution", "75-SNNMT", Level.NORMAL, True),
    ("cay-xanh", "moi-truong", "Cây xanh gãy đổ, nguy hiểm", "Fallen or dangerous tree", "75-SXD", Level.URGENT, True),
    (
        "lan-chiem-via-he",
        "trat-tu-do-thi",
        "Lấn chiếm vỉa hè, lòng đường",
        "Pavement encroachment",
        None,
        Level.NORMAL,
        True,
    ),
    ("xay-dung-trai-phep", "trat-tu-do-thi", "Xây dựng trái phép", "Illegal construction", None, Level.COMPLEX, False),
    ("chieu-sang", "dien-nuoc", "Đèn chiếu sáng công cộng hỏng", "Broken street light", "75-PC", Level.NORMAL, True),
    ("mat-dien", "dien-nuoc", "Mất điện, sự cố lưới điện", "Power cut", "75-PC", Level.URGENT, True),
    ("cap-nuoc", "dien-nuoc", "Mất nước, vỡ ống nước", "Water cut, burst pipe", "75-CN", Level.COMPLEX, True),
    ("chay-no", "an-toan", "Cháy, nổ", "Fire, explosion", "75-CA", Level.URGENT, True),
    ("tai-nan", "an-toan", "Tai nạn giao thông", "Traffic accident", "75-CA", Level.URGENT, True),
    ("an-ninh-trat-tu", "an-toan", "An ninh trật tự", "Public order", "75-CA", Level.COMPLEX, False),
]

# Default policies per level (the 2-hour urgent rule; 8 working hours to take a report in).
POLICIES = [
    (Level.URGENT, Decimal(2), DurationUnit.CLOCK_HOURS, Decimal(4), DurationUnit.WORKING_HOURS),
    (Level.COMPLEX, Decimal(8), DurationUnit.WORKING_HOURS, Decimal(10), DurationUnit.WORKING_DAYS),
    (Level.NORMAL, Decimal(8), DurationUnit.WORKING_HOURS, Decimal(5), DurationUnit.WORKING_DAYS),
]


def load_demo_categories() -> None:
    with transaction.atomic():
        groups = {}
        for code, name, name_en, order in GROUPS:
            groups[code], _ = CategoryGroup.objects.get_or_create(
                code=code, defaults={"name": name, "name_en": name_en, "order": order}
            )
        for order, (code, group, name, name_en, department, level, anonymous) in enumerate(CATEGORIES):
            Category.objects.get_or_create(
                code=code,
                defaults={
                    "group": groups[group],
                    "name": name,
                    "name_en": name_en,
                    "default_level": level,
                    "allow_anonymous": anonymous,
                    "order": order,
                    "department": Unit.objects.filter(code=department).first() if department else None,
                },
            )
        for level, response, response_unit, resolution, resolution_unit in POLICIES:
            DeadlinePolicy.objects.get_or_create(
                category=None,
                level=level,
                defaults={
                    "response_amount": response,
                    "response_unit": response_unit,
                    "resolution_amount": resolution,
                    "resolution_unit": resolution_unit,
                },
            )
