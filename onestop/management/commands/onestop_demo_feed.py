"""Demo feed for the one-stop offices: dossiers, queue figures and counter-camera events
(`onestop.demo.OnestopFeed`). Runs until SIGTERM or SIGINT (or --count new dossiers, or --duration),
then exits with code 0."""

from ioc.feeds import FeedCommand, count, seconds
from onestop.demo import OnestopFeed


class Command(FeedCommand):
    help = "Feed the demo one-stop offices with dossiers, queue figures and counter-camera events until stopped."

    def add_feed_arguments(self, parser):
        parser.add_argument("--interval", type=seconds, default=45.0, help="mean seconds between new dossiers")
        parser.add_argument("--count", type=count, default=0, help="stop after this many new dossiers (0: never)")
        parser.add_argument("--no-backlog", action="store_true", help="do not sync the backlog on start")

    def build_feed(self, options, **common):
        return OnestopFeed(
            interval=options["interval"], count=options["count"], backlog=not options["no_backlog"], **common
        )
