"""Demo feed for subsystems 5-9: Đồng Nai's departments and stations report their figures
(`indicators.demo.IndicatorsFeed`). Runs until SIGTERM or SIGINT (or --rounds, or --duration), then
exits with code 0."""

from indicators.demo import IndicatorsFeed
from ioc.feeds import FeedCommand, count, seconds


class Command(FeedCommand):
    help = "Feed plausible indicator figures for Đồng Nai's five indicator subsystems until stopped."

    def add_feed_arguments(self, parser):
        parser.add_argument("--interval", type=seconds, default=20.0, help="Seconds between two rounds.")
        parser.add_argument("--rounds", type=count, default=0, help="Stop after this many rounds (0: endless).")
        parser.add_argument("--no-history", action="store_true", help="Do not fill in the recent history.")

    def build_feed(self, options, **common):
        return IndicatorsFeed(
            interval=options["interval"], rounds=options["rounds"], history=not options["no_history"], **common
        )
