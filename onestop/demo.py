"""Demo data for the one-stop offices: the offices of the Long Khánh, Bình Lộc and Biên Hòa wards, their
procedures, counters and counter cameras (idempotent), and the demo feed (`OnestopFeed`): the one-stop
software syncs dossiers, the ticketing system sends queue figures, the counter cameras see staff leave
and come back.

The feed goes through the same services as the API: `dossiers_upsert` (full state each time, stamped
with `updated_at`), `queue_figures_record`, and camera events through the cameras' ingestion door
(`ioc.ingest.door("camera_events")`). On start it syncs a backlog of dossiers received over the past
weeks (the same ones on every start, so a restart changes nothing), some of them late, so the
indicators are not empty.
"""

import itertools
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from ioc.feeds import DemoDataMissing, Feed, survive
from ioc.ingest import door
from ioc.models import Unit
from ioc.scope import EVERYTHING
from ioc.worktime import DurationUnit, WorkCalendar, due_at
from onestop.models import Counter, Office, Procedure
from onestop.services import dossiers_upsert, queue_figures_record

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


# --- the demo feed -----------------------------------------------------------------------------

HEARTBEAT_EVERY = 30  # seconds between queue figures and counter-camera heartbeats
BACKLOG = 40
UNIT_WEIGHTS = {"26080": 5, "26089": 2, "26068": 4}
PROCEDURE_WEIGHTS = {"1.001193": 5, "2.000815": 8, "2.000884": 3, "1.000894": 1, "1.004227": 3, "1.003003": 1,
                     "2.000720": 2}  # fmt: skip
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Quốc", "Thanh", "Hữu", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hoa", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam", "Trang"]
# Pauses (seconds, before --speed) between the steps of a new dossier.
STEP_PAUSE = (60, 600)


