"""Demo data for field reports: the categories a Vietnamese city uses, their departments and deadline
policies (idempotent), and the demo feed's citizens and handlers (`ReportsFeed`)."""

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import DatabaseError, transaction
from django.utils import timezone

from ioc.feeds import DemoDataMissing, Feed, survive
from ioc.models import Unit, User
from ioc.roles import LEADER, UNIT_STAFF
from ioc.worktime import DurationUnit
from reports import services
from reports.models import Category, CategoryGroup, Channel, DeadlinePolicy, Level, Report, Status

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

# What citizens write for each category: the keyword rules that suggest triage before a model is
# trained (reports.triage.Rules). Folded before matching, so diacritics are optional.
KEYWORDS = {
    "o-ga-mat-duong": "ổ gà, ổ voi, hố sâu, sụt lún, lún, nứt, bong tróc, mặt đường, hư hỏng đường, đường hư, "
    "đường xuống cấp, nắp cống, sình lầy",
    "ngap-nuoc": "ngập, ngập nước, ngập sâu, nước ngập, triều cường, nước dâng, úng, thoát nước, cống nghẹt, "
    "cống tắc, mưa lớn",
    "den-giao-thong": "đèn giao thông, đèn tín hiệu, đèn đỏ, đèn xanh, đèn vàng nhấp nháy, cột đèn tín hiệu",
    "rac-thai": "rác, bãi rác, đổ rác, xả rác, rác thải, thu gom rác, xe rác, hôi thối, bốc mùi, xác động vật, "
    "phế thải",
    "o-nhiem": "ô nhiễm, khói, bụi, tiếng ồn, ồn ào, karaoke, loa kẹo kéo, mùi khét, khí thải, nước thải, xả thải",
    "cay-xanh": "cây, cây xanh, cây đổ, cây gãy, nhánh cây, cành cây, cây ngã, cây mục, bật gốc",
    "lan-chiem-via-he": "lấn chiếm, vỉa hè, lòng đường, bày bán, buôn bán, hàng rong, đậu xe, chiếm dụng, "
    "dựng rạp, bàn ghế",
    "xay-dung-trai-phep": "xây dựng trái phép, xây dựng không phép, xây trái phép, không phép, cơi nới, "
    "xây lấn, xây nhà, công trình, sai phép",
    "chieu-sang": "đèn đường, đèn chiếu sáng, bóng đèn, tối om, đèn hư, đèn không sáng, trụ đèn, chiếu sáng",
    "mat-dien": "mất điện, cúp điện, cắt điện, chập điện, dây điện, trụ điện, điện lực, đường dây, "
    "trạm biến áp, nổ điện",
    "cap-nuoc": "mất nước, cúp nước, bể ống, vỡ ống, ống nước, nước máy, rò rỉ nước, nước yếu, nước đục",
    "chay-no": "cháy, hỏa hoạn, bốc cháy, khói đen, tiếng nổ, phát nổ, bình gas, chữa cháy, ngọn lửa",
    "tai-nan": "tai nạn, va chạm, đâm, tông, lật xe, xe cán, bị thương, cấp cứu, té xe",
    "an-ninh-trat-tu": "trộm, cướp, giật, đánh nhau, gây rối, tụ tập, đua xe, cờ bạc, ma túy, say xỉn, côn đồ, an ninh",
}

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
                    "keywords": KEYWORDS.get(code, ""),
                },
            )
            # Categories loaded before keywords existed get them; an administrator's own are kept.
            Category.objects.filter(code=code, keywords="").update(keywords=KEYWORDS.get(code, ""))
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


# --- the demo feed -----------------------------------------------------------------------------

OPERATOR_USERNAME = "operator"
CHECK_UNIT = "26080"
MAX_FAILURES = 3
SPAM_SHARE = 0.04
URGENT_SHARE = 1 / 8
NAMED_SHARE = 0.25  # app and web; hotline callers mostly give a name: about a third overall
HOTLINE_NAMED_SHARE = 0.6
CATEGORY_REFRESH = 50  # reload the categories every so many reports (an admin may change them)

