"""The shape of the house: the layers hold, every app has the same rooms, a tenth subsystem is one folder."""

import importlib
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import override_settings
from django.urls import clear_url_caches

from ioc import registry

ROOT = Path(__file__).resolve().parent.parent
SUBSYSTEM_APPS = ("reports", "traffic", "onestop", "indicators")
# Every subsystem app has these files, with the same roles (docs/architecture.md).
EVERY_APP_HAS = (
    "models.py",
    "services.py",
    "selectors.py",
    "api/serializers.py",
    "api/views.py",
    "api/urls.py",
    "tasks.py",
    "admin.py",
    "apps.py",
    "demo.py",
)
# An app that serves pages keeps them in views.py (requests and templates only) and urls.py.
PAGES = ("views.py", "urls.py")


def test_the_layers_hold():
    """import-linter: the core imports no app, and no app imports another (pyproject.toml)."""
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("app", SUBSYSTEM_APPS)
def test_every_app_has_the_same_files(app):
    folder = ROOT / app
    missing = [name for name in EVERY_APP_HAS if not (folder / name).is_file()]
    assert not missing, f"{app} lacks {missing}"
    if any((folder / name).exists() for name in PAGES):
        assert all((folder / name).is_file() for name in PAGES), f"{app} has pages: it needs both {PAGES}"


@pytest.fixture
def water_installed():
    """The tenth subsystem's app installed, as a deployment would list it in INSTALLED_APPS."""
    import ioc.urls

    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.toy_subsystem"]):
        importlib.reload(ioc.urls)
        clear_url_caches()
        yield apps.get_app_config("water")
    registry._registry.pop("water", None)
    importlib.reload(ioc.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_a_tenth_subsystem_is_one_folder(water_installed, client, people):
    from ioc.celery import app as celery_app

    client.force_login(people["leader"])
    codes = [s["code"] for s in client.get("/api/v1/subsystems/").json()]
    assert codes[-1] == "water"
    assert 'data-subsystem="water"' in client.get("/wall/").content.decode()
    panel = next(s for s in client.get("/api/v1/dashboard/snapshot/").json()["subsystems"] if s["code"] == "water")
    assert panel["figures"]["kpis"][0]["value"] == 97.5
    assert client.get("/api/v1/water/pressure/").json() == {"pressure_ok": 97.5}
    assert client.get("/water/").status_code == 200
    # Its menu entry shows for the roles it names, and its periodic job is in beat's schedule.
    assert 'href="/water/"' in client.get("/console/").content.decode()
    client.force_login(people["staff_lk"])
    assert 'href="/water/"' not in client.get("/workspace/").content.decode()
    assert celery_app.conf.beat_schedule["water-pressure-sweep"]["task"] == "water.tasks.pressure_sweep"
