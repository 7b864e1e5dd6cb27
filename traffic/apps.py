from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = _("Cameras")
    demo_feed_command = "traffic_demo_feed"
    urls = (("", "traffic.staff_urls"), ("traffic/", "traffic.urls"), ("api/v1/traffic/", "traffic.api.urls"))
    periodic_tasks = {
        "traffic-camera-health-sweep": {"task": "traffic.tasks.camera_health_sweep", "schedule": 60.0},
    }

    @property
    def nav(self):
        from ioc.registry import NavEntry
        from ioc.roles import ADMIN, LEADER, OPERATOR, UNIT_STAFF

        return (
            NavEntry("cameras", _("Cameras"), roles=(OPERATOR, ADMIN, LEADER, UNIT_STAFF), order=20, active="cameras"),
        )

    def ready(self):
        from ioc import ingest, registry
        from traffic.scale import GENERATOR

        registry.register_scale_generator(GENERATOR)  # manage.py bench_data
        from traffic.services import ingest_events

        ingest.register_door("camera_events", ingest_events)
        from ioc import partitions
        from traffic.services import archive_event_days

        partitions.register(
            partitions.PartitionedTable(
                table="traffic_cameraevent",
                column="occurred_at",
                app="traffic",
                retention_setting="IOC_CAMERA_EVENT_RETENTION_MONTHS",
                archive=archive_event_days,
            )
        )
        from traffic.selectors import security_briefing, security_figures, traffic_briefing, traffic_figures

        registry.register(
            registry.Subsystem(
                code="traffic",
                name_vi="Camera giao thông",
                name_en="Traffic cameras",
                order=2,
                app="traffic",
                icon="traffic",
                snapshot=traffic_figures,
                briefing=traffic_briefing,
                panels=("summary", "violations_by_kind", "congestion"),
                map_layer="/api/v1/traffic/cameras/map/?purpose=traffic",
            )
        )
        registry.register(
            registry.Subsystem(
                code="security",
                name_vi="Camera an ninh trật tự",
                name_en="Security cameras",
                order=3,
                app="traffic",
                icon="shield",
                snapshot=security_figures,
                briefing=security_briefing,
                panels=("summary", "incidents"),
                map_layer="/api/v1/traffic/cameras/map/?purpose=security",
            )
        )

    def load_demo(self):
        from traffic.catalogue import ensure_event_kinds
        from traffic.demo import load_demo_cameras

        ensure_event_kinds()
        load_demo_cameras()
