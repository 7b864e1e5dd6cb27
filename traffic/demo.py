"""Demo data for the camera subsystems: the demo cameras on Đồng Nai roads (QL1A, QL20, the Long Khánh
centre, Biên Hòa; idempotent), and the demo feed that reports on them as a vendor system would
(`TrafficFeed`).

The feed sends everything through `traffic.services.ingest_events` (source "demo-feed"), the path that
POST /api/v1/traffic/events/ takes too:

- heartbeats from every active demo camera every 30 s, and vehicle counts (with the average
  speed) from every traffic camera every minute;
- violations on the QL1A, QL20, Long Khánh and Biên Hòa cameras (red light, no helmet, wrong
  lane, illegal parking...) with Vietnamese plates and speeds: about three times as many at rush
  hours (07:00-08:30 and 16:30-18:00 local time), few at night;
- congestion at rush hours (speeds falling well below the road's free-flow speed for a quarter of
  an hour, then recovering), rare accidents, which often leave congestion behind them;
- security cameras: crowds and loitering now and then, intrusion at night, rarely fire or smoke;
- every few minutes a storm, 300 events in a few seconds from one camera, which the platform
  folds into one incident and turns into a few coalesced screen updates;
- incidents' events (accidents, congestion, security) come with a drawn snapshot marked DEMO, so
  the incidents page has something to show; violations and counts have none, as records;
- now and then one camera goes silent for longer than its offline limit, so that the health
  sweep (Celery beat, every minute) marks it offline; it comes back by itself later.

`--speed` divides the pauses between events (the silent spells stay long enough, on the clock,
for the sweep to notice).
"""

import io
import itertools
import logging
import math
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from ioc.feeds import DemoDataMissing, Feed
from ioc.models import Unit
from ioc.scope import EVERYTHING
from traffic import services
from traffic.models import Camera, CameraEvent

log = logging.getLogger(__name__)

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


# --- the demo feed -----------------------------------------------------------------------------

SOURCE = "demo-feed"

# --- when: pauses in seconds of demo time (divided by --speed) -----------------------------------
HEARTBEAT_EVERY = 30.0
COUNT_EVERY = 60.0
CONGESTION_CHECK_EVERY = 120.0
CONGESTION_STEP = 60.0  # one congestion report a minute while a queue lasts
CAMERA_REFRESH_EVERY = 300.0  # an administrator may add, deactivate or move cameras
RETRY_PAUSE = 30.0
VIOLATIONS_PER_HOUR = 18.0  # per traffic camera on an ordinary daytime hour
ACCIDENTS_PER_HOUR = 0.5  # over all traffic cameras, ordinary daytime hour
SECURITY_EVENTS_PER_HOUR = 8.0  # crowds and loitering over all security cameras
FIRES_PER_HOUR = 0.15
FIRST_BURST = (45.0, 120.0)
BURST_EVERY = (180.0, 420.0)
BURST_SIZE = 300
BURST_CHUNK = 50  # events per call while a storm lasts
BURST_CHUNK_PAUSE = 0.5  # so a storm of 300 takes about three seconds
FIRST_SILENCE = (600.0, 1200.0)
SILENCE_EVERY = (1200.0, 2700.0)
SILENCE_MARGIN = (90.0, 240.0)  # wall-clock seconds beyond the offline limit (the sweep runs every minute)

RUSH_HOURS = ((clock(7, 0), clock(8, 30)), (clock(16, 30), clock(18, 0)))
RUSH_LEVEL = 3.0
NIGHT_LEVEL = 0.2
EARLY_LEVEL = 0.6  # 05:00-06:30 and 21:00-22:00


@dataclass(frozen=True)
class Road:
    free_flow: float  # km/h
    vehicles_per_minute: float  # both directions, ordinary daytime hour
    weight: float  # share of the violations
    highway: bool
    directions: tuple[str, str]


