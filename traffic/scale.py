"""A year of camera events for `manage.py bench_data` (docs/scale.md): the demo cameras' events with the
kinds their purpose reports, plates and speeds on violations, vehicle counts, a daily rhythm with the
rush hours; each event has an external id of its own, as a vendor's would be."""

from ioc import registry, scale
from traffic.models import Camera, CameraEvent, EventKind, Purpose

SOURCE = "bench-scale"
# Share of the events by camera purpose, and of each purpose's events by kind.
PURPOSES = {Purpose.TRAFFIC: 85, Purpose.SECURITY: 10, Purpose.COUNTER: 5}
KINDS = {
    Purpose.TRAFFIC: {
        "red_light": 14, "no_helmet": 18, "wrong_lane": 14, "illegal_parking": 10, "wrong_way": 5, "phone_use": 4,
        "no_seat_belt": 5, "bus_lane": 3, "covered_plate": 2, "vehicle_count": 23, "congestion": 1.8, "accident": 0.2,
    },
    Purpose.SECURITY: {"crowd": 40, "loitering": 30, "intrusion": 15, "fight": 5, "fire_smoke": 2, "lost_person": 8},
    Purpose.COUNTER: {"attended": 70, "unattended": 30},
}  # fmt: skip
# Traffic by hour: the morning and evening rush, quiet nights.
RUSH = (0.4, 0.25, 0.2, 0.2, 0.4, 1.5, 4, 8, 8, 5, 4, 4.5, 4, 4, 4.5, 5, 7, 8.5, 7.5, 5, 3.5, 2.5, 1.5, 0.8)
PLATE_LETTERS = "ABCDEFGHKLMNPSTUVXYZ"
COLUMNS = ["camera_id", "kind_id", "unit_id", "source", "external_id", "occurred_at", "received_at", "plate",
           "speed_kmh", "vehicle_count", "congestion_level", "score", "zone"]  # fmt: skip


def tables() -> list:
    return [CameraEvent]


def generate(run: scale.Run) -> None:
    rng = run.rng("traffic")
    kinds = {k.code: k for k in EventKind.objects.all()}
    cameras = {p: list(Camera.objects.filter(purpose=p, active=True).order_by("code")) for p in PURPOSES}
    purposes = [p for p in PURPOSES if cameras[p]]
    if not purposes:
        raise RuntimeError("no demo cameras: load the demo city first")
    pick_purpose = scale.weighted(rng, purposes, [PURPOSES[p] for p in purposes])
    pickers = {}
    for purpose in purposes:
        present = [(kinds[code], weight) for code, weight in KINDS[purpose].items() if code in kinds]
        pick_kind = scale.weighted(rng, [k for k, _w in present], [w for _k, w in present])
        pick_camera = scale.weighted(rng, cameras[purpose], [1.0 + (i % 3) for i in range(len(cameras[purpose]))])
        pickers[purpose] = (pick_kind, pick_camera)
    moments = scale.Moments(run.start, run.now, hourly=RUSH, weekly=(1, 1, 1, 1, 1.05, 0.9, 0.8))
    first = scale.reserve_ids(CameraEvent, run.count)
    source, empty, ts = scale.csv_text(SOURCE), '""', scale.ts
    levels = ["heavy", "slow", "queuing", "stationary"]

    def rows():
        for n, occurred in enumerate(moments.sorted(rng, run.count)):
            purpose = pick_purpose()
            pick_kind, pick_camera = pickers[purpose]
            kind, camera = pick_kind(), pick_camera()
            plate = speed = count = level = ""
            if kind.is_violation:
                letter = PLATE_LETTERS[int(rng.random() * len(PLATE_LETTERS))]
                province = "39" if rng.random() < 0.25 else "60"
                plate = f'"{province}{letter}-{int(rng.random() * 1000):03d}.{int(rng.random() * 100):02d}"'
                if rng.random() < 0.5:
                    speed = f"{rng.uniform(15, 85):.1f}"
            elif kind.code == "vehicle_count":
                count = str(int(rng.uniform(5, 400)))
            elif kind.code == "congestion":
                level = levels[int(rng.random() * len(levels))]
            yield (
                str(camera.pk),
                str(kind.pk),
                str(camera.unit_id),
                source,
                f'"{run.seed}-{first + n}"',
                ts(occurred),
                ts(occurred + rng.uniform(0.3, 4.0)),
                plate or empty,
                speed,
                count,
                level or empty,
                f"{rng.uniform(0.55, 0.99):.3f}",
                empty,
            )

    run.copy(CameraEvent, COLUMNS, rows())


GENERATOR = registry.ScaleGenerator(
    "traffic", "events", 5_000_000, generate, tables, help="Camera events", app="traffic", order=20
)
