"""How the benchmarks offer load, and what comes back.

- `Client`: requests on one keep-alive HTTP/1.1 connection to 127.0.0.1 (http.client);
- `ticks` / `async_ticks`: the clock of an open loop, `rate` moments a second on absolute times;
- `offered_rate`: requests at a fixed rate on that clock from a pool of connections;
- `concurrent`: k clients, each sending its next request as soon as its previous answer arrived;
- `Results`: what a series gives back (latencies of the served requests, statuses, never-sent),
  which `bench.stats.summary` turns into a row of the table.

An open loop offers the same load however the server answers: sends are due at start + i / rate,
not after the previous answer, and latency counts from the moment a request was due, so a server
(or a sender) that falls behind shows it in the figures instead of slowing the offer down. A
request still waiting for a free connection when the drain time is up is never sent, and counted.

Only 127.0.0.1 is ever a target, and every series is bounded in count and in time.
"""

import asyncio
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from time import perf_counter
from typing import NamedTuple
from urllib.parse import urlsplit

JSON = "application/json; charset=utf-8"


# --- one connection ------------------------------------------------------------------------------


class Request(NamedTuple):
    method: str
    path: str
    body: bytes | None = None
    headers: dict | None = None


def get(path: str) -> Request:
    return Request("GET", path)


def post_json(path: str, payload) -> Request:
    """A JSON POST, encoded now: building bodies ahead keeps their cost out of the sending loop."""
    return Request("POST", path, json.dumps(payload, ensure_ascii=False).encode(), {"Content-Type": JSON})


class Answer(NamedTuple):
    seconds: float  # from the request's first byte to the answer's last
    status: int
    body: bytes
    headers: http.client.HTTPMessage

    def json(self):
        return json.loads(self.body)

    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        for line in self.headers.get_all("Set-Cookie") or ():
            jar.load(line)
        return {name: morsel.value for name, morsel in jar.items()}


