"""Benchmark 3: citizens' field reports POSTed as JSON to /api/v1/reports/ through the ASGI server under test.

Every figure stands beside a floor measured in the same run, on the same server:
- the framework floor: the same bodies POSTed to /bench/floor/ (bench/floor.py: a DRF serializer
  and one INSERT behind the same middleware), by the same 16 concurrent clients;
- throughput: N reports by 16 concurrent clients (one keep-alive connection each), requests/s,
  latency and server CPU per report (goal: at least half the floor's rate);
- the very rows the API stored, inserted again with batched INSERTs (`bulk_create`) and with COPY
  into an emptied reports table, rows/s: what the database alone takes;
- single POSTs on the clock at half the floor's measured rate (open loop: sends are scheduled,
  latency counts from the scheduled moment, so a server that falls behind shows it), first to the
  floor, then to the API (goal: p99 < 50 ms).

Each phase is one function; the sending loops and the summary are bench.load's and bench.stats'.
PostgreSQL sessions are sampled during each HTTP series (bench.servers.Watch).

The report table is emptied before each series. The submission throttle is lifted for the
server this benchmark talks to (`THROTTLE_ENV`), and its counter for 127.0.0.1 is cleared first.
All traffic goes to 127.0.0.1, bounded in count and in time.
"""

import random
import statistics
from time import perf_counter

from django.core.cache import cache
from django.db import connection, transaction

from bench import copy, floor, load
from bench.servers import LOG_PATH, Server, Watch
from bench.stats import summary
from ioc.throttling import SubmissionThrottle
from reports.models import Category, Report, ReportAnswer, ReportEvent, ReportPhoto

PATH = "/api/v1/reports/"
# Every submission allowance, lifted (see REST_FRAMEWORK in ioc/settings.py and docs/security.md).
THROTTLE_ENV = {
    "IOC_THROTTLE_REPORT_SUBMIT": "1000000/hour",
    "IOC_THROTTLE_REPORT_SUBMIT_ADDRESS": "1000000/hour",
    "IOC_THROTTLE_REPORT_SUBMIT_NO_DEVICE": "1000000/hour",
}
REPORTS = 2_000
CONCURRENCY = 16
WARMUP = 32
BATCH = 500  # rows per INSERT statement in the baseline
RAW_REPEATS = 3  # the baseline is short: the median of a few runs, each into an emptied table
PACE_SHARE = 0.5  # the open-loop pace, as a share of the floor's saturation rate measured in the run
PACE_SECONDS = 10
PACE_WORKERS = 64  # client threads (and connections) available to the open-loop sender
REQUEST_TIMEOUT = 10.0
SERIES_TIMEOUT = 75.0  # the concurrent series stops sending after this many seconds
DRAIN_TIMEOUT = 15.0  # after the last scheduled send, how long answers may still arrive
BUDGET = "p99 < 50 ms"
RATIO_GOAL = ">= 50 % of the floor"
SEED = 26080

CENTRE = (10.937, 107.243)  # Long Khánh
JITTER_DEGREES = 0.012  # one standard deviation, about 1.3 km

# Category codes of reports.demo with how often citizens use them (relative weights).
CATEGORY_WEIGHTS = {
    "o-ga-mat-duong": 18,
    "rac-thai": 16,
    "lan-chiem-via-he": 12,
    "chieu-sang": 10,
    "ngap-nuoc": 8,
    "o-nhiem": 6,
    "cap-nuoc": 5,
    "xay-dung-trai-phep": 5,
    "an-ninh-trat-tu": 4,
    "cay-xanh": 4,
    "mat-dien": 4,
    "den-giao-thong": 3,
    "tai-nan": 3,
    "chay-no": 1,
}

