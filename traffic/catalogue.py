"""The default catalogue of camera event kinds (code, purpose, name, English name, severity, violation).

Loaded by a data migration; administrators change severities and fold windows in /admin/.
"""

EVENT_KINDS = [
    # traffic: violations reported by AI traffic cameras
    ("red_light", "traffic", "Vượt đèn đỏ", "Red-light running", "info", True),
    ("no_helmet", "traffic", "Không đội mũ bảo hiểm", "No helmet", "info", True),
    ("wrong_lane", "traffic", "Đi sai làn đường", "Wrong lane", "info", True),
    ("bus_lane", "traffic", "Đi vào làn xe buýt", "Bus lane", "info", True),
    ("wrong_way", "traffic", "Đi ngược chiều", "Wrong way", "warning", True),
    ("no_seat_belt", "traffic", "Không thắt dây an toàn", "No seat belt", "info", True),
    ("illegal_parking", "traffic", "Dừng, đỗ xe sai quy định", "Illegal stopping or parking", "info", True),
    ("phone_use", "traffic", "Sử dụng điện thoại khi lái xe", "Phone use while driving", "info", True),
    ("covered_plate", "traffic", "Che, bẻ biển số", "Covered plate", "warning", True),
    # traffic: conditions
    ("congestion", "traffic", "Ùn tắc giao thông", "Congestion", "warning", False),
    ("accident", "traffic", "Tai nạn giao thông", "Accident", "critical", False),
    ("vehicle_count", "traffic", "Lưu lượng phương tiện", "Vehicle count", "info", False),
    # security
    ("crowd", "security", "Tụ tập đông người", "Crowd gathering", "warning", False),
    ("intrusion", "security", "Xâm nhập trái phép", "Intrusion", "warning", False),
    ("fire_smoke", "security", "Cháy, khói", "Fire or smoke", "critical", False),
    ("fight", "security", "Ẩu đả, gây rối", "Fight", "critical", False),
    ("loitering", "security", "Lảng vảng, đi lại bất thường", "Loitering", "info", False),
    ("lost_person", "security", "Người đi lạc", "Lost person", "warning", False),
    # health of every camera
    ("heartbeat", "health", "Tín hiệu hoạt động", "Heartbeat", "info", False),
    ("offline", "health", "Mất kết nối", "Offline", "warning", False),
    ("tamper", "health", "Camera bị che, xoay, phá hoại", "Tampered", "critical", False),
    # one-stop counters watched by a camera
    ("unattended", "counter", "Quầy không có cán bộ", "Counter unattended", "warning", False),
    ("attended", "counter", "Quầy có cán bộ trở lại", "Counter attended", "info", False),
]


def ensure_event_kinds(event_kind_model=None) -> int:
    """Create the kinds of the catalogue that are missing; never changes an existing one."""
    if event_kind_model is None:
        from traffic.models import EventKind as event_kind_model
    created = 0
    for code, purpose, name, name_en, severity, violation in EVENT_KINDS:
        _kind, new = event_kind_model.objects.get_or_create(
            code=code,
            defaults={
                "purpose": purpose,
                "name": name,
                "name_en": name_en,
                "severity": severity,
                "is_violation": violation,
            },
        )
        created += new
    return created