class OnestopFeed(Feed):
    """Dossiers filed and taken through their steps, queue figures and counter cameras; with a `count`,
    the feed ends once that many new dossiers are made and their steps are done."""

    def __init__(self, *, interval: float = 45.0, count: int = 0, backlog: bool = True, **common):
        super().__init__(**common)
        self.interval, self.count, self.backlog = interval, count, backlog
        self.sequence = itertools.count()
        self.created = self.pending = 0  # dossiers made; steps and camera events still to come
        self.run_id = timezone.now().strftime("%y%m%d%H%M%S")

    def load(self) -> None:
        self.procedures = {p.code: p for p in Procedure.objects.filter(active=True, code__in=PROCEDURE_WEIGHTS)}
        self.counters = list(Counter.objects.filter(active=True).select_related("camera", "office__unit"))
        units = {o[0] for o in OFFICES}
        self.units = [c for c in UNIT_WEIGHTS if c in units]
        if not self.procedures or not self.counters:
            raise DemoDataMissing("the demo one-stop offices")

    def start(self) -> None:
        if self.backlog:
            self._backlog()
        self.at(0, self._new_dossier)
        self.at(0, self._counters, retry=HEARTBEAT_EVERY)

    def summary(self) -> str:
        return f"done: {self.created} dossiers"

    def _done(self) -> bool:
        return bool(self.count) and self.created >= self.count and not self.pending

    def _later(self, seconds: float, task, *args) -> None:
        self.pending += 1
        self.at(seconds, task, *args)

    # --- dossiers ---------------------------------------------------------------------------

    def _new_state(self, rng: random.Random, code: str, received) -> dict:
        procedure = self.procedures[
            rng.choices(list(self.procedures), [PROCEDURE_WEIGHTS[c] for c in self.procedures])[0]
        ]
        online = rng.random() < 0.45
        return {
            "code": code,
            "procedure": procedure.code,
            "unit": rng.choices(self.units, [UNIT_WEIGHTS[u] for u in self.units])[0],
            "applicant": {
                "name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                "phone": f"09{rng.randint(10_000_000, 99_999_999)}",
            },
            "status": 2,
            "channel": 2 if online else rng.choices([1, 3], [9, 1])[0],
            "submitted_at": (received - timedelta(minutes=rng.randint(5, 600))).isoformat(),
            "received_at": received.isoformat(),
            "has_fees": procedure.has_fees,
            "paid_online": procedure.has_fees and online and rng.random() < 0.7,
            "digitized": rng.random() < 0.75,
            "supplements": [],
            "updated_at": received.isoformat(),
        }

    def _send(self, states: list[dict]) -> None:
        try:
            results = dossiers_upsert(items=states, scope=EVERYTHING)
        except Exception as exc:
            survive(exc, "sync", self.say)
            return
        for result in results:
            if result["status"] == "error":
                self.say(f"{result['code']} refused: {result['errors']}")

    def _backlog(self) -> None:
        """Dossiers received over the past three weeks, each at its final state of today."""
        rng = random.Random(2026)  # the same backlog on every start
        calendar = WorkCalendar.load()
        now = timezone.now()
        states = []
        for n in range(BACKLOG):
            received = timezone.localtime(now - timedelta(days=rng.uniform(0.5, 21))).replace(second=0, microsecond=0)
            state = self._new_state(rng, f"DEMO-B{n:03d}", received)
            procedure = self.procedures[state["procedure"]]
            due = due_at(received, procedure.duration_days or 1, DurationUnit.WORKING_DAYS, calendar)
            state["due_at"] = due.isoformat()
            outcome = rng.choices(["on_time", "late", "open", "supplement"], [70, 10, 12, 8])[0]
            asked = calendar.add_working_time(received, timedelta(hours=2))
            if outcome == "supplement" and asked >= now:
                outcome = "open"  # received just before a long break (Tết): nobody has asked yet
            if outcome == "supplement":
                answered = asked + timedelta(days=rng.uniform(0.5, 3))
                state["supplements"] = [{"requested_at": asked.isoformat(), "supplied_at": None}]
                state["status"] = 5
                if answered < now:
                    state["supplements"][0]["supplied_at"] = answered.isoformat()
                    state["status"] = 4
            elif outcome in ("on_time", "late"):
                span = (due - received) * (rng.uniform(0.3, 0.95) if outcome == "on_time" else rng.uniform(1.1, 1.6))
                ended = received + span
                if ended < now:
                    self._finish(rng, state, ended)
                else:
                    state["status"] = 4
            else:
                state["status"] = 4
            # All these times are local (+07:00), so the text order is the time order.
            state["updated_at"] = max(v for k, v in state.items() if k.endswith("_at") and k != "due_at" and v)
            states.append(state)
        self._send(states)
        self.say(f"backlog of {BACKLOG} dossiers synced")

    @staticmethod
    def _finish(rng: random.Random, state: dict, ended) -> None:
        state["status"] = 10 if rng.random() < 0.8 else 9
        state["processing_ended_at"] = ended.isoformat()
        if state["status"] == 10:
            returned = min(ended + timedelta(minutes=rng.randint(10, 240)), timezone.now())
            state["returned_at"] = timezone.localtime(returned).isoformat()
        state["electronic_result"] = state["digitized"] and rng.random() < 0.8
        mood = rng.random()
        state["satisfaction"] = "satisfied" if mood < 0.8 else "neutral" if mood < 0.95 else "dislike"

    def _new_dossier(self) -> float | None:
        """A citizen files a dossier; the pause before the next, or None once `count` are made."""
        if self.count and self.created >= self.count:
            return None
        self.created += 1
        rng = random.Random(self.rng.getrandbits(64))
        state = self._new_state(rng, f"DEMO-{self.run_id}-{self.created:04d}", timezone.now())
        self._send([state])
        self.say(f"new {state['code']} [{state['procedure']}] at {state['unit']}")
        plan = ["process"]
        if rng.random() < 0.1:
            plan += ["ask", "supply"]
        if rng.random() < 0.85:  # the rest stay in process and may run late
            plan += ["finish"]
        self._later(rng.uniform(*STEP_PAUSE), self._step, state, plan, rng)
        if self.rng.random() < 0.08:
            self._counter_camera()
        return self.rng.expovariate(1 / self.interval) if self.interval else 0.0

    def _step(self, state: dict, plan: list, rng: random.Random) -> float | None:
        """The dossier's next step; the pause before the one after, or None at its last."""
        self.pending -= 1
        step = plan.pop(0)
        now = timezone.now().isoformat()
        if step == "process":
            state["status"] = 4
        elif step == "ask":
            state["status"] = 5
            state["supplements"] = [{"requested_at": now, "supplied_at": None}]
        elif step == "supply":
            state["status"] = 4
            state["supplements"][0]["supplied_at"] = now
        elif step == "finish":
            self._finish(rng, state, timezone.now())
        state["updated_at"] = timezone.now().isoformat()
        self._send([dict(state)])
        self.say(f"{state['code']} status {state['status']}")
        if not plan:
            return None
        self.pending += 1
        return rng.uniform(*STEP_PAUSE)

    # --- counters ---------------------------------------------------------------------------

    def _counters(self) -> float | None:
        """Queue figures and counter-camera heartbeats, every HEARTBEAT_EVERY seconds while the feed works."""
        self._queues()
        self._heartbeats()
        return None if self._done() else HEARTBEAT_EVERY

    def _queues(self) -> None:
        now = timezone.now()
        local = timezone.localtime(now)
        busy = 1.6 if 8 <= local.hour < 11 else 1.0 if 13 <= local.hour < 17 else 0.2
        figures = [
            {
                "counter": c.code,
                "waiting": max(0, int(self.rng.gauss(4 * busy, 2))),
                "average_wait_minutes": round(max(1.0, self.rng.gauss(9 * busy, 3)), 1),
                "at": now.isoformat(),
            }
            for c in self.counters
        ]
        try:
            queue_figures_record(items=figures, scope=EVERYTHING)
        except Exception as exc:
            survive(exc, "queue figures")

    def _heartbeats(self) -> None:
        """The counter cameras say they are alive, or the camera health sweep marks them offline."""
        now = timezone.now().isoformat()
        beats = [
            {"camera": c.camera.code, "kind": "heartbeat", "occurred_at": now} for c in self.counters if c.camera_id
        ]
        if beats:
            try:
                door("camera_events")(source="demo-onestop", items=beats, scope=EVERYTHING)
            except Exception as exc:
                survive(exc, "counter camera heartbeats")

    def _counter_camera(self) -> None:
        counter = self.rng.choice([c for c in self.counters if c.camera_id] or [None])
        if counter is None:
            return
        self._camera_event(counter, "unattended")
        self.say(f"{counter.code}: nobody at the counter")
        self._later(self.rng.uniform(120, 900), self._attended, counter)

    def _attended(self, counter) -> None:
        self.pending -= 1
        self._camera_event(counter, "attended")
        self.say(f"{counter.code}: staff back at the counter")

    def _camera_event(self, counter, kind: str) -> None:
        event = {
            "camera": counter.camera.code,
            "kind": kind,
            "external_id": f"demo-onestop-{self.run_id}-{next(self.sequence)}",
            "occurred_at": timezone.now().isoformat(),
        }
        try:
            door("camera_events")(source="demo-onestop", items=[event], scope=EVERYTHING)
        except Exception as exc:
            survive(exc, "counter camera event")