ROADS = {
    "QL1A": Road(60, 55, 3.0, True, ("Hướng TP.HCM", "Hướng Phan Thiết")),
    "QL20": Road(60, 35, 2.0, True, ("Hướng Dầu Giây", "Hướng Đà Lạt")),
    "Đồng Khởi": Road(50, 60, 2.0, False, ("Hướng Tân Phong", "Hướng Tam Hiệp")),
    "Phạm Văn Thuận": Road(50, 50, 1.5, False, ("Hướng cầu Hóa An", "Hướng Tam Hiệp")),
}
CITY_ROAD = Road(40, 28, 1.2, False, ("Chiều đi", "Chiều về"))

# --- what: violations by kind, vehicles by violation --------------------------------------------
VIOLATIONS_HIGHWAY = {
    "wrong_lane": 30,
    "red_light": 20,
    "no_helmet": 16,
    "illegal_parking": 8,
    "no_seat_belt": 9,
    "phone_use": 5,
    "wrong_way": 6,
    "covered_plate": 4,
}
VIOLATIONS_CITY = {
    "no_helmet": 30,
    "red_light": 24,
    "illegal_parking": 20,
    "wrong_lane": 12,
    "wrong_way": 6,
    "phone_use": 4,
    "no_seat_belt": 2,
    "covered_plate": 1,
}
VEHICLES = {
    "red_light": {"motorbike": 65, "car": 28, "truck": 7},
    "no_helmet": {"motorbike": 1},
    "wrong_lane": {"motorbike": 45, "car": 40, "truck": 15},
    "wrong_way": {"motorbike": 85, "car": 15},
    "illegal_parking": {"car": 60, "truck": 30, "motorbike": 10},
    "no_seat_belt": {"car": 80, "truck": 20},
    "phone_use": {"car": 55, "motorbike": 45},
    "covered_plate": {"truck": 60, "motorbike": 40},
}
SPEEDS = {"motorbike": (22, 55), "car": (30, 75), "truck": (25, 60)}  # km/h when moving
ZONES = {"motorbike": ["Làn xe máy", "Làn hỗn hợp"], "car": ["Làn 1", "Làn 2", "Làn ô tô"], "truck": ["Làn 2"]}
VEHICLE_MIX = {"motorbike": 0.72, "car": 0.2, "truck": 0.08}

# --- plates: province codes seen on these roads -------------------------------------------------
PLATE_PROVINCES = {"60": 46, "39": 6, "93": 4, "51": 8, "59": 4, "61": 8, "72": 7, "86": 5, "49": 3, "63": 2}
ROAD_PLATE_BIAS = {"QL20": {"49": 10}, "QL1A": {"86": 9, "51": 12}}
CAR_SERIES = {"car": {"A": 85, "D": 8, "LD": 7}, "truck": {"C": 85, "D": 10, "LD": 5}}
MOTORBIKE_LETTERS = "BFGHKLNPSTUVXYZ"
MOPED_SHARE = 0.06  # under 50 cm3
MOPED_SERIES = ["AA", "AB", "AC", "AD", "AE", "AH", "AK"]
OLD_PLATE_SHARE = {"motorbike": 0.15, "car": 0.05, "truck": 0.05}  # four digits, before 2010-2012

# --- security cameras ----------------------------------------------------------------------------
SECURITY_ZONES = {
    "LK-SEC-01": ["Khu vực sân khấu", "Cổng chính", "Bãi đỗ xe"],
    "LK-SEC-02": ["Cổng chính", "Lối vào nhà lồng", "Dãy hàng ăn"],
    "LK-SEC-03": ["Bến đón khách", "Phòng chờ", "Bãi đỗ xe"],
    "BH-SEC-01": ["Lối vào", "Khu vực hồ", "Sân chơi thiếu nhi"],
}
DEFAULT_ZONES = ["Khu vực 1", "Khu vực 2"]


def is_rush_hour(at: datetime) -> bool:
    now = timezone.localtime(at).time() if timezone.is_aware(at) else at.time()
    return any(start <= now < end for start, end in RUSH_HOURS)


