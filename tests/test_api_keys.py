"""Machines authenticate with API keys: hashed, scoped, revocable, last use recorded."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from ioc import services
from ioc.models import Alert, ApiKey

pytestmark = pytest.mark.django_db

ALERT = {
    "subsystem": "traffic",
    "severity": "critical",
    "title": "Tai nạn trên QL1A",
    "unit": "26080",
    "dedup_key": "accident-ql1a-km1835",
}


def machine(plain):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def test_a_key_raises_an_alert_in_its_unit_and_its_use_is_recorded(city, machine_key):
    key, plain = machine_key
    assert key.last_used_at is None
    response = machine(plain).post("/api/v1/alerts/", ALERT, format="json")
    assert response.status_code == 201, response.content
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert Alert.objects.get().unit.code == "26080"


def test_only_the_hash_is_stored(city, machine_key):
    key, plain = machine_key
    stored = ApiKey.objects.get(pk=key.pk)
    assert plain not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.key_hash == services.hash_api_key(plain)


def test_a_revoked_or_wrong_key_is_401(city, machine_key):
    key, plain = machine_key
    assert machine(plain[:-2] + "xx").post("/api/v1/alerts/", ALERT, format="json").status_code == 401
    services.api_key_revoke(key=key)
    response = machine(plain).post("/api/v1/alerts/", ALERT, format="json")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"].lower() or "thu hồi" in response.json()["detail"].lower()
    assert not Alert.objects.exists()


def test_a_key_without_the_scope_is_403(city):
    _, plain = services.api_key_create(name="indicators", scopes=["indicators:write"], unit=city["province"])
    assert machine(plain).post("/api/v1/alerts/", ALERT, format="json").status_code == 403


def test_a_ward_key_cannot_reach_another_ward(city):
    _, plain = services.api_key_create(name="ward-app", scopes=["alerts:write", "alerts:read"], unit=city["binh_loc"])
    assert machine(plain).post("/api/v1/alerts/", ALERT, format="json").status_code == 404
    other = services.alert_raise(
        subsystem="traffic", severity="info", title="x", unit=city["long_khanh"], dedup_key="x"
    )[0]
    assert machine(plain).get(f"/api/v1/alerts/{other.pk}/").status_code == 404


def test_create_api_key_command_prints_the_key_once(city):
    out = StringIO()
    call_command(
        "create_api_key",
        "frigate-long-khanh",
        "--scope",
        "alerts:write,traffic:write",
        "--unit",
        "26080",
        stdout=out,
        stderr=StringIO(),
    )
    plain = out.getvalue().strip()
    key = ApiKey.objects.get(name="frigate-long-khanh")
    assert key.scopes == ["alerts:write", "traffic:write"]
    assert key.unit.code == "26080"
    assert machine(plain).post("/api/v1/alerts/", ALERT, format="json").status_code == 201


def test_create_api_key_command_rejects_unknown_scope_and_unit(city):
    with pytest.raises(CommandError, match="everything"):
        call_command("create_api_key", "x", "--scope", "everything", "--unit", "26080", stdout=StringIO())
    with pytest.raises(CommandError, match="No unit"):
        call_command("create_api_key", "x", "--scope", "alerts:write", "--unit", "00000", stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_each_key_has_its_own_rate_limit(city, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "100/min"})
    cache.clear()
    first = machine(services.api_key_create(name="a", scopes=["alerts:read"], unit=city["province"])[1])
    second = machine(services.api_key_create(name="b", scopes=["alerts:read"], unit=city["province"])[1])
    assert [first.get("/api/v1/alerts/").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/v1/alerts/").status_code == 200