STREETS = [
    "Hùng Vương",
    "Hồ Thị Hương",
    "Nguyễn Trãi",
    "Trần Phú",
    "Lý Thường Kiệt",
    "Ngô Quyền",
    "Cách Mạng Tháng Tám",
    "Khổng Tử",
    "Quang Trung",
    "Hoàng Diệu",
    "Nguyễn Du",
    "Bùi Thị Xuân",
    "21 Tháng 4",
    "Thích Quảng Đức",
    "Lê A",
]
PLACES = [
    "chợ Long Khánh",
    "trường THPT Long Khánh",
    "Bệnh viện đa khoa khu vực Long Khánh",
    "vòng xoay Long Khánh",
    "công viên Văn hóa",
    "nhà thờ Long Khánh",
    "bến xe Long Khánh",
    "UBND phường Bảo Vinh",
]
WARDS = ["phường Long Khánh", "phường Bình Lộc", "phường Bảo Vinh", "phường Xuân Lập", "phường Hàng Gòn"]
WHEN = ["sáng nay", "từ tối qua", "đã ba ngày nay", "từ đầu tuần", "cứ mỗi khi mưa lớn", "khoảng 30 phút trước"]
NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Nam",
    "Phạm Minh Tuấn",
    "Võ Thị Hồng",
    "Huỳnh Gia Bảo",
    "Đặng Thu Trang",
    "Bùi Quốc Khánh",
    "",
]
DESCRIPTIONS = {
    "o-ga-mat-duong": [
        "Ổ gà lớn trước số {number} đường {street}, xe máy phải né sang làn ô tô rất nguy hiểm.",
        "Mặt đường {street} đoạn gần {place} bị lún, sụt thành hố sâu khoảng 20 cm, {when}.",
    ],
    "rac-thai": [
        "Rác thải sinh hoạt đổ thành đống ở góc đường {street}, bốc mùi hôi {when}.",
        "Xe thu gom không đến lấy rác khu vực gần {place}, rác tràn ra lòng đường.",
    ],
    "lan-chiem-via-he": [
        "Quán ăn trước số {number} {street} bày bàn ghế kín vỉa hè, người đi bộ phải xuống lòng đường.",
        "Buôn bán lấn chiếm lòng đường trước {place} gây ùn tắc giờ tan học.",
    ],
    "chieu-sang": [
        "Đèn đường trên đoạn {street} gần số {number} không sáng {when}, buổi tối rất tối.",
        "Cả dãy đèn chiếu sáng quanh {place} bị tắt, đề nghị kiểm tra sửa chữa.",
    ],
    "ngap-nuoc": [
        "Đường {street} đoạn trước {place} ngập sâu nửa bánh xe {when}, cống thoát nước bị nghẹt.",
        "Nước mưa không thoát được, ngập vào nhà dân ở hẻm {number} {street}.",
    ],
    "o-nhiem": [
        "Cơ sở sản xuất gần số {number} {street} xả khói đen và tiếng ồn lớn {when}.",
        "Karaoke gần {place} hát quá 22 giờ, ồn ào ảnh hưởng người dân nghỉ ngơi.",
    ],
    "cap-nuoc": [
        "Ống nước bị vỡ trước số {number} đường {street}, nước chảy lênh láng {when}.",
        "Khu dân cư gần {place} mất nước sinh hoạt {when}, chưa có thông báo.",
    ],
    "xay-dung-trai-phep": [
        "Công trình tại số {number} {street} xây thêm tầng, lấn ra hành lang an toàn đường bộ.",
        "Có người san lấp, xây tường rào trên đất công gần {place} {when}.",
    ],
    "an-ninh-trat-tu": [
        "Nhóm thanh niên tụ tập gây gổ gần {place} vào ban đêm, người dân lo lắng.",
        "Đua xe trái phép trên đường {street} {when}, rất nguy hiểm cho người đi đường.",
    ],
    "cay-xanh": [
        "Cây xanh trước số {number} {street} bị nghiêng, có nguy cơ ngã đổ vào nhà dân.",
        "Cành cây lớn gãy nằm chắn ngang đường {street} gần {place}.",
    ],
    "mat-dien": [
        "Mất điện toàn khu vực quanh {place} {when}, dây điện bị đứt sau cơn giông.",
        "Dây điện trung thế võng thấp, tóe lửa trước số {number} đường {street}.",
    ],
    "den-giao-thong": [
        "Đèn tín hiệu giao thông tại ngã tư {street} gần {place} không hoạt động, xe cộ lộn xộn.",
        "Đèn giao thông ở nút {street} chỉ nhấp nháy vàng {when}, dễ xảy ra va chạm.",
    ],
    "tai-nan": [
        "Va chạm giữa xe máy và ô tô trên đường {street} trước số {number}, có người bị thương.",
        "Tai nạn giao thông gần {place}, cần hỗ trợ phân luồng gấp.",
    ],
    "chay-no": [
        "Cháy tại nhà số {number} đường {street}, khói bốc cao, đề nghị hỗ trợ khẩn cấp.",
        "Phát hiện khói và mùi khét từ kho hàng gần {place}.",
    ],
}


