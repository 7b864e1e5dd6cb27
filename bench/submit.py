"""Benchmark 3: citizens' field reports POSTed as JSON to /api/v1/reports/ through the ASGI server under test.

- throughput: N reports by 16 concurrent clients (one keep-alive connection each), requests/s and
  latency of each POST;
- baseline: the very rows the API stored, inserted again with batched INSERTs (`bulk_create`, fields
  already computed, one transaction) into an emptied reports table, rows/s: what the API adds on top;
- single POSTs at a fixed pace (open loop): sends are scheduled on the clock, not after the
  previous answer, and latency counts from the scheduled moment, so a server that falls behind
  shows it in the figures rather than slowing the sender down.

PostgreSQL sessions are sampled during each HTTP series: a server that keeps one connection per
request thread shows it there (and in 500 answers once `max_connections` is reached).

The report table is emptied before each series. The submission throttle is lifted for the
server this benchmark talks to (`THROTTLE_ENV`), and its counter for 127.0.0.1 is cleared first.
All traffic goes to 127.0.0.1, bounded in count and in time.
"""

import http.client
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from time import perf_counter

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction

from bench.servers import Server, cpu_seconds
from bench.snapshot import Client
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
PACE = 200.0  # requests per second, open loop
PACE_SECONDS = 10
PACE_WORKERS = 64  # client threads (and connections) available to the open-loop sender
REQUEST_TIMEOUT = 10.0
SERIES_TIMEOUT = 75.0  # the concurrent series stops sending after this many seconds
DRAIN_TIMEOUT = 15.0  # after the last scheduled send, how long answers may still arrive
BUDGET = "p99 < 50 ms"
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


class Outcomes:
    """Latencies of the 201 answers and a tally of everything else, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created: list[float] = []
        self.other: Counter = Counter()
        self.first_at: float | None = None
        self.last_at: float | None = None

    def record(self, started: float, seconds: float | None, status: str) -> None:
        now = perf_counter()
        with self.lock:
            if status == "201" and seconds is not None:
                self.created.append(seconds)
            else:
                self.other[status] += 1
            self.first_at = started if self.first_at is None else min(self.first_at, started)
            self.last_at = now if self.last_at is None else max(self.last_at, now)

    @property
    def wall(self) -> float:
        return (self.last_at - self.first_at) if self.first_at is not None else 0.0

    def note_errors(self) -> str:
        return ", ".join(f"{n} x {status}" for status, n in sorted(self.other.items()))


def _post(client: Client, body: dict) -> tuple[float | None, str]:
    try:
        elapsed, status, _answer = client.post_json(PATH, body)
    except (OSError, http.client.HTTPException) as exc:
        client.close()
        return None, type(exc).__name__
    return elapsed, str(status)


def concurrent(base_url: str, bodies: list[dict], concurrency: int, timeout: float) -> Outcomes:
    """Each of `concurrency` threads POSTs the next body as soon as its previous answer arrives."""
    outcomes = Outcomes()
    lock = threading.Lock()
    queue = iter(bodies)
    deadline = perf_counter() + timeout

    def worker():
        client = Client(base_url, timeout=REQUEST_TIMEOUT)
        try:
            while perf_counter() < deadline:
                with lock:
                    body = next(queue, None)
                if body is None:
                    return
                started = perf_counter()
                elapsed, status = _post(client, body)
                outcomes.record(started, elapsed, status)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, name=f"bench-post-{i}", daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + REQUEST_TIMEOUT + 5)
    return outcomes


def open_loop(base_url: str, bodies: list[dict], rate: float, seconds: float) -> tuple[Outcomes, dict]:
    """POST at `rate` per second for `seconds`, on the clock; latency from each scheduled moment."""
    count = int(rate * seconds)
    outcomes = Outcomes()
    local = threading.local()
    clients: list[Client] = []
    clients_lock = threading.Lock()
    lags: list[float] = []

    def one(i: int, scheduled: float):
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = Client(base_url, timeout=REQUEST_TIMEOUT)
            with clients_lock:
                clients.append(client)
        began = perf_counter()
        lags.append(began - scheduled)
        elapsed, status = _post(client, bodies[i % len(bodies)])
        outcomes.record(scheduled, perf_counter() - scheduled if elapsed is not None else None, status)

    pool = ThreadPoolExecutor(max_workers=PACE_WORKERS, thread_name_prefix="bench-paced")
    futures = []
    start = perf_counter() + 0.05
    try:
        for i in range(count):
            scheduled = start + i / rate
            delay = scheduled - perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, i, scheduled))
        _done, pending = wait(futures, timeout=DRAIN_TIMEOUT)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # in-flight requests end within REQUEST_TIMEOUT
        for client in clients:
            client.close()
    unsent = sum(1 for f in futures if f.cancelled())
    lags_ms = sorted(lag * 1000 for lag in lags)
    info = {
        "scheduled": count,
        "not_sent_before_drain_timeout": unsent,
        "still_pending_at_drain_timeout": len(pending),
        "client_threads": len(clients),
        "send_lag_ms_max": round(lags_ms[-1], 2) if lags_ms else None,
    }
    return outcomes, info


def raw_insert(rows: list[Report]) -> float:
    """Insert `rows` (fields computed) with batched INSERTs in one transaction; seconds taken."""
    for row in rows:
        row.pk = None
        row._state.adding = True
    started = perf_counter()
    with transaction.atomic():
        Report.objects.bulk_create(rows, batch_size=BATCH)
    return perf_counter() - started


class ConnectionWatch:
    """Samples how many sessions PostgreSQL has open (every backend of the bench database) while a series runs."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-pg-sessions", daemon=True)

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self.samples.append(self.count())
                except DatabaseError:  # no session left for this one either: the server's figures show why
                    connection.close()
                self.stop.wait(self.interval)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)

    @property
    def peak(self) -> int | None:
        return max(self.samples) if self.samples else None