# --- where: (unit code, latitude, longitude, place, numbered street, on a main road) ----------
PLACES = [
    ("26080", 10.9368, 107.2436, "đường Hùng Vương", True, False),
    ("26080", 10.9342, 107.2468, "đường Nguyễn Văn Cừ", True, False),
    ("26080", 10.9395, 107.2402, "đường Hồ Thị Hương", True, False),
    ("26080", 10.9381, 107.2427, "khu vực chợ Long Khánh", False, False),
    ("26080", 10.9318, 107.2362, "Quốc lộ 1A, đoạn qua Long Khánh", False, True),
    ("26089", 10.9850, 107.2300, "khu phố {n}", False, False),
    ("26098", 10.9480, 107.2780, "khu phố {n}", False, False),
    ("26104", 10.9050, 107.2050, "khu phố {n}", False, False),
    ("26113", 10.8850, 107.2550, "khu phố {n}", False, False),
    ("26113", 10.8790, 107.2600, "gần di tích Mộ cự thạch Hàng Gòn", False, False),
    ("26068", 10.9536, 106.8262, "đường Phạm Văn Thuận", True, False),
    ("26068", 10.9512, 106.8190, "đường Đồng Khởi", True, False),
    ("26068", 10.9420, 106.8090, "chân cầu Hóa An", False, True),
    ("26089", 11.0300, 107.2800, "Quốc lộ 20", False, True),
]
# Long Khánh is the pilot city: most reports come from there.
PLACE_WEIGHTS = [6, 5, 4, 4, 3, 3, 3, 2, 2, 1, 3, 3, 2, 2]
JITTER_M = 40  # standard deviation of the random offset, metres
BURST_JITTER_M = 12

