"""Demo feed for the camera subsystems: the demo cameras of Đồng Nai report as a vendor system would
(`traffic.demo.TrafficFeed`). Runs until SIGTERM or SIGINT (or --duration), then exits with code 0."""

from ioc.feeds import FeedCommand

# VEHICLES and plate: bench/cameras.py reads them from here.
from traffic.demo import VEHICLES, TrafficFeed, plate  # noqa: F401


class Command(FeedCommand):
    help = (
        "Feed the demo cameras with a plausible, endless stream of events (heartbeats, vehicle counts, "
        "violations, congestion, accidents, security events, storms, silent cameras) through the camera "
        "services. Stops on SIGTERM or Ctrl-C."
    )

    def build_feed(self, options, **common):
        return TrafficFeed(verbose=options["verbosity"] >= 2, **common)
