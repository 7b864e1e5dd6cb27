from django.apps import AppConfig


def water_figures(scope):
    """The wall panel's figures for a scope (cheap; None while the subsystem holds no data)."""
    return {"kpis": [{"code": "pressure_ok", "label": "Áp lực đạt", "value": 97.5, "unit": "%", "status": "ok"}]}


class WaterConfig(AppConfig):
    name = "tests.toy_subsystem"
    label = "water"
    verbose_name = "Cấp nước"
    urls = (("water/", "tests.toy_subsystem.urls"), ("api/v1/water/", "tests.toy_subsystem.api_urls"))
    periodic_tasks = {"water-pressure-sweep": {"task": "water.tasks.pressure_sweep", "schedule": 300.0}}

    @property
    def nav(self):
        from ioc.registry import NavEntry
        from ioc.roles import ADMIN, LEADER, OPERATOR

        return (NavEntry("water:stations", "Cấp nước", roles=(LEADER, OPERATOR, ADMIN), order=60, active="water"),)

    def ready(self):
        from ioc import registry

        registry.register(
            registry.Subsystem(
                code="water",
                name_vi="Cấp nước",
                name_en="Water supply",
                order=10,
                app="water",
                icon="droplet",
                snapshot=water_figures,
            )
        )