# --- what: realistic descriptions per category code ----------------------------------------------
DESCRIPTIONS = {
    "o-ga-mat-duong": [
        "Ổ gà lớn giữa đường, xe máy phải né sang làn ô tô, rất nguy hiểm vào ban đêm.",
        "Mặt đường bị lún và bong tróc một đoạn khoảng 20 mét, trời mưa đọng nước, đã có người đi xe máy bị té.",
        "Nắp hố ga bị vỡ, lộ hố sâu sát mép đường, chưa có biển cảnh báo.",
        "Đường xuống cấp, nhiều ổ gà liên tiếp, xe tải chạy qua làm bụi mù mịt.",
    ],
    "ngap-nuoc": [
        "Mưa khoảng 30 phút mà đường đã ngập sâu 30-40 cm, nhiều xe máy chết máy giữa đường.",
        "Cống thoát nước bị rác bít kín, nước tràn vào nhà dân hai bên đường.",
        "Đoạn đường trũng ngập nước cả buổi sau mưa, học sinh phải lội nước đi học.",
        "Nước ngập tới bậc thềm nhà, mùi hôi từ cống bốc lên, đề nghị nạo vét cống.",
    ],
    "den-giao-thong": [
        "Đèn tín hiệu ở ngã tư tắt hẳn từ sáng, xe cộ đi lộn xộn, suýt va chạm nhiều lần.",
        "Đèn giao thông chỉ nhấp nháy vàng vào giờ cao điểm, kẹt xe kéo dài.",
        "Đèn đỏ một hướng bị cháy bóng, người đi hướng này không thấy tín hiệu.",
    ],
    "rac-thai": [
        "Bãi rác tự phát ven đường bốc mùi hôi thối, ruồi nhặng nhiều, ảnh hưởng các hộ xung quanh.",
        "Xe thu gom rác không đến đã 3 ngày, rác tràn ra cả lòng đường.",
        "Có người đổ trộm xà bần và rác thải xây dựng xuống lề đường vào ban đêm.",
        "Rác sau buổi chợ không được dọn, nước rỉ rác chảy ra đường.",
    ],
    "o-nhiem": [
        "Cơ sở sản xuất gần khu dân cư xả khói đen, mùi khét vào buổi tối, người dân khó thở.",
        "Quán karaoke mở nhạc lớn quá 22 giờ, trẻ nhỏ và người già không ngủ được.",
        "Xưởng gỗ hoạt động gây tiếng ồn và bụi suốt ngày, bụi bám đầy nhà dân.",
        "Có người đốt rác và rơm rạ, khói bay vào khu dân cư mù mịt.",
    ],
    "cay-xanh": [
        "Cây dầu lớn bên đường bị nghiêng sau cơn giông, có nguy cơ ngã vào người đi đường.",
        "Nhánh cây gãy treo lơ lửng trên đường dây điện, rất nguy hiểm.",
        "Cây xanh ngã chắn ngang một nửa lòng đường, xe qua lại khó khăn.",
    ],
    "lan-chiem-via-he": [
        "Các quán ăn bày bàn ghế chiếm hết vỉa hè, người đi bộ phải xuống lòng đường.",
        "Ô tô đậu hai bên đường cả ngày, đường chỉ còn một làn cho xe máy.",
        "Hàng rong họp chợ tự phát dưới lòng đường vào buổi sáng, gây ùn tắc.",
        "Cửa hàng dựng mái che và bục bê tông lấn ra vỉa hè.",
    ],
    "xay-dung-trai-phep": [
        "Hộ dân đang xây thêm tầng vào ban đêm, không thấy treo giấy phép xây dựng.",
        "Có người san lấp và xây tường rào trên đất nông nghiệp, lấn ra mương thoát nước.",
        "Công trình để vật liệu tràn ra đường, không che chắn, đất cát rơi vãi khắp nơi.",
    ],
    "chieu-sang": [
        "Cả dãy đèn đường tắt từ tối qua, đoạn đường tối om, người dân lo mất an toàn.",
        "Đèn đường chập chờn lúc sáng lúc tắt, có tiếng nổ lách tách ở tủ điện.",
        "Cột đèn chiếu sáng bị nghiêng sau va chạm, bóng đèn đã hỏng.",
    ],
    "mat-dien": [
        "Mất điện cả khu phố từ 14 giờ, không có thông báo cắt điện trước.",
        "Dây điện bị đứt rơi xuống đường sau cơn mưa, có tóe lửa, rất nguy hiểm.",
        "Trạm biến áp phát tiếng nổ lớn rồi mất điện cả khu vực.",
    ],
    "cap-nuoc": [
        "Ống nước bị vỡ, nước phun lên mặt đường từ sáng sớm, vừa lãng phí vừa trơn trượt.",
        "Mất nước sinh hoạt 2 ngày nay, không có thông báo, các hộ phải mua nước bình.",
        "Nước máy có màu vàng đục và mùi lạ, không dám dùng để nấu ăn.",
    ],
    "chay-no": [
        "Khói bốc lên từ một kho hàng, có mùi khét, chưa thấy lực lượng chữa cháy.",
        "Cháy bãi cỏ khô sát khu dân cư, gió lớn đang làm lửa lan nhanh.",
        "Nghe tiếng nổ lớn ở một cửa hàng gas, có khói đen bốc lên.",
    ],
    "tai-nan": [
        "Va chạm giữa xe tải và xe máy, một người bị thương nằm trên đường, cần cấp cứu.",
        "Tai nạn giữa hai xe máy, giao thông ùn ứ, chưa có lực lượng chức năng có mặt.",
        "Ô tô tông vào dải phân cách, mảnh vỡ văng ra đường, nguy hiểm cho xe phía sau.",
    ],
    "an-ninh-trat-tu": [
        "Nhóm thanh niên tụ tập đua xe, nẹt pô vào ban đêm, gây mất an ninh trật tự.",
        "Nghi có tụ điểm cờ bạc trong một quán nước, nhiều người lạ ra vào.",
        "Thường xuyên mất trộm xe máy trong khu vực, đề nghị tăng cường tuần tra.",
    ],
}
GENERIC_DESCRIPTION = "Đề nghị cơ quan chức năng kiểm tra, xử lý: {category}."

SPAM = [
    "Cho vay tiền nhanh không cần thế chấp, giải ngân trong ngày, liên hệ Zalo.",
    "test thử ứng dụng",
    "Bán đất nền giá rẻ, sổ hồng riêng, ai cần liên hệ ngay.",
    "Nhận làm bằng cấp các loại, giao tận nơi.",
]
REJECT_REASON = "Nội dung không phải phản ánh hiện trường (quảng cáo hoặc thử nghiệm)."

