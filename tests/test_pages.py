"""Login, logout, language, health, API docs, the wall page and its snapshot."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_vietnamese_by_default_and_english_on_request(client):
    page = client.get("/login/")
    assert page.status_code == 200
    assert 'lang="vi"' in page.content.decode()
    assert "Đăng nhập" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    english = client.get("/login/").content.decode()
    assert 'lang="en"' in english and "Log in" in english


def test_login_and_logout(client, people):
    response = client.post("/login/", {"username": "leader", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/wall/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/wall/").status_code == 302


def test_repeated_failed_logins_lock_the_account_for_a_while(client, people, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "leader", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    locked = client.post("/login/", {"username": "leader", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert locked.status_code == 429
    assert client.get("/wall/").status_code == 302  # still not logged in


def test_wall_needs_login(client):
    response = client.get("/wall/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_wall_has_a_panel_per_enabled_subsystem(client, people):
    client.force_login(people["leader"])
    html = client.get("/wall/").content.decode()
    assert html.count('class="panel"') == 9
    for code in [
        "reports",
        "traffic",
        "security",
        "onestop",
        "socioeconomic",
        "health",
        "education",
        "tourism",
        "environment",
    ]:
        assert f'data-subsystem="{code}"' in html


def test_a_disabled_subsystem_leaves_the_wall_and_the_api(client, people, settings):
    settings.IOC_SUBSYSTEMS_DISABLED = ["tourism"]
    client.force_login(people["leader"])
    assert 'data-subsystem="tourism"' not in client.get("/wall/").content.decode()
    codes = [s["code"] for s in client.get("/api/v1/subsystems/").json()]
    assert "tourism" not in codes and len(codes) == 8


def test_subsystems_are_listed_in_wall_order_with_both_names(client, people):
    client.force_login(people["operator"])
    subsystems = client.get("/api/v1/subsystems/").json()
    assert [s["code"] for s in subsystems] == [
        "reports",
        "traffic",
        "security",
        "onestop",
        "socioeconomic",
        "health",
        "education",
        "tourism",
        "environment",
    ]
    assert subsystems[0]["name_vi"] == "Phản ánh hiện trường"
    assert subsystems[0]["name_en"] == "Field reports"


def test_snapshot_is_scoped_and_says_honestly_when_there_is_no_data(client, city, people):
    from ioc import services

    services.alert_raise(
        subsystem="traffic", severity="critical", title="Tai nạn", unit=city["binh_loc"], dedup_key="a"
    )
    client.force_login(people["staff_lk"])
    snapshot = client.get("/api/v1/dashboard/snapshot/").json()
    assert snapshot["scope"]["unit"] == "26080"
    assert len(snapshot["subsystems"]) == 9
    assert snapshot["alerts"] == []
    assert all(s["figures"] is None for s in snapshot["subsystems"])  # no subsystem holds data yet
    client.force_login(people["leader"])
    snapshot = client.get("/api/v1/dashboard/snapshot/").json()
    traffic = next(s for s in snapshot["subsystems"] if s["code"] == "traffic")
    assert traffic["alerts"]["critical"] == 1
    assert [a["title"] for a in snapshot["alerts"]] == ["Tai nạn"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}  # the detail is for staff (tests/test_security_headers.py)


def test_openapi_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/alerts/{id}/acknowledge/" in paths
    assert "/api/v1/dashboard/snapshot/" in paths
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn.jsdelivr" not in docs and "unpkg.com" not in docs


def test_admin_lists_units_users_keys_and_alerts(client, people):
    client.force_login(people["admin"])
    for model in ["unit", "user", "apikey", "alert"]:
        assert client.get(f"/admin/ioc/{model}/").status_code == 200