def traffic_level(at: datetime) -> float:
    """How busy the roads are at `at` (local time): 1 on an ordinary daytime hour."""
    if is_rush_hour(at):
        return RUSH_LEVEL
    now = timezone.localtime(at).time() if timezone.is_aware(at) else at.time()
    if now >= clock(22) or now < clock(5):
        return NIGHT_LEVEL
    if now < clock(6, 30) or now >= clock(21):
        return EARLY_LEVEL
    return 1.0


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plate(rng: random.Random, vehicle: str, road: str = "") -> str:
    """A Vietnamese licence plate as cameras read it: "60A-123.45" (car), "60B2-456.78" (motorbike)."""
    provinces = {**PLATE_PROVINCES}
    for code, extra in ROAD_PLATE_BIAS.get(road, {}).items():
        provinces[code] = provinces.get(code, 0) + extra
    province = _pick(rng, provinces)
    if vehicle == "motorbike" and rng.random() < MOPED_SHARE:
        series = rng.choice(MOPED_SERIES)
    elif vehicle == "motorbike":
        series = f"{rng.choice(MOTORBIKE_LETTERS)}{rng.randint(1, 9)}"
    else:
        series = _pick(rng, CAR_SERIES[vehicle])
    if rng.random() < OLD_PLATE_SHARE[vehicle]:
        return f"{province}{series}-{rng.randint(1000, 9999)}"
    return f"{province}{series}-{rng.randint(0, 999):03d}.{rng.randint(0, 99):02d}"