def _cpu(server_pid: int) -> tuple[float, float]:
    return cpu_seconds(server_pid), time.process_time()


def _cpu_note(server_pid: int, before: tuple[float, float]) -> str:
    server, own = _cpu(server_pid)
    return f"CPU seconds: server {server - before[0]:.1f}, bench process {own - before[1]:.1f}"


def run(server: Server) -> tuple[list[dict], dict]:
    categories = {c.code: c for c in Category.objects.filter(active=True)}
    bodies = payloads(categories, REPORTS)
    details: dict = {"reports": REPORTS, "concurrency": CONCURRENCY, "throttle": THROTTLE_ENV}
    rows = []

    # Warm the server (imports, database connections, the live bus), then start from empty tables.
    lift_throttle_counter()
    warm = concurrent(server.url, payloads(categories, WARMUP, seed=SEED + 1), CONCURRENCY, SERIES_TIMEOUT)
    if not warm.created:
        raise RuntimeError(
            f"report submission failed while warming up: {warm.note_errors()} (see var/bench/server.log)"
        )

    # 1. The API, 16 clients at once.
    empty_reports()
    lift_throttle_counter()
    before = _cpu(server.pid)
    with ConnectionWatch() as sessions:
        api = concurrent(server.url, bodies, CONCURRENCY, SERIES_TIMEOUT)
    cpu_note = f"{_cpu_note(server.pid, before)}; PostgreSQL sessions up to {sessions.peak}"
    stored = Report.objects.count()
    api_rate = len(api.created) / api.wall if api.wall else 0.0
    note = f"{len(api.created)} created in {api.wall:.1f} s, {stored} rows stored; {cpu_note}"
    if api.other:
        note += f"; not created: {api.note_errors()}"
    rows.append(
        summary(
            f"reports: POST {PATH} x {REPORTS}, {CONCURRENCY} concurrent",
            api.created,
            expected=REPORTS,
            rate=api_rate,
            note=note,
        )
    )
    details["api"] = {
        "created": len(api.created),
        "stored": stored,
        "events": ReportEvent.objects.count(),
        "wall_seconds": round(api.wall, 2),
        "errors": dict(api.other),
        "postgres_sessions": {"first": sessions.samples[:1], "peak": sessions.peak},
    }

    # 2. The rows the API stored, inserted again in batches into an emptied table.
    written = list(Report.objects.order_by("pk"))
    runs = []
    for _ in range(RAW_REPEATS):
        empty_reports()
        runs.append(raw_insert(written))
    seconds = statistics.median(runs)
    raw_rate = len(written) / seconds if written else 0.0
    share = f"{api_rate / raw_rate:.1%}" if raw_rate else "-"
    rows.append(
        summary(
            f"reports: raw INSERT of the same rows, {BATCH}/batch",
            [],
            expected=len(written),
            count=Report.objects.count(),
            rate=raw_rate,
            rate_unit="rows/s",
            note=(
                f"{len(written)} rows in {seconds * 1000:.0f} ms (median of {RAW_REPEATS}); "
                f"the API's created/s are {share} of it"
            ),
        )
    )
    details["raw_insert"] = {
        "rows": len(written),
        "seconds": [round(x, 3) for x in runs],
        "batch_size": BATCH,
    }

    # 3. Single POSTs on the clock.
    empty_reports()
    lift_throttle_counter()
    before = _cpu(server.pid)
    with ConnectionWatch() as sessions:
        paced, info = open_loop(server.url, bodies, PACE, PACE_SECONDS)
    cpu_note = f"{_cpu_note(server.pid, before)}; PostgreSQL sessions up to {sessions.peak}"
    expected = int(PACE * PACE_SECONDS)
    note = (
        f"open loop, {expected} sends scheduled over {PACE_SECONDS} s on up to {PACE_WORKERS} connections; "
        f"{len(paced.created)} created in {paced.wall:.1f} s; {cpu_note}"
    )
    if paced.other or info["not_sent_before_drain_timeout"]:
        note += f"; not created: {paced.note_errors() or '-'}, never sent: {info['not_sent_before_drain_timeout']}"
    rows.append(
        summary(
            f"reports: single POSTs at a fixed {PACE:g}/s",
            paced.created,
            expected=expected,
            rate=len(paced.created) / paced.wall if paced.wall else 0.0,
            budget=BUDGET,
            note=note,
        )
    )
    details["paced"] = {
        "rate_per_second": PACE,
        "seconds": PACE_SECONDS,
        **info,
        "created": len(paced.created),
        "wall_seconds": round(paced.wall, 2),
        "errors": dict(paced.other),
        "postgres_sessions": {"first": sessions.samples[:1], "peak": sessions.peak},
    }
    return rows, details
