"""Demo feed for subsystems 5-9: Đồng Nai's departments and stations report their figures.

Everything goes through indicators.services, as a department's system would. On start the feed fills
in the recent history (the same values on every start, so a restart changes nothing); then every
round it reports the current period's provisional readings (a later report replaces them, as real
provisional figures are) and the previous period's final ones; sums such as monthly revenue arrive once
their month has closed. Air quality follows the rush hours, so
Biên Hòa's AQI crosses into "unhealthy for sensitive groups" and back, raising and resolving alerts.
Runs until SIGTERM or SIGINT (or --rounds), then exits with code 0.
"""

import hashlib
import logging
import math
import random
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from indicators import periods, services
from indicators.demo import FEED
from indicators.models import Indicator, Period, Station
from indicators.selectors import SPARK_POINTS
from ioc.feeds import Scheduler
from ioc.scope import EVERYTHING

log = logging.getLogger(__name__)

SOURCE = "demo-feed"
WHOLE = {"aqi", "dengue_cases", "pupils", "schools"}
POLLUTED_STATIONS = {"BH-KK-01": 1.3}  # Biên Hòa's industrial parks and traffic


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def final_value(indicator: Indicator, place: str, start, base: float, spread: float) -> float:
    """The period's value: the same for the same (indicator, place, period) on every run."""
    rng = _rng(indicator.code, place, start.isoformat())
    local = timezone.localtime(start)
    code = indicator.code
    if code in ("aqi", "pm25"):
        hour = local.hour
        rush = 1.45 if hour in (7, 8, 17, 18, 19) else 1.15 if hour in (6, 9, 16, 20) else 0.8 if hour < 5 else 1.0
        value = base * rush * POLLUTED_STATIONS.get(place, 1.0) * (1 + spread * rng.uniform(-0.5, 0.5))
    elif code == "water_level_dong_nai":  # semi-diurnal tide at Biên Hòa
        tide = 0.38 * math.sin(2 * math.pi * (start.timestamp() / 3600) / 12.42)
        value = base + tide + spread * rng.uniform(-0.5, 0.5)
    elif code == "rainfall":
        value = rng.expovariate(1 / base) if rng.random() < 0.55 else 0.0
    elif code == "dengue_cases":
        value = max(0.0, rng.gauss(base, base * spread)) + (rng.random() < 0.05) * rng.uniform(6, 14)
    elif indicator.period == Period.YEARLY:
        value = base * (1 + 0.015 * (local.year - timezone.localtime().year)) * (1 + spread * rng.uniform(-1, 1))
    else:
        value = base * (1 + spread * rng.uniform(-1, 1))
    return value


def provisional(indicator: Indicator, value: float, rng: random.Random) -> float | None:
    """A figure for a period still running: a jittered reading; sums (revenue, visitors) only once closed."""
    if indicator.accumulates:
        return None  # a month-to-date sum would sit below the monthly thresholds and alarm every month
    if indicator.period in (Period.HOURLY, Period.DAILY):
        return value * (1 + rng.uniform(-0.03, 0.03))
    return value


def _rounded(code: str, value: float) -> str:
    return str(Decimal(round(value)) if code in WHOLE else Decimal(f"{value:.2f}"))


class Command(BaseCommand):
    help = "Feed plausible indicator figures for Đồng Nai's five indicator subsystems until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=20.0, help="Seconds between two rounds.")
        parser.add_argument("--rounds", type=int, default=0, help="Stop after this many rounds (0: endless).")
        parser.add_argument("--no-history", action="store_true", help="Do not fill in the recent history.")
        parser.add_argument("--seed", type=int, default=None, help="Seed for the provisional jitter.")

    def handle(self, *args, interval, rounds, no_history, seed, **options):
        if interval < 0 or rounds < 0:
            raise CommandError("--interval and --rounds must not be negative.")
        self.indicators = {i.code: i for i in Indicator.objects.filter(code__in=FEED, active=True)}
        if not self.indicators:
            raise CommandError("Demo indicators are missing. Run `python manage.py load_demo` first.")
        self.stations = {s.code: s for s in Station.objects.all()}
        self.rng = random.Random(seed)
        self.interval, self.rounds, self.done = interval, rounds, 0
        feed = Scheduler(say=self._say)
        with feed.stopping_on_signals():
            if not no_history:
                self._fill_history()
            feed.at(0, self._round)
            feed.run()
        self._say("stopped")

    def _places(self, code: str):
        places, base, spread = FEED[code]
        for kind, place in places:
            if kind == "station" and place not in self.stations:
                continue
            yield kind, place, base, spread

    def _item(self, code: str, kind: str, place: str, start, value: float) -> dict:
        return {"indicator": code, kind: place, "period": start.isoformat(), "value": _rounded(code, value)}

    def _fill_history(self) -> None:
        now = timezone.now()
        items = []
        for code, indicator in self.indicators.items():
            current = periods.period_start(indicator.period, now)
            for n in range(SPARK_POINTS[indicator.period], 0, -1):
                start = periods.step_back(indicator.period, current, n)
                for kind, place, base, spread in self._places(code):
                    items.append(
                        self._item(code, kind, place, start, final_value(indicator, place, start, base, spread))
                    )
        totals = {}
        for chunk in range(0, len(items), services.BATCH_MAX):
            results = self._ingest(items[chunk : chunk + services.BATCH_MAX])
            for key, count in services.summarize(results).items():
                totals[key] = totals.get(key, 0) + count
        self._say(f"history: {totals}")

    def _round(self) -> float | None:
        """One round of figures; the pause before the next, or None after the last of --rounds."""
        self._report_round()
        self.done += 1
        return None if self.rounds and self.done >= self.rounds else self.interval

    def _report_round(self) -> None:
        now = timezone.now()
        items = []
        for code, indicator in self.indicators.items():
            current = periods.period_start(indicator.period, now)
            last = periods.step_back(indicator.period, current, 1)
            for kind, place, base, spread in self._places(code):
                items.append(self._item(code, kind, place, last, final_value(indicator, place, last, base, spread)))
                value = provisional(indicator, final_value(indicator, place, current, base, spread), self.rng)
                if value is not None:
                    items.append(self._item(code, kind, place, current, value))
        results = self._ingest(items)
        if results:
            summary = services.summarize(results)
            self._say(f"round: {summary['created']} new, {summary['replaced']} revised, {summary['error']} errors")

    def _ingest(self, items: list) -> list:
        if not connection.in_atomic_block:
            close_old_connections()
        try:
            return services.observations_ingest(items=items, source=SOURCE, scope=EVERYTHING)
        except (DatabaseError, services.ValidationError) as exc:
            log.warning("indicator figures not stored (%s): %s", type(exc).__name__, exc)
            self._say(f"round failed: {type(exc).__name__}")
            if isinstance(exc, DatabaseError) and not connection.in_atomic_block:
                connection.close()
            return []

    def _say(self, text: str) -> None:
        self.stdout.write(f"{timezone.localtime():%H:%M:%S} {text}")
        self.stdout.flush()