def demo_frame(rng: random.Random, camera: str, kind: str) -> ContentFile:
    """A small drawn frame standing in for a camera's snapshot: a road, a few vehicles, the detection
    box, and DEMO with the camera and the time written on it, so nobody takes it for a real one."""
    width, height = 640, 360
    image = Image.new("RGB", (width, height), (70, 84, 98))
    draw = ImageDraw.Draw(image)
    draw.polygon([(250, 110), (390, 110), (width, height), (0, height)], fill=(48, 50, 54))
    for lane in (0.35, 0.65):
        top, bottom = 250 + 140 * lane, width * lane
        draw.line([(top, 112), (bottom, height)], fill=(220, 220, 200), width=3)
    many = 14 if kind == "congestion" else 4
    for _n in range(many):
        y = rng.uniform(130, 320)
        spread = (y - 110) / (height - 110)
        x = 320 + rng.uniform(-0.45, 0.45) * (140 + 500 * spread)
        w, h = 18 + 50 * spread, 12 + 30 * spread
        colour = rng.choice([(200, 40, 40), (230, 230, 230), (40, 90, 180), (30, 30, 30), (220, 180, 40)])
        draw.rectangle([x - w / 2, y - h / 2, x + w / 2, y + h / 2], fill=colour)
    box = (rng.uniform(150, 380), rng.uniform(160, 230))
    draw.rectangle([box[0], box[1], box[0] + 120, box[1] + 80], outline=(255, 60, 60), width=3)
    font = ImageFont.load_default(size=20)
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    draw.rectangle([0, 0, width, 30], fill=(0, 0, 0))
    draw.text((8, 5), f"DEMO  {camera}  {stamp}", fill=(255, 255, 255), font=font)
    draw.text((box[0], box[1] - 24), kind, fill=(255, 90, 90), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return ContentFile(out.getvalue(), name=f"demo-{camera}-{int(time.time() * 1000)}.jpg")


@dataclass(frozen=True)
class DemoCamera:
    code: str
    name: str
    purpose: str
    road: str
    offline_minutes: int

    @property
    def profile(self) -> Road:
        return ROADS.get(self.road, CITY_ROAD)


@dataclass
class Queue:
    """Congestion on one camera: the share of free-flow speed, minute by minute."""

    camera: DemoCamera
    shares: list[float]
    cause: str
    step: int = 0


@dataclass
class Storm:
    camera: DemoCamera
    kind: str
    number: int
    started: float
    sent: int = 0
    ids: list[int] = field(default_factory=list)


class TrafficFeed(Feed):
    """The demo cameras' events, as a vendor system sends them (see the module's docstring)."""

    def __init__(self, *, verbose: bool = False, **common):
        super().__init__(**common)
        self.verbose = verbose  # one line per violation too
        # external ids unique across runs (seeded runs repeat their content, not their ids)
        self.run_id = f"{int(time.time()):x}{os.urandom(2).hex()}"
        self.numbers = itertools.count(1)
        self.cameras: list[DemoCamera] = []
        self.silent: dict[str, float] = {}  # camera code -> monotonic time it speaks again
        self.queues: dict[str, Queue] = {}
        self.storms = 0
        self.sent: Counter = Counter()  # stored or accepted items, by kind
        self.minute: Counter = Counter()
        self.refused = 0

    def load(self) -> None:
        if not self.load_cameras():
            raise DemoDataMissing("the demo cameras (or all of them are inactive)")

    def start(self) -> None:
        cameras, speed = self.cameras, self.scheduler.speed
        traffic = sum(1 for c in cameras if c.purpose == "traffic")
        self.say(
            f"feeding {len(cameras)} demo cameras ({traffic} traffic, {len(cameras) - traffic} security) "
            f"as “{SOURCE}”" + (f", {speed:g}x speed" if speed != 1 else "")
        )
        rng = self.rng
        # Recurring tasks that fail are tried again later; one-off steps (a queue, a storm) are dropped.
        for seconds, task in (
            (0, self.task_heartbeats),
            (rng.uniform(5, 20), self.task_counts),
            (self._violation_pause(), self.task_violation),
            (rng.uniform(20, 90), self.task_congestion),
            (self._pause_per_hour(ACCIDENTS_PER_HOUR * self._level()), self.task_accident),
            (self._pause_per_hour(SECURITY_EVENTS_PER_HOUR), self.task_security),
            (self._pause_per_hour(FIRES_PER_HOUR), self.task_fire),
            (rng.uniform(*FIRST_BURST), self.task_storm),
            (rng.uniform(*FIRST_SILENCE), self.task_silence),
            (CAMERA_REFRESH_EVERY, self.task_refresh),
        ):
            self.at(seconds, task, retry=RETRY_PAUSE)

    def summary(self) -> str:
        stored = sum(n for kind, n in self.sent.items() if kind != "heartbeat")
        return f"done: {stored} events, {self.sent['heartbeat']} heartbeats, {self.storms} storms"

    # --- cameras ----------------------------------------------------------------------------

    def load_cameras(self) -> list[DemoCamera]:
        codes = [c[0] for c in CAMERAS]
        rows = Camera.objects.filter(code__in=codes, active=True).order_by("code")
        self.cameras = [
            DemoCamera(
                code=c.code,
                name=c.name,
                purpose=c.purpose,
                road=c.road,
                offline_minutes=c.offline_after_minutes or settings.IOC_CAMERA_OFFLINE_MINUTES,
            )
            for c in rows
            if c.purpose in ("traffic", "security")
        ]
        return self.cameras

    def speaking(self, purpose: str | None = None) -> list[DemoCamera]:
        """Active demo cameras that are not in a silent spell (of one purpose, or all)."""
        now = time.monotonic()
        return [
            c for c in self.cameras if (purpose is None or c.purpose == purpose) and self.silent.get(c.code, 0.0) <= now
        ]

    # --- items ------------------------------------------------------------------------------

    def item(self, camera: DemoCamera, kind: str, *, ago: float | None = None, tag: str = "", **fields) -> dict:
        """One event as a vendor system sends it, detected `ago` seconds before it is sent."""
        ago = self.rng.uniform(0.2, 1.5) if ago is None else ago
        at = timezone.now() - timedelta(seconds=ago)
        external = f"{self.run_id}-{tag}{next(self.numbers):07d}"
        return {
            "camera": camera.code,
            "kind": kind,
            "external_id": external,
            "occurred_at": at.isoformat(),
            **fields,
        }

    def ingest(self, items: list[dict], snapshot: bool = False) -> list[dict]:
        """Send items as the vendor would; `snapshot`: a drawn frame with the first one (an incident's)."""
        frames = {0: demo_frame(self.rng, items[0]["camera"], items[0]["kind"])} if snapshot and items else None
        results = services.ingest_events(source=SOURCE, items=items, scope=EVERYTHING, snapshots=frames)
        for item, result in zip(items, results, strict=True):
            if result["status"] in ("created", "accepted"):
                self.sent[item["kind"]] += 1
                self.minute[item["kind"]] += 1
            elif result["status"] == "error":
                self.refused += 1
                log.warning("demo event refused: %s", result["errors"])
                if self.refused <= 5:
                    self.say(f"event refused ({item['kind']} @ {item['camera']}): {result['errors']}")
        return results

    # --- rates ------------------------------------------------------------------------------

    def _level(self) -> float:
        return traffic_level(timezone.now())

    def _pause_per_hour(self, per_hour: float) -> float:
        return self.rng.expovariate(per_hour / 3600) if per_hour > 0 else 3600.0

    def _violation_pause(self) -> float:
        cameras = len(self.speaking("traffic")) or 1
        return self._pause_per_hour(VIOLATIONS_PER_HOUR * cameras * self._level())

    def _traffic_camera(self, cameras: list[DemoCamera]) -> DemoCamera:
        return self.rng.choices(cameras, weights=[c.profile.weight for c in cameras])[0]

    # --- tasks: each returns the pause before it runs again (None: not again) ----------------

    def task_heartbeats(self) -> float:
        now = time.monotonic()
        for code, until in list(self.silent.items()):
            if until <= now:
                del self.silent[code]
                self.say(f"{code} speaks again")
        cameras = self.speaking()
        if cameras:
            self.ingest([self.item(c, "heartbeat", ago=0.0) for c in cameras])
        return HEARTBEAT_EVERY

    def task_counts(self) -> float:
        rng, level = self.rng, self._level()
        cameras = self.speaking("traffic")
        items, vehicles = [], 0
        for camera in cameras:
            road = camera.profile
            queue = self.queues.get(camera.code)
            flow = road.vehicles_per_minute * min(level, 2.2) * rng.lognormvariate(0, 0.15)
            if queue is not None:
                share = queue.shares[min(queue.step, len(queue.shares) - 1)]
                flow *= 0.4 + share  # a queue lets fewer vehicles through
            else:
                share = rng.uniform(0.65, 0.85) if level >= RUSH_LEVEL else rng.uniform(0.8, 1.0)
            count = max(0, round(flow))
            motorbikes = round(count * VEHICLE_MIX["motorbike"] * rng.uniform(0.9, 1.1))
            motorbikes = min(count, motorbikes)
            trucks = min(count - motorbikes, round(count * VEHICLE_MIX["truck"] * (1.5 if road.highway else 0.6)))
            items.append(
                self.item(
                    camera,
                    "vehicle_count",
                    vehicle_count=count,
                    avg_speed_kmh=round(road.free_flow * share * rng.uniform(0.95, 1.05), 1),
                    data={
                        "period_seconds": 60,
                        "motorbikes": motorbikes,
                        "cars": count - motorbikes - trucks,
                        "trucks": trucks,
                    },
                )
            )
            vehicles += count
        if items:
            self.ingest(items)
        violations = sum(n for kind, n in self.minute.items() if kind in VEHICLES)
        rush = ", rush hour" if level >= RUSH_LEVEL else ""
        self.say(
            f"last minute: {violations} violation{'' if violations == 1 else 's'}, "
            f"{vehicles} vehicles counted on {len(items)} cameras{rush}"
        )
        self.minute.clear()
        return COUNT_EVERY

    def task_violation(self) -> float:
        cameras = self.speaking("traffic")
        if cameras:
            rng = self.rng
            camera = self._traffic_camera(cameras)
            road = camera.profile
            kind = _pick(rng, VIOLATIONS_HIGHWAY if road.highway else VIOLATIONS_CITY)
            vehicle = _pick(rng, VEHICLES[kind])
            fields = {
                "score": round(rng.uniform(0.78, 0.99), 2),
                "zone": rng.choice(ZONES[vehicle]),
                "data": {"vehicle": vehicle, "direction": rng.choice(road.directions)},
            }
            if kind != "covered_plate":  # nothing legible to read
                fields["plate"] = plate(rng, vehicle, camera.road)
            if kind == "illegal_parking":
                fields["speed_kmh"] = 0.0
                fields["data"]["stopped_seconds"] = rng.randint(180, 1800)
            else:
                low, high = SPEEDS[vehicle]
                if camera.code in self.queues:
                    high = max(low + 1, high / 3)
                fields["speed_kmh"] = round(rng.uniform(low, high), 1)
            self.ingest([self.item(camera, kind, **fields)])
            if self.verbose:
                self.say(f"{kind} {fields.get('plate') or '(plate covered)'} {vehicle} @ {camera.code}")
        return self._violation_pause()

    def task_congestion(self) -> float:
        """Queues start at rush hour on busy roads; off-peak rarely, at night never."""
        level = self._level()
        chance = 0.10 if level >= RUSH_LEVEL else (0.004 if level >= 1 else 0.0)
        for camera in self.speaking("traffic"):
            if camera.code not in self.queues and self.rng.random() < chance * camera.profile.weight / 2:
                self.start_queue(camera, "rush hour" if level >= RUSH_LEVEL else "heavy traffic")
        return CONGESTION_CHECK_EVERY

    def start_queue(self, camera: DemoCamera, cause: str, deep: bool = False) -> None:
        rng = self.rng
        minutes = rng.randint(8, 20)
        bottom = rng.uniform(0.05, 0.15) if deep else rng.uniform(0.12, 0.4)
        # down in a third of the time, a while at the bottom, then back towards free flow
        shares = []
        for i in range(minutes):
            x = i / max(1, minutes - 1)
            dip = math.sin(math.pi * min(1.0, x * 1.4)) if x < 0.72 else (1 - x) / 0.28 * 0.7
            shares.append(round(max(0.03, 0.7 - (0.7 - bottom) * dip + rng.uniform(-0.03, 0.03)), 3))
        queue = Queue(camera=camera, shares=shares, cause=cause)
        self.queues[camera.code] = queue
        self.say(f"congestion building at {camera.code} ({cause}), about {minutes} min")
        self.at(0, self.task_queue_step, queue)

    def task_queue_step(self, queue: Queue) -> float | None:
        camera = queue.camera
        if queue.step >= len(queue.shares) or self.silent.get(camera.code, 0.0) > time.monotonic():
            self.queues.pop(camera.code, None)
            self.say(f"traffic flows again at {camera.code}")
            return None
        road = camera.profile
        share = queue.shares[queue.step]
        item = self.item(
            camera,
            "congestion",
            avg_speed_kmh=round(road.free_flow * share, 1),
            free_flow_kmh=road.free_flow,
            data={"queue_length_m": round((1 - share) * self.rng.uniform(300, 900)), "cause": queue.cause},
        )
        try:
            self.ingest([item], snapshot=True)
        except Exception:
            self.queues.pop(camera.code, None)  # a failed step ends the queue: the camera may start another
            raise
        queue.step += 1
        return CONGESTION_STEP

    def task_accident(self) -> float:
        cameras = self.speaking("traffic")
        if cameras:
            rng = self.rng
            camera = self._traffic_camera(cameras)
            involved = rng.sample(["motorbike", "motorbike", "car", "truck"], k=2)
            self.ingest(
                [
                    self.item(
                        camera,
                        "accident",
                        score=round(rng.uniform(0.7, 0.95), 2),
                        zone=rng.choice(ZONES[involved[0]]),
                        plate=plate(rng, involved[0], camera.road),
                        data={
                            "vehicles": involved,
                            "plates": [plate(rng, v, camera.road) for v in involved],
                            "direction": rng.choice(camera.profile.directions),
                        },
                    )
                ],
                snapshot=True,
            )
            self.say(f"accident at {camera.code}: {' and '.join(involved)}")
            if camera.code not in self.queues and rng.random() < 0.7:
                self.start_queue(camera, "accident", deep=True)
        return self._pause_per_hour(ACCIDENTS_PER_HOUR * self._level())

    def task_security(self) -> float:
        cameras = self.speaking("security")
        if cameras:
            rng = self.rng
            camera = rng.choice(cameras)
            hour = timezone.localtime().hour
            night = hour >= 22 or hour < 5
            kind = _pick(rng, {"crowd": 1, "loitering": 2, "intrusion": 3} if night else {"crowd": 3, "loitering": 2})
            data = {
                "crowd": lambda: {"people": rng.randint(25, 140)},
                "loitering": lambda: {"dwell_seconds": rng.randint(300, 1800)},
                "intrusion": lambda: {"people": rng.randint(1, 3)},
            }[kind]()
            zone = rng.choice(SECURITY_ZONES.get(camera.code, DEFAULT_ZONES))
            item = self.item(camera, kind, score=round(rng.uniform(0.7, 0.97), 2), zone=zone, data=data)
            self.ingest([item], snapshot=True)
            self.say(f"{kind} at {camera.code} ({zone})")
        return self._pause_per_hour(SECURITY_EVENTS_PER_HOUR)

    def task_fire(self) -> float:
        cameras = self.speaking("security")
        if cameras:
            camera = self.rng.choice(cameras)
            zone = self.rng.choice(SECURITY_ZONES.get(camera.code, DEFAULT_ZONES))
            self.ingest(
                [self.item(camera, "fire_smoke", score=round(self.rng.uniform(0.8, 0.98), 2), zone=zone, data={})],
                snapshot=True,
            )
            self.say(f"fire or smoke at {camera.code} ({zone})")
        return self._pause_per_hour(FIRES_PER_HOUR)

    def task_storm(self) -> float:
        """A camera's analytics firing on every frame: BURST_SIZE events in a few seconds."""
        cameras = self.speaking()
        if cameras:
            camera = self.rng.choice(cameras)
            kind = "congestion" if camera.purpose == "traffic" else "crowd"
            self.storms += 1
            storm = Storm(camera=camera, kind=kind, number=self.storms, started=time.monotonic())
            self.say(f"storm {storm.number}: {BURST_SIZE} {kind} events from {camera.code} in a few seconds")
            self.at(0, self.task_storm_chunk, storm)
        return self.rng.uniform(*BURST_EVERY)

    def task_storm_chunk(self, storm: Storm) -> float | None:
        rng, camera = self.rng, storm.camera
        size = min(BURST_CHUNK, BURST_SIZE - storm.sent)
        items = []
        for i in range(size):
            ago = (size - i) * BURST_CHUNK_PAUSE / size  # spread over the chunk's half second
            if storm.kind == "congestion":
                free = camera.profile.free_flow
                fields = {"avg_speed_kmh": round(free * rng.uniform(0.05, 0.2), 1), "free_flow_kmh": free}
            else:
                fields = {"data": {"people": rng.randint(60, 200)}, "score": round(rng.uniform(0.6, 0.9), 2)}
            items.append(self.item(camera, storm.kind, ago=ago, tag=f"storm{storm.number}-", **fields))
        results = self.ingest(items)
        storm.ids.extend(r["id"] for r in results if r["status"] == "created")
        storm.sent += size
        if storm.sent < BURST_SIZE:
            return BURST_CHUNK_PAUSE
        incidents = set(
            CameraEvent.objects.filter(pk__in=storm.ids).exclude(incident=None).values_list("incident", flat=True)
        )
        seconds = time.monotonic() - storm.started
        folded = ", ".join(f"#{pk}" for pk in sorted(incidents)) or "none"
        self.say(f"storm {storm.number} over: {len(storm.ids)} events in {seconds:.1f} s, incident {folded}")
        return None

    def task_silence(self) -> float:
        """One camera stops reporting for longer than its offline limit, on the clock."""
        candidates = [c for c in self.speaking() if c.code not in self.queues]
        if candidates:
            camera = self.rng.choice(candidates)
            seconds = camera.offline_minutes * 60 + self.rng.uniform(*SILENCE_MARGIN)
            self.silent[camera.code] = time.monotonic() + seconds
            self.say(
                f"{camera.code} goes silent for {seconds / 60:.0f} min "
                f"(offline after {camera.offline_minutes} min without a sign of life)"
            )
        return self.rng.uniform(*SILENCE_EVERY)

    def task_refresh(self) -> float:
        before = {c.code for c in self.cameras}
        after = {c.code for c in self.load_cameras()}
        if before != after:
            self.say(f"demo cameras now: {len(after)} active")
        return CAMERA_REFRESH_EVERY