class Client:
    """Sequential requests on one keep-alive HTTP/1.1 connection to the local server."""

    def __init__(self, base_url: str, cookie: str | None = None, timeout: float = 10, headers: dict | None = None):
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError("benchmarks only talk to 127.0.0.1")
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.headers = {"Accept": "application/json", **(headers or {})}
        if cookie:
            from django.conf import settings  # only a signed-in client needs Django's settings

            self.headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
        self.conn: http.client.HTTPConnection | None = None

    def send(self, request: Request) -> Answer:
        return self.request(request.method, request.path, request.body, request.headers)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None) -> Answer:
        # A GET is retried once on a connection the server closed while idle; a POST never is.
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                started = perf_counter()
                self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
                response = self.conn.getresponse()
                answer = response.read()
                elapsed = perf_counter() - started
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return Answer(elapsed, response.status, answer, response.headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- what a series gives back --------------------------------------------------------------------


@dataclass
class Results:
    """One series: latencies of the served requests, every status, and how much of the offer went out.

    Benchmarks that measure something other than HTTP answers (rows inserted, frames on sockets)
    fill one in themselves, so that every row of the table comes out of the same summary.
    """

    latencies: list[float] = field(default_factory=list)  # seconds, served requests only
    statuses: Counter = field(default_factory=Counter)  # every answer; a transport error by its type
    items: int = 0  # what the served answers stand for: requests, or events in batches
    expected: int = 0  # items offered
    never_sent: int = 0  # offered, but still waiting for a connection when the drain time was up
    start: float | None = None  # perf_counter of the first send (open loop: the first due moment)
    end: float | None = None  # perf_counter of the last answer
    pending: int = 0  # open loop: sent but unanswered when the drain time was up
    connections: int = 0
    lag_max: float | None = None  # open loop: the latest a send started after its due moment, seconds
    last_body: bytes = b""  # of the last served answer
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def timed(cls, seconds: float, items: int, *, expected: int | None = None, latencies=()) -> "Results":
        """`items` done in `seconds` (a baseline, frames counted on a socket...)."""
        return cls(
            list(latencies), items=items, expected=items if expected is None else expected, start=0.0, end=seconds
        )

    def record(self, started: float, answer: Answer | None, status: str, items: int, seconds: float | None) -> None:
        now = perf_counter()
        with self.lock:
            self.statuses[status] += 1
            if answer is not None and 200 <= answer.status < 300:
                self.latencies.append(seconds)
                self.items += items
                self.last_body = answer.body
            self.start = started if self.start is None else min(self.start, started)
            self.end = now if self.end is None else max(self.end, now)

    @property
    def wall(self) -> float:
        return (self.end - self.start) if self.start is not None and self.end is not None else 0.0

    @property
    def served(self) -> int:
        return len(self.latencies)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def errors(self) -> dict[str, int]:
        """Answers other than 2xx by status, and transport errors by type."""
        return {s: n for s, n in sorted(self.statuses.items()) if not s.startswith("2")}

    def info(self) -> dict:
        """The figures of the series for the JSON file."""
        return {
            "sent": self.sent,
            "served": self.served,
            "items": self.items,
            "expected": self.expected,
            "never_sent": self.never_sent,
            "still_pending_at_drain_timeout": self.pending,
            "connections": self.connections,
            "send_lag_ms_max": round(self.lag_max * 1000, 2) if self.lag_max is not None else None,
            "wall_seconds": round(self.wall, 2),
            "statuses": dict(self.statuses),
        }


def _send(client: Client, request: Request) -> tuple[Answer | None, str]:
    """One request; a transport error is named by its type and never retried (the connection is dropped)."""
    try:
        answer = client.send(request)
    except (OSError, http.client.HTTPException) as exc:
        client.close()
        return None, type(exc).__name__
    return answer, str(answer.status)


def _items_of(items: Callable[[bytes], int] | None, answer: Answer | None) -> int:
    if answer is None or not 200 <= answer.status < 300:
        return 0
    return 1 if items is None else items(answer.body)


# --- the clock -----------------------------------------------------------------------------------


def _due(start: float, i: int, rate: float) -> float:
    return start + i / rate


def ticks(rate: float, *, count: int | None = None, until: float | None = None, start: float | None = None):
    """Yield (i, due) at `rate` a second from `start` (perf_counter, default now), on absolute times.

    A late tick is yielded at once, never skipped, so a slow consumer catches up instead of
    lowering the rate; it stops after `count` ticks, or once a tick is due or late past `until`
    (the bound of a consumer too slow ever to catch up).
    """
    start = perf_counter() if start is None else start
    i = 0
    while count is None or i < count:
        due = _due(start, i, rate)
        delay = due - perf_counter()
        if delay > 0:
            time.sleep(delay)
        if until is not None and max(due, perf_counter()) > until:
            return
        yield i, due
        i += 1


async def async_ticks(rate: float, *, until: float, clock: Callable[[], float] = time.monotonic):
    """`ticks` for an event loop: (i, due) on `clock`'s absolute times, while due before `until`."""
    start = clock()
    i = 0
    while (due := _due(start, i, rate)) < until:
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        yield i, due
        i += 1


# --- the two senders -----------------------------------------------------------------------------


def offered_rate(
    connect: Callable[[], Client],
    requests: Sequence[Request | Callable[[], Request]],
    rate: float,
    *,
    workers: int,
    drain: float,
    items: Callable[[bytes], int] | None = None,
    expected: int | None = None,
    start_in: float = 0.05,
) -> Results:
    """Send requests[i] at start + i / rate on up to `workers` connections; latency from each due moment.

    An element may be a function making the request when it is due (a body carrying its own
    sending time). `items(body)` says what a served answer stands for (default 1; `expected` is
    then the items offered). After the last due moment answers may arrive for `drain` seconds;
    requests not started by then are never sent.
    """
    results = Results(expected=len(requests) if expected is None else expected)
    local = threading.local()
    clients: list[Client] = []
    clients_lock = threading.Lock()
    lags: list[float] = []

    def one(i: int, due: float) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = connect()
            with clients_lock:
                clients.append(client)
        request = requests[i]
        if callable(request):
            request = request()
        lags.append(perf_counter() - due)
        answer, status = _send(client, request)
        seconds = perf_counter() - due if answer is not None else None
        results.record(due, answer, status, _items_of(items, answer), seconds)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-offered")
    futures = []
    try:
        for i, due in ticks(rate, count=len(requests), start=perf_counter() + start_in):
            futures.append(pool.submit(one, i, due))
        _done, pending = wait(futures, timeout=drain)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # in-flight requests end within the client's timeout
        for client in clients:
            client.close()
    results.never_sent = sum(1 for f in futures if f.cancelled())
    results.pending = len(pending)
    results.connections = len(clients)
    results.lag_max = max(lags, default=None)
    return results


def concurrent(
    connect: Callable[[], Client],
    requests: Iterable[Request],
    k: int,
    *,
    timeout: float,
    items: Callable[[bytes], int] | None = None,
    warmup: int = 0,
    expected: int | None = None,
) -> Results:
    """Each of `k` clients sends the next request as soon as its previous answer arrived (a closed loop).

    Latency counts from each send. The first `warmup` requests are sent but not counted (on the
    connections the series then uses); nothing is sent after `timeout` seconds.
    """
    requests = list(requests)
    results = Results(expected=len(requests) - warmup if expected is None else expected)
    lock = threading.Lock()
    queue = iter(enumerate(requests))
    deadline = perf_counter() + timeout

    def worker() -> None:
        client = connect()
        with lock:
            results.connections += 1
        try:
            while perf_counter() < deadline:
                with lock:
                    i, request = next(queue, (None, None))
                if request is None:
                    return
                started = perf_counter()
                answer, status = _send(client, request)
                if i >= warmup:
                    seconds = answer.seconds if answer is not None else None
                    results.record(started, answer, status, _items_of(items, answer), seconds)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, name=f"bench-client-{n}", daemon=True) for n in range(k)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 30)
    with lock:
        results.never_sent = sum(1 for _ in queue)  # left when the series ran out of time
    return results