def payloads(categories: dict[str, Category], count: int, seed: int = SEED) -> list[dict]:
    """`count` JSON bodies as citizens send them, around Long Khánh's centre."""
    missing = set(CATEGORY_WEIGHTS) - set(categories)
    if missing:
        raise RuntimeError(f"report categories missing from the demo data: {sorted(missing)}")
    rng = random.Random(seed)
    codes = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    bodies = []
    for _ in range(count):
        code = rng.choices(codes, weights)[0]
        street, number = rng.choice(STREETS), rng.randint(1, 250)
        description = rng.choice(DESCRIPTIONS[code]).format(
            street=street, number=number, place=rng.choice(PLACES), when=rng.choice(WHEN)
        )
        body = {
            "category": code,
            "description": description,
            "latitude": round(rng.gauss(CENTRE[0], JITTER_DEGREES), 6),
            "longitude": round(rng.gauss(CENTRE[1], JITTER_DEGREES), 6),
            "address": f"{number} {street}, {rng.choice(WARDS)}",
            "channel": rng.choice(["app", "app", "web"]),
        }
        # Some categories need a way to answer; most citizens leave a phone number anyway.
        if not categories[code].allow_anonymous or rng.random() < 0.7:
            body["reporter_phone"] = rng.choice(["09", "03", "08", "07"]) + f"{rng.randrange(10**8):08d}"
            body["reporter_name"] = rng.choice(NAMES)
        bodies.append(body)
    return bodies


def empty_reports() -> None:
    """Empty the report tables (the bench database only), so each series starts alike."""
    tables = [m._meta.db_table for m in (ReportPhoto, ReportAnswer, ReportEvent, Report)]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE {}".format(", ".join(f'"{t}"' for t in tables)))


def lift_throttle_counter() -> None:
    """Forget the submissions already counted for 127.0.0.1 (the lists grow with every POST)."""
    fmt = SubmissionThrottle.cache_format
    cache.delete(fmt % {"scope": "report_submit_address", "ident": "address-127.0.0.1"})
    cache.delete(fmt % {"scope": "report_submit_no_device", "ident": "nodevice-127.0.0.1"})


def requests(bodies: list[dict], path: str = PATH) -> list[load.Request]:
    return [load.post_json(path, body) for body in bodies]


def raw_insert(rows: list[Report]) -> float:
    """Insert `rows` (fields computed) with batched INSERTs in one transaction; seconds taken."""
    for row in rows:
        row.pk = None
        row._state.adding = True
    started = perf_counter()
    with transaction.atomic():
        Report.objects.bulk_create(rows, batch_size=BATCH)
    return perf_counter() - started


def raw_copy(rows: list[Report]) -> float:
    """The same rows with COPY in one transaction; seconds taken."""
    started = perf_counter()
    with transaction.atomic():
        copy.copy_rows(Report, rows)
    return perf_counter() - started


def _connect(server: Server):
    return lambda: load.Client(server.url, timeout=REQUEST_TIMEOUT)


def _cpu_note(watch: Watch, served: int) -> str:
    return f"server CPU {watch.server_cpu * 1000 / max(served, 1):.1f} ms per request"


def phase_warm_up(server: Server, categories: dict[str, Category]) -> None:
    """Imports, database connections and the live bus of every worker, before anything is measured."""
    lift_throttle_counter()
    bodies = payloads(categories, WARMUP, seed=SEED + 1)
    for path in (floor.PATH, PATH):
        warm = load.concurrent(_connect(server), requests(bodies, path), CONCURRENCY, timeout=SERIES_TIMEOUT)
        if not warm.served:
            errors = ", ".join(f"{n} x {s}" for s, n in warm.errors().items())
            raise RuntimeError(f"POST {path} failed while warming up: {errors} (see {LOG_PATH})")


