"""Demo feed for field reports: citizens of Đồng Nai report problems; the operator and the units handle
them (`reports.demo.ReportsFeed`). Runs until SIGTERM or SIGINT (or --count, or --duration), then exits
with code 0."""

from ioc.feeds import FeedCommand, count, seconds
from reports.demo import ReportsFeed


class Command(FeedCommand):
    help = (
        "Feed the demo city with an endless, plausible stream of field reports and their handling, "
        "through the report services. Stops on SIGTERM or Ctrl-C."
    )

    def add_feed_arguments(self, parser):
        parser.add_argument("--interval", type=seconds, default=45.0, help="Mean pause between new reports, seconds.")
        parser.add_argument(
            "--count",
            type=count,
            default=0,
            help="Stop after this many new reports, once their planned handling is done (0: endless).",
        )
        parser.add_argument(
            "--burst-every",
            type=count,
            default=12,
            help="Every N-th report comes with 2-4 more from the same spot (0: never).",
        )

    def build_feed(self, options, **common):
        return ReportsFeed(
            interval=options["interval"], count=options["count"], burst_every=options["burst_every"], **common
        )
