"""Camera events from MQTT: Frigate's `frigate/events` and the IOC's generic topic (docs/cameras-mqtt.md)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from traffic.mqtt import Bridge, parse_camera_map, parse_url


class Command(BaseCommand):
    help = "Ingest camera events from an MQTT broker (Frigate NVR and the generic IOC topic) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="Broker, e.g. mqtt://host:1883 (default: MQTT_URL).")
        parser.add_argument(
            "--client-id",
            default="",
            help="Client id; a fixed id keeps a session on the broker across restarts of the bridge.",
        )
        parser.add_argument(
            "--camera-map",
            action="append",
            default=[],
            metavar="FRIGATE_NAME=IOC-CODE,...",
            help="Frigate camera names that differ from the IOC camera codes (repeatable).",
        )
        parser.add_argument(
            "--topic-prefix", default="", help="Prefix of both topics, e.g. `site-a` gives site-a/frigate/events."
        )
        parser.add_argument(
            "--frigate-url",
            default="",
            help="Frigate's web address, e.g. http://frigate:5000, to link event snapshots.",
        )

    def handle(self, *args, url, client_id, camera_map, topic_prefix, frigate_url, **options):
        url = url or settings.MQTT_URL
        if not url:
            raise CommandError("No MQTT broker: give --url mqtt://host:1883 or set MQTT_URL.")
        try:
            parse_url(url)
            mapping = {}
            for text in camera_map:
                mapping.update(parse_camera_map(text))
        except ValueError as bad:
            raise CommandError(str(bad)) from None
        if frigate_url and not frigate_url.startswith(("http://", "https://")):
            raise CommandError("--frigate-url must be an http(s) address.")

        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        bridge = Bridge(
            url,
            client_id=client_id,
            camera_map=mapping,
            topic_prefix=topic_prefix,
            frigate_url=frigate_url,
        )
        bridge.run(stop)