def phase_concurrent_posts(server: Server, bodies: list[dict], path: str = PATH) -> tuple[load.Results, str, dict]:
    """CONCURRENCY clients at once, each POSTing its next body when its answer arrives."""
    empty_reports()
    floor.empty_table()
    lift_throttle_counter()
    with Watch(server) as watch:
        api = load.concurrent(_connect(server), requests(bodies, path), CONCURRENCY, timeout=SERIES_TIMEOUT)
    stored = floor.count() if path == floor.PATH else Report.objects.count()
    note = f"{api.served} created in {api.wall:.1f} s, {stored} rows stored; "
    note += f"{_cpu_note(watch, api.served)}; {watch.note()}"
    details = {
        **api.info(),
        "stored": stored,
        "server_cpu_ms_per_request": round(watch.server_cpu * 1000 / max(api.served, 1), 2),
        **watch.info(),
    }
    return api, note, details


def phase_raw_insert(written: list[Report]) -> tuple[dict, dict]:
    """The rows the API stored, inserted again into an emptied table, in batches and with COPY."""
    found, details = {}, {"rows": len(written), "batch_size": BATCH}
    for label, insert in (("insert", raw_insert), ("copy", raw_copy)):
        runs = []
        for _ in range(RAW_REPEATS):
            empty_reports()
            runs.append(insert(written))
        seconds = statistics.median(runs)
        found[label] = (
            load.Results.timed(seconds, len(written)),
            f"{len(written)} rows in {seconds * 1000:.0f} ms (median of {RAW_REPEATS})",
        )
        details[label] = [round(x, 3) for x in runs]
    return found, details


def phase_offered_rate(
    server: Server, bodies: list[dict], rate: float, path: str = PATH
) -> tuple[load.Results, str, dict]:
    """Single POSTs on the clock, `rate` a second for PACE_SECONDS: latency from each due moment."""
    empty_reports()
    floor.empty_table()
    lift_throttle_counter()
    offered = requests(bodies, path)
    count = int(rate * PACE_SECONDS)
    offered = [offered[i % len(offered)] for i in range(count)]
    with Watch(server) as watch:
        paced = load.offered_rate(_connect(server), offered, rate, workers=PACE_WORKERS, drain=DRAIN_TIMEOUT)
    note = (
        f"open loop, {count} sends scheduled over {PACE_SECONDS} s on up to {PACE_WORKERS} connections; "
        f"{paced.served} created in {paced.wall:.1f} s; {_cpu_note(watch, paced.served)}; {watch.note()}"
    )
    return paced, note, {"rate_per_second": rate, "seconds": PACE_SECONDS, **paced.info(), **watch.info()}


def run(server: Server) -> tuple[list[dict], dict]:
    categories = {c.code: c for c in Category.objects.filter(active=True)}
    bodies = payloads(categories, REPORTS)
    details: dict = {"reports": REPORTS, "concurrency": CONCURRENCY, "throttle": THROTTLE_ENV}
    floor.create_table()

    phase_warm_up(server, categories)
    bare, bare_note, details["floor"] = phase_concurrent_posts(server, bodies, floor.PATH)
    api, api_note, details["api"] = phase_concurrent_posts(server, bodies)
    raw, details["raw"] = phase_raw_insert(list(Report.objects.order_by("pk")))
    floor_row = summary(
        f"reports: framework floor, POST {floor.PATH} x {REPORTS}, {CONCURRENCY} concurrent", bare, note=bare_note
    )
    # Half the floor's saturation rate, as measured here: the pace at which single POSTs must stay fast.
    pace = round(max(floor_row["rate"] or 0, 20) * PACE_SHARE)
    details["pace_per_second"] = pace
    bare_paced, bare_paced_note, details["floor_paced"] = phase_offered_rate(server, bodies, pace, floor.PATH)
    paced, paced_note, details["paced"] = phase_offered_rate(server, bodies, pace)

    insert_row = summary(
        f"reports: raw INSERT of the same rows, {BATCH}/batch", raw["insert"][0], unit="rows/s", note=raw["insert"][1]
    )
    copy_row = summary("reports: COPY of the same rows", raw["copy"][0], unit="rows/s", note=raw["copy"][1])
    floor_paced_row = summary(f"reports: framework floor, single POSTs at {pace}/s", bare_paced, note=bare_paced_note)
    return [
        floor_row,
        summary(
            f"reports: POST {PATH} x {REPORTS}, {CONCURRENCY} concurrent",
            api,
            floor_row,
            budget=RATIO_GOAL,
            note=api_note,
        ),
        insert_row,
        copy_row,
        floor_paced_row,
        summary(
            f"reports: single POSTs at {pace}/s (half the floor)",
            paced,
            floor_paced_row,
            budget=BUDGET,
            note=paced_note,
        ),
    ], details