# --- answers: "{who}" is "Phường", "Xã" or the department's name --------------------------------
ANSWERS = {
    "o-ga-mat-duong": ["{who} đã đặt biển cảnh báo tại vị trí ổ gà, dự kiến vá mặt đường trong 3 ngày."],
    "ngap-nuoc": ["{who} đã bố trí lực lượng khơi thông cống thoát nước và phân luồng tại điểm ngập."],
    "den-giao-thong": ["{who} đã cử kỹ thuật kiểm tra tủ điều khiển, tạm thời bố trí người điều tiết giao thông."],
    "rac-thai": ["{who} đã làm việc với đơn vị thu gom, yêu cầu thu dọn rác trong ngày."],
    "o-nhiem": ["{who} đã kiểm tra cơ sở bị phản ánh, lập biên bản và yêu cầu chấm dứt vi phạm."],
    "cay-xanh": ["{who} đã rào chắn khu vực nguy hiểm, tổ cây xanh đang xử lý."],
    "lan-chiem-via-he": ["{who} đã nhắc nhở các hộ kinh doanh, yêu cầu trả lại vỉa hè cho người đi bộ."],
    "xay-dung-trai-phep": ["{who} đã kiểm tra công trình, yêu cầu tạm dừng thi công để xác minh giấy phép."],
    "chieu-sang": ["{who} đã ghi nhận sự cố, tổ kỹ thuật sẽ thay bóng và kiểm tra tủ điện trong 2 ngày."],
    "mat-dien": ["{who} đã cử đội sửa chữa đến hiện trường, dự kiến cấp điện trở lại trong 2 giờ."],
    "cap-nuoc": ["{who} đã khóa van khu vực và cử đội sửa chữa đường ống, dự kiến cấp nước lại trong ngày."],
    "chay-no": ["{who} đã điều lực lượng chữa cháy đến hiện trường, đám cháy đang được khống chế."],
    "tai-nan": ["{who} đã cử cảnh sát giao thông đến hiện trường, người bị thương đã được đưa đi cấp cứu."],
    "an-ninh-trat-tu": ["{who} đã tăng cường tuần tra khu vực và xác minh thông tin phản ánh."],
}
GENERIC_ANSWERS = [
    "{who} đã cử tổ công tác kiểm tra hiện trường, dự kiến khắc phục trong 2 ngày.",
    "{who} đã tiếp nhận phản ánh và đang phối hợp với các đơn vị liên quan để xử lý.",
    "{who} đã kiểm tra thực tế, sự việc đúng như phản ánh; kết quả xử lý sẽ được thông tin sớm.",
]
RESOLUTIONS = {
    "o-ga-mat-duong": ["Đã vá ổ gà và thảm lại mặt đường, giao thông trở lại bình thường."],
    "ngap-nuoc": ["Đã nạo vét cống và thông dòng chảy, đoạn đường không còn ngập."],
    "den-giao-thong": ["Đã thay bộ điều khiển, đèn tín hiệu hoạt động bình thường."],
    "rac-thai": ["Đã thu dọn toàn bộ rác, đặt biển cấm đổ rác và giao tổ dân phố giám sát."],
    "o-nhiem": ["Cơ sở đã được xử phạt và cam kết khắc phục, đoàn kiểm tra sẽ tái kiểm tra."],
    "cay-xanh": ["Đã cắt tỉa, di dời cây ngã, đường đã thông thoáng."],
    "lan-chiem-via-he": ["Đã giải tỏa vỉa hè, các hộ vi phạm đã ký cam kết không tái phạm."],
    "xay-dung-trai-phep": ["Đã lập biên bản vi phạm hành chính, chủ công trình đang tự tháo dỡ phần sai phép."],
    "chieu-sang": ["Đã thay bóng và sửa tủ điện, đèn đường sáng trở lại."],
    "mat-dien": ["Sự cố đã được khắc phục, điện đã được cấp lại cho khu vực."],
    "cap-nuoc": ["Đã sửa xong đường ống, nước sinh hoạt đã được cấp lại."],
    "chay-no": ["Đám cháy đã được dập tắt, không có thiệt hại về người; nguyên nhân đang được điều tra."],
    "tai-nan": ["Hiện trường đã được giải tỏa, giao thông thông suốt; vụ việc đang được xử lý theo quy định."],
    "an-ninh-trat-tu": ["Lực lượng công an đã xử lý các đối tượng vi phạm và duy trì tuần tra tại khu vực."],
}
GENERIC_RESOLUTION = "Sự việc đã được xử lý xong. Cảm ơn người dân đã phản ánh."
START_NOTES = ["Tổ công tác đang có mặt tại hiện trường.", "Đã phân công cán bộ xử lý.", ""]
ASSIGN_NOTES = ["Đề nghị kiểm tra, xử lý và trả lời người dân đúng hạn.", "Chuyển đơn vị xử lý theo thẩm quyền.", ""]
LEVEL_NOTES = {
    Level.URGENT: "Nguy cơ mất an toàn, nâng lên mức khẩn.",
    Level.COMPLEX: "Cần phối hợp nhiều đơn vị, chuyển sang mức phức tạp.",
    Level.NORMAL: "Ảnh hưởng cục bộ, xử lý theo mức thông thường.",
}
RATING_COMMENTS = {
    5: ["Xử lý rất nhanh, cảm ơn các anh chị.", "Rất hài lòng.", ""],
    4: ["Đã xử lý, nhưng hơi chậm.", "Cảm ơn, mong duy trì.", ""],
    3: ["Tạm được, mong xử lý dứt điểm.", "Xử lý chưa triệt để.", ""],
}

