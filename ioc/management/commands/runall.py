"""`make run`: prepare the database, then run the web server (uvicorn with IOC_WEB_WORKERS worker
processes), a Celery worker, Celery beat and the demo feeds as children, supervised: a child that
exits is started again with backoff, and so is an embedded PostgreSQL or Redis that dies. Ctrl-C or
SIGTERM stops every one of them and the embedded servers."""

import os
import signal
import sys

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ioc import embedded
from ioc.demo import DEMO_USERS
from ioc.supervisor import Server, Supervisor


class Command(BaseCommand):
    help = "Run the whole IOC on this machine (web, worker, beat, demo feeds)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--no-demo", action="store_true", help="Skip loading the demo city.")

    def handle(self, *args, port, host, no_demo, **options):
        embedded_servers = not os.environ.get("DATABASE_URL") and not os.environ.get("REDIS_URL")
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("load_demo")
        call_command("collectstatic", interactive=False, verbosity=0)

        # Children use the servers this process resolved, embedded or configured.
        env = dict(os.environ, DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL)
        python = sys.executable
        commands = {
            # uvicorn's supervisor stops its workers on SIGTERM; each worker has its own live-bus sender.
            "web": [
                python,
                "-m",
                "uvicorn",
                "ioc.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(settings.IOC_WEB_WORKERS),
                # Forwarding headers only from IOC_TRUSTED_PROXIES, the list the application trusts too.
                *(
                    ["--proxy-headers", "--forwarded-allow-ips", ",".join(settings.IOC_TRUSTED_PROXIES)]
                    if settings.IOC_TRUSTED_PROXIES
                    else ["--no-proxy-headers"]
                ),
                # Idle connections stay open longer than clients and proxies reuse them (uvicorn: 5 s).
                "--timeout-keep-alive",
                "75",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "ioc",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "ioc",
                "beat",
                "--loglevel=INFO",
                "-s",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        if not no_demo:
            # Each subsystem app may name a management command that feeds it demo data.
            for app in apps.get_app_configs():
                feed = getattr(app, "demo_feed_command", None)
                if feed:
                    commands[f"{app.label}-feed"] = [python, "manage.py", feed]
        if settings.MQTT_URL:
            # Camera events from Frigate NVR and other systems publishing on the broker.
            commands["camera-mqtt"] = [python, "manage.py", "camera_mqtt_bridge"]

        servers = []
        if embedded_servers:
            servers = [
                Server("embedded PostgreSQL", embedded.postgres_alive, embedded.start_postgres),
                Server("embedded Redis", embedded.redis_alive, embedded.start_redis),
            ]
        supervisor = Supervisor(commands, env=env, servers=servers, say=lambda text: self.stderr.write(text))
        signal.signal(signal.SIGINT, supervisor.request_stop)
        signal.signal(signal.SIGTERM, supervisor.request_stop)
        try:
            supervisor.start()
            self._banner(host, port, list(commands))
            supervisor.run()  # children and embedded servers that die are started again
        finally:
            self.stdout.write("Stopping…")
            supervisor.stop()
            if embedded_servers:
                embedded.stop_all()
            self.stdout.write("Stopped.")

    def _banner(self, host, port, names):
        # Only shown to the person, never bound here.
        shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        lines = [
            "",
            f"IOC is running at http://{shown_host}:{port}/  (wall: /wall/, API docs: /api/docs/)",
            f"Started: {', '.join(names)}",
            "Demo logins (password: " + settings.IOC_DEMO_PASSWORD + "): " + ", ".join(u[0] for u in DEMO_USERS),
            "Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))