# --- who: plausible Vietnamese names -----------------------------------------------------------
FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MALE = (["Văn", "Minh", "Quốc", "Đức", "Hữu"], ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Long", "Nam", "Tuấn"])
FEMALE = (
    ["Thị", "Ngọc", "Thu", "Thanh", "Kim"],
    ["Hà", "Hạnh", "Hoa", "Lan", "Linh", "Mai", "Phương", "Thảo", "Trang"],
)

# --- when: pauses in seconds (before --speed) ----------------------------------------------------
DELAYS = {
    "triage": (20, 180),
    "triage_urgent": (10, 60),
    "assign": (10, 90),
    "start": (60, 420),
    "start_urgent": (30, 180),
    "answer": (60, 600),
    "answer_urgent": (60, 300),
    "resolve": (300, 1800),
    "rate": (60, 900),
    "close": (120, 900),
    "retry": (30, 90),
    "burst": (3, 40),
}
# How far the handlers take a report. Leaving some behind keeps the overdue figures honest.
GOALS = [
    ("leave_received", 6),
    ("leave_assigned", 8),
    ("leave_in_progress", 8),
    ("resolved", 30),
    ("closed", 48),
]


@dataclass
class Tracked:
    """A report the feed submitted and still plays a part in."""

    report_id: int
    code: str
    secret: str
    rng: random.Random
    goal: str
    urgent: bool
    parent_id: int | None = None
    parent_code: str = ""
    new_level: str | None = None
    rating: int | None = None
    slow: bool = False
    rated: bool = False
    failures: int = 0


def _pause(rng: random.Random, key: str, urgent: bool = False) -> float:
    low, high = DELAYS.get(f"{key}_urgent", DELAYS[key]) if urgent else DELAYS[key]
    return rng.uniform(low, high)


def _offset(lat: float, lon: float, rng: random.Random, sigma_m: float) -> tuple[float, float]:
    north, east = rng.gauss(0, sigma_m), rng.gauss(0, sigma_m)
    lat2 = lat + north / 111_320
    lon2 = lon + east / (111_320 * math.cos(math.radians(lat)))
    return round(lat2, 6), round(lon2, 6)


def _person(rng: random.Random) -> tuple[str, str]:
    middles, givens = rng.choice((MALE, FEMALE))
    name = f"{rng.choice(FAMILY_NAMES)} {rng.choice(middles)} {rng.choice(givens)}"
    phone = "09" + "".join(rng.choice("0123456789") for _ in range(8))
    return name, phone


def _channel(rng: random.Random) -> tuple[str, bool]:
    """How the citizen reports, and whether they leave a name and phone."""
    channel = rng.choices([Channel.APP, Channel.WEB, Channel.HOTLINE], weights=[5, 3, 2])[0]
    return channel, rng.random() < (HOTLINE_NAMED_SHARE if channel == Channel.HOTLINE else NAMED_SHARE)


def _who(unit: Unit) -> str:
    if unit.kind == Unit.Kind.WARD:
        return "Phường"
    if unit.kind == Unit.Kind.COMMUNE:
        return "Xã"
    return unit.name.split(" (")[0]


class ReportsFeed(Feed):
    """Citizens report; the operator, the handling units and the citizens take each report further.

    Everything goes through reports.services, as a person using the system would: the feed submits
    reports (keeping each one's secret, as the citizen would), then after realistic pauses plays the
    operator (triage, assignment, closing), the handling unit (start, answer, resolve) and the citizen
    (rating). Some reports are left waiting on purpose so the overdue figures are not always zero.
    With a `count`, the feed ends once that many reports are made and their planned handling is done.
    """

    def __init__(self, *, interval: float = 45.0, count: int = 0, burst_every: int = 12, **common):
        super().__init__(**common)
        self.interval, self.count, self.burst_every = interval, count, burst_every
        self.handlers: dict[int, User] = {}
        self.created = 0  # new reports, burst followers included (counted when scheduled)
        self.leaders = 0

    def load(self) -> None:
        self.categories = self._active_categories()
        if not self.categories:
            raise DemoDataMissing("no report categories")
        units = {u.code: u for u in Unit.objects.filter(code__in={p[0] for p in PLACES})}
        if CHECK_UNIT not in units:
            raise DemoDataMissing(f"no unit {CHECK_UNIT}")
        self.operator = User.objects.filter(username=OPERATOR_USERNAME, is_active=True).first()
        if self.operator is None:
            raise DemoDataMissing(f"no user “{OPERATOR_USERNAME}”")
        self.places = [(units[p[0]], *p[1:]) for p in PLACES if p[0] in units]
        self.place_weights = [w for p, w in zip(PLACES, PLACE_WEIGHTS, strict=True) if p[0] in units]

    def start(self) -> None:
        self.at(0, self._next_report)

    def summary(self) -> str:
        return f"done: {self.created} reports"

    def _active_categories(self) -> dict:
        return {c.pk: c for c in Category.objects.filter(active=True).select_related("department")}

    def _refresh_categories(self) -> None:
        try:
            self.categories = self._active_categories() or self.categories
        except DatabaseError as exc:
            survive(exc, "reloading the categories")

    # --- citizens ---------------------------------------------------------------------------

    def _next_report(self) -> float | None:
        """A citizen sends a report; the pause before the next, or None once `count` are made."""
        if self.count and self.created >= self.count:
            return None
        self._new_report()
        if self.interval <= 0:
            return 0.0
        pause = self.rng.expovariate(1 / self.interval)
        return min(max(pause, self.interval * 0.15), self.interval * 4)

    def _new_report(self) -> None:
        self.created += 1
        self.leaders += 1
        if self.leaders % CATEGORY_REFRESH == 0:
            self._refresh_categories()
        rng = random.Random(self.rng.getrandbits(64))
        spam = rng.random() < SPAM_SHARE
        channel, named = _channel(rng)
        if spam:
            channel, named = rng.choice([Channel.APP, Channel.WEB]), False
        urgent = not spam and rng.random() < URGENT_SHARE
        allowed = [c for c in self.categories.values() if named or c.allow_anonymous]
        pool = [c for c in allowed if (c.default_level == Level.URGENT) == urgent] or allowed
        if not pool:
            self.say("no category can take an anonymous report; skipped")
            return
        category = rng.choice(pool)
        place = self._place(rng, category)
        lat, lon = _offset(place[1], place[2], rng, JITTER_M)
        texts = DESCRIPTIONS.get(category.code) or [GENERIC_DESCRIPTION.format(category=category.name.lower())]
        description = rng.choice(SPAM if spam else texts)
        report = {
            "category": category,
            "description": description,
            "latitude": lat,
            "longitude": lon,
            "address": self._address(rng, place),
            "unit": place[0],
            "channel": channel,
            "named": named,
            "spam": spam,
        }
        parent = self._submit(report, rng, None)
        followers = 0
        if parent and not spam and self.burst_every and self.leaders % self.burst_every == 0:
            followers = rng.randint(2, 4)
            if self.count:
                followers = min(followers, self.count - self.created)
        after = 0.0
        for _ in range(max(0, followers)):
            self.created += 1
            after += rng.uniform(*DELAYS["burst"])
            follower = random.Random(rng.getrandbits(64))
            f_lat, f_lon = _offset(lat, lon, follower, BURST_JITTER_M)
            copy = dict(report, latitude=f_lat, longitude=f_lon, description=rng.choice(texts))
            copy["channel"], copy["named"] = _channel(follower)
            copy["named"] = copy["named"] or not category.allow_anonymous
            self.at(after, self._follow, copy, follower, parent)

    def _follow(self, report: dict, rng: random.Random, parent: Tracked) -> None:
        """Another citizen reports the same thing from the same spot."""
        self._submit(report, rng, parent)

    def _place(self, rng: random.Random, category: Category) -> tuple:
        if category.code in ("tai-nan", "den-giao-thong") and rng.random() < 0.7:
            roads = [p for p in self.places if p[5]]
            if roads:
                return rng.choice(roads)
        return rng.choices(self.places, weights=self.place_weights)[0]

    def _address(self, rng: random.Random, place: tuple) -> str:
        unit, _lat, _lon, where, numbered, _road = place
        ward = unit.name[:1].lower() + unit.name[1:]
        where = where.format(n=rng.randint(1, 12))
        if numbered:
            where = f"{rng.choice(['Trước nhà số', 'Đối diện số', 'Gần số'])} {rng.randint(2, 480)} {where}"
        return f"{where[:1].upper()}{where[1:]}, {ward}"

    def _submit(self, report: dict, rng: random.Random, parent: Tracked | None) -> Tracked | None:
        fields = dict(report)
        named, spam = fields.pop("named"), fields.pop("spam")
        if named:
            fields["reporter_name"], fields["reporter_phone"] = _person(rng)
        category = fields["category"]
        try:
            made, secret = services.report_submit(
                **fields, user=self.operator if fields["channel"] == Channel.HOTLINE else None
            )
        except Exception as exc:
            survive(exc, "submit", self.say)
            return None
        if spam:
            goal = "reject"
        elif parent:
            goal = "duplicate" if rng.random() < 0.8 else "leave_received"
        else:
            goal = rng.choices([g for g, _w in GOALS], weights=[w for _g, w in GOALS])[0]
        tracked = Tracked(
            report_id=made.pk,
            code=made.tracking_code,
            secret=secret,
            rng=rng,
            goal=goal,
            urgent=made.level == Level.URGENT,
            parent_id=parent.report_id if parent else None,
            parent_code=parent.code if parent else "",
        )
        if goal not in ("reject", "duplicate", "leave_received"):
            if rng.random() < 0.15:
                tracked.new_level = rng.choice([lv for lv in Level.values if lv != made.level])
            if goal in ("resolved", "closed") and rng.random() < 0.6:
                tracked.rating = rng.choices([3, 4, 5], weights=[15, 35, 50])[0]
            tracked.slow = goal != "leave_assigned" and rng.random() < 0.1
        who = "anonymous" if not made.reporter_phone else "named"
        burst = f", same spot as {parent.code}" if parent else ""
        self.say(f"new {made.tracking_code} [{category.code}] {made.address} ({made.channel}, {who}){burst}")
        self.at(_pause(rng, "triage", tracked.urgent), self._advance, tracked)
        return tracked

    # --- the people who handle reports ------------------------------------------------------

    def _advance(self, t: Tracked) -> float | None:
        """One step of the report's handling; a failed step is tried again a few times, then dropped."""
        try:
            pause = self._step(t)
        except Exception as exc:
            survive(exc, f"{t.code} step", self.say)
            t.failures += 1
            return _pause(t.rng, "retry") if t.failures < MAX_FAILURES else None
        t.failures = 0
        return pause

    def _handler(self, unit_id: int) -> User:
        """Someone from the unit itself; the operator acts for units that have nobody."""
        if unit_id not in self.handlers:
            people = User.objects.filter(home_unit_id=unit_id, is_active=True).order_by("username")
            self.handlers[unit_id] = (
                people.filter(groups__name=UNIT_STAFF).first()
                or people.filter(groups__name=LEADER).first()
                or self.operator
            )
        return self.handlers[unit_id]

    def _step(self, t: Tracked) -> float | None:
        """Take the report one step further, by its current status; the pause before the next step."""
        report = Report.objects.select_related("category", "unit", "assigned_unit").filter(pk=t.report_id).first()
        if report is None:
            return None
        status, rng, op = report.status, t.rng, self.operator
        if status == Status.RECEIVED:
            if t.goal == "leave_received":
                self.say(f"{t.code} left waiting for triage")
                return None
            # The operator opens the report in the console: the triage suggestion is made and shown.
            suggestion = services.triage_suggestion(report)
            if t.goal == "reject":
                services.report_reject(report_id=t.report_id, user=op, reason=REJECT_REASON)
                self.say(f"{t.code} rejected as spam")
                return None
            if t.goal == "duplicate" and t.parent_id:
                services.report_mark_duplicate(report_id=t.report_id, user=op, parent_id=t.parent_id)
                self.say(f"{t.code} marked duplicate of {t.parent_code}")
                return None
            level = t.new_level
            agrees = suggestion.category_id == report.category_id and (level or report.level) == suggestion.level
            if suggestion.shown and agrees and suggestion.unit_id:
                services.report_take_suggestion(report_id=t.report_id, user=op)
                self.say(f"{t.code} triaged with the suggestion ({suggestion.source})")
                t.urgent = suggestion.level == Level.URGENT
                return _pause(rng, "start", t.urgent)
            note = LEVEL_NOTES[level] if level else ""
            services.report_accept(report_id=t.report_id, user=op, level=level, note=note)
            self.say(f"{t.code} accepted" + (f", level {level}" if level else ""))
            t.urgent = (level or report.level) == Level.URGENT
            return _pause(rng, "assign")
        if status == Status.ACCEPTED:
            category = self.categories.get(report.category_id) or report.category
            unit = category.department or report.unit
            services.report_assign(report_id=t.report_id, user=op, unit=unit, note=rng.choice(ASSIGN_NOTES))
            self.say(f"{t.code} assigned to {unit.name}")
            return _pause(rng, "start", t.urgent)
        unit = report.assigned_unit
        if status == Status.ASSIGNED:
            if t.goal == "leave_assigned" or unit is None:
                self.say(f"{t.code} left unanswered at {unit.name if unit else 'triage'}")
                return None
            if t.slow or rng.random() < 0.7:
                services.report_start(report_id=t.report_id, user=self._handler(unit.pk), note=rng.choice(START_NOTES))
                self.say(f"{t.code} work started by {unit.name}")
                return self._answer_pause(t, report)
            self._answer(t, report)
            return _pause(rng, "start", t.urgent)
        if status == Status.ANSWERED:
            if t.goal == "leave_in_progress":
                self.say(f"{t.code} left answered, not resolved")
                return None
            services.report_start(report_id=t.report_id, user=self._handler(unit.pk), note=rng.choice(START_NOTES))
            self.say(f"{t.code} work started by {unit.name}")
            return _pause(rng, "resolve")
        if status == Status.IN_PROGRESS:
            if report.first_answered_at is None:
                self._answer(t, report)
                if t.goal == "leave_in_progress":
                    self.say(f"{t.code} left in progress")
                    return None
                return _pause(rng, "resolve")
            if t.goal == "leave_in_progress":
                return None
            texts = RESOLUTIONS.get(report.category.code) or [GENERIC_RESOLUTION]
            services.report_resolve(report_id=t.report_id, user=self._handler(unit.pk), note=rng.choice(texts))
            self.say(f"{t.code} resolved by {unit.name}")
            if t.rating:
                return _pause(rng, "rate")
            return _pause(rng, "close") if t.goal == "closed" else None
        if status in (Status.RESOLVED, Status.CLOSED):
            if t.rating and not t.rated and report.rating is None:
                comment = rng.choice(RATING_COMMENTS[t.rating])
                services.report_rate(tracking_code=t.code, secret=t.secret, rating=t.rating, comment=comment)
                t.rated = True
                self.say(f"{t.code} rated {t.rating}/5 by the citizen")
                return _pause(rng, "close") if status == Status.RESOLVED and t.goal == "closed" else None
            if status == Status.RESOLVED and t.goal == "closed":
                services.report_close(report_id=t.report_id, user=op)
                self.say(f"{t.code} closed")
        return None

    def _answer(self, t: Tracked, report: Report) -> None:
        unit = report.assigned_unit
        texts = ANSWERS.get(report.category.code, []) + GENERIC_ANSWERS
        text = t.rng.choice(texts).format(who=_who(unit))
        services.report_answer(report_id=t.report_id, user=self._handler(unit.pk), text=text)
        late = report.response_due_at and timezone.now() > report.response_due_at
        self.say(f"{t.code} answered by {unit.name}" + (" (late)" if late else ""))

    def _answer_pause(self, t: Tracked, report: Report) -> float:
        """Usually prompt; a slow unit answers only after the response deadline (up to 4 hours away)."""
        if t.slow and report.response_due_at:
            left = (report.response_due_at - timezone.now()).total_seconds()
            if 0 < left < 4 * 3600:
                return left + t.rng.uniform(300, 2400)
        return _pause(t.rng, "answer", t.urgent)


def demo_catalogue():
    """The demo city's catalogue as the triage rules read it (manage.py triage_eval uses it by default)."""
    from reports.triage import WARD, CatalogueEntry, parse_keywords

    return [
        CatalogueEntry(code, parse_keywords(KEYWORDS.get(code, "")), level, department or WARD)
        for code, _group, _name, _en, department, level, _anonymous in CATEGORIES
    ]
