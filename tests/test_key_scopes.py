"""The key-scope matrix: every API operation x every scope, allowed or refused, nothing else.

The table below is the contract a city hands its vendors: which scope an operation needs. A key with
that scope is let through (its answer may still be a 400 or a 404 for the request itself, never a
401 or 403); a key with any other scope is refused with 403 and changes nothing. An API operation
added later without a row here fails `test_every_api_operation_is_in_the_table`.
"""

import pytest
from rest_framework.views import APIView

from ioc.auth import ANY_KEY
from ioc.services import API_KEY_SCOPES, api_key_create
from tests.test_scope_probe import PROBES, _body_text, _call
from tests.world import key_client, routes, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

NO_KEY = None  # no key may do it: people's work (triage, handling, acknowledging) or a citizen's own

TABLE = {
    # field reports
    ("api/v1/reports/^$", "get"): "reports:read",
    ("api/v1/reports/^$", "post"): "reports:write",
    ("api/v1/reports/^categories/$", "get"): ANY_KEY,
    ("api/v1/reports/^map/$", "get"): "reports:read",
    ("api/v1/reports/^export/$", "get"): "reports:read",
    ("api/v1/reports/^queue/$", "get"): "reports:read",
    ("api/v1/reports/^workspace/$", "get"): NO_KEY,
    ("api/v1/reports/^device/$", "post"): NO_KEY,
    # the hotline form: an operator with a caller on the line (it accepts and assigns, like triage)
    ("api/v1/reports/places/", "get"): NO_KEY,
    ("api/v1/reports/hotline/", "post"): NO_KEY,
    ("api/v1/reports/^track/(?P<code>[A-Za-z0-9-]+)/$", "get"): "reports:write",
    ("api/v1/reports/^track/(?P<code>[A-Za-z0-9-]+)/rate/$", "post"): "reports:write",
    ("api/v1/reports/^track/(?P<code>[A-Za-z0-9-]+)/reopen/$", "post"): "reports:write",
    ("api/v1/reports/^(?P<pk>[^/.]+)/$", "get"): "reports:read",
    ("api/v1/reports/^(?P<pk>[^/.]+)/duplicates/$", "get"): "reports:read",
    **{
        (f"api/v1/reports/^(?P<pk>[^/.]+)/{step}/$", "post"): NO_KEY
        for step in (
            "accept",
            "take-suggestion",
            "reject",
            "duplicate",
            "assign",
            "hand-back",
            "start",
            "answer",
            "resolve",
            "close",
            "directive",
        )
    },
    # cameras
    ("api/v1/traffic/events/", "post"): "traffic:write",
    ("api/v1/traffic/^cameras/$", "get"): "traffic:read",
    ("api/v1/traffic/^cameras/map/$", "get"): "traffic:read",
    ("api/v1/traffic/^incidents/$", "get"): "traffic:read",
    ("api/v1/traffic/^incidents/export/$", "get"): "traffic:read",
    ("api/v1/traffic/^incidents/(?P<pk>[^/.]+)/$", "get"): "traffic:read",
    ("api/v1/traffic/^events/list/$", "get"): "traffic:read",
    **{
        (f"api/v1/traffic/^incidents/(?P<pk>[^/.]+)/{step}/$", "post"): NO_KEY
        for step in ("acknowledge", "dispatch", "resolve", "false-alarm")
    },
    # one-stop offices
    ("api/v1/onestop/queues/", "post"): "onestop:write",
    ("api/v1/onestop/indicators/", "get"): "onestop:read",
    ("api/v1/onestop/ranking/", "get"): "onestop:read",
    ("api/v1/onestop/^dossiers/$", "get"): "onestop:read",
    ("api/v1/onestop/^dossiers/$", "post"): "onestop:write",
    ("api/v1/onestop/^dossiers/export/$", "get"): "onestop:read",
    ("api/v1/onestop/^dossiers/(?P<code>[^/]+)/$", "get"): "onestop:read",
    ("api/v1/onestop/^offices/$", "get"): "onestop:read",
    ("api/v1/onestop/^counters/$", "get"): "onestop:read",
    ("api/v1/onestop/^procedures/$", "get"): "onestop:read",
    # indicators
    ("api/v1/indicators/series/", "get"): "indicators:read",
    ("api/v1/indicators/stations/", "get"): "indicators:read",
    ("api/v1/indicators/^observations/$", "get"): "indicators:read",
    ("api/v1/indicators/^observations/$", "post"): "indicators:write",
    ("api/v1/indicators/^observations/export/$", "get"): "indicators:read",
    ("api/v1/indicators/^$", "get"): "indicators:read",
    ("api/v1/indicators/^(?P<code>[^/.]+)/$", "get"): "indicators:read",
    # platform
    ("api/v1/subsystems/", "get"): ANY_KEY,
    ("api/v1/dashboard/snapshot/", "get"): "dashboard:read",
    ("api/v1/map/units/", "get"): "dashboard:read",
    ("api/v1/^alerts/$", "get"): "alerts:read",
    ("api/v1/^alerts/$", "post"): "alerts:write",
    ("api/v1/^alerts/export/$", "get"): "alerts:read",
    ("api/v1/^alerts/(?P<pk>[^/.]+)/$", "get"): "alerts:read",
    ("api/v1/^alerts/(?P<pk>[^/.]+)/acknowledge/$", "post"): NO_KEY,
    ("api/v1/^alerts/(?P<pk>[^/.]+)/resolve/$", "post"): "alerts:write",
    ("api/v1/^units/$", "get"): ANY_KEY,
    ("api/v1/^units/(?P<code>[^/.]+)/$", "get"): ANY_KEY,
    # export jobs: a person's own files (a key's export above the row limit is refused, never queued)
    ("api/v1/^exports/$", "get"): NO_KEY,
    ("api/v1/^exports/(?P<uid>[^/.]+)/$", "get"): NO_KEY,
    ("api/v1/^exports/(?P<uid>[^/.]+)/file/$", "get"): NO_KEY,
    # leaders' directives: the leaders' and the units' own work, no key reads or closes them
    ("api/v1/^directives/$", "get"): NO_KEY,
    ("api/v1/^directives/(?P<pk>[^/.]+)/done/$", "post"): NO_KEY,
    # Open311: reading is public, submitting needs the scope (its key comes as the api_key field)
    ("open311/v2/^discovery\\.(?P<fmt>json|xml)$", "get"): ANY_KEY,
    ("open311/v2/^services\\.(?P<fmt>json|xml)$", "get"): ANY_KEY,
    ("open311/v2/^services/(?P<service_code>[-\\w]+)\\.(?P<fmt>json|xml)$", "get"): ANY_KEY,
    ("open311/v2/^requests\\.(?P<fmt>json|xml)$", "get"): ANY_KEY,
    ("open311/v2/^requests\\.(?P<fmt>json|xml)$", "post"): "reports:write",
    ("open311/v2/^requests/(?P<service_request_id>[-\\w]+)\\.(?P<fmt>json|xml)$", "get"): ANY_KEY,
    ("open311/v2/^tokens/(?P<token>[-\\w]+)\\.(?P<fmt>json|xml)$", "get"): ANY_KEY,
    ("api/schema/", "get"): ANY_KEY,
    ("api/docs/", "get"): ANY_KEY,
}


def api_operations():
    """(route, method) of every operation served by a REST framework view."""
    for route, pattern in routes():
        cls = getattr(pattern.callback, "cls", None)
        if cls is None or not issubclass(cls, APIView):
            continue
        actions = getattr(pattern.callback, "actions", None)
        methods = actions or [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]
        for method in methods:
            if method != "head":  # REST framework adds HEAD beside GET (once served): it reads like GET
                yield route, method


def test_every_api_operation_is_in_the_table():
    operations = set(api_operations())
    assert sorted(operations - set(TABLE)) == [], "add these operations to the key-scope table"
    assert sorted(set(TABLE) - operations) == [], "these rows name operations that no longer exist"


# Operations the outsiders' probe does not send (anyone may report a problem anywhere).
EXTRA_REQUESTS = {
    ("api/v1/reports/^$", "post"): (
        "/api/v1/reports/",
        {"category": "o-ga", "description": "Ổ gà", "latitude": 10.9372, "longitude": 107.2431},
    ),
    ("open311/v2/^requests\\.(?P<fmt>json|xml)$", "post"): ("/open311/v2/requests.json", None),
}


def _request(world, route, method):
    if (route, method) in EXTRA_REQUESTS:
        return EXTRA_REQUESTS[(route, method)]
    for probe_method, url, _expect, body in PROBES[route]:
        if probe_method == method:
            return (url(world) if callable(url) else url), body
    raise AssertionError(f"no probe for {method.upper()} {route}")


def test_each_scope_does_exactly_what_the_table_says(world, city):
    keys = {
        scope: api_key_create(name=f"only-{scope}", scopes=[scope], unit=city["province"])[1]
        for scope in API_KEY_SCOPES
    }
    clients = {scope: key_client(plain) for scope, plain in keys.items()}  # one client (and handler) per key
    checked = 0
    for (route, method), needed in TABLE.items():
        url, body = _request(world, route, method)
        for scope, plain in keys.items():
            if url == "/open311/v2/requests.json" and method == "post":
                response = clients[scope].post(url, {"api_key": plain, "service_code": "nothing"})
            else:
                response = _call(clients[scope], method, url, body)
            allowed = needed in (ANY_KEY, scope)
            where = f"{scope}: {method.upper()} {url} -> {response.status_code} {_body_text(response)[:200]!r}"
            assert response.status_code < 500, where
            if allowed:
                assert response.status_code not in (401, 403), where
            else:
                assert response.status_code == 403, where
            checked += 1
    assert checked == len(TABLE) * len(API_KEY_SCOPES)


def test_a_read_key_sees_reports_without_their_reporters_unless_given_contacts(world, city):
    report = world["report"]
    read_only = key_client(api_key_create(name="bi", scopes=["reports:read"], unit=city["province"])[1])
    shown = read_only.get(f"/api/v1/reports/{report.pk}/").json()
    assert "reporter" not in shown and "0912345678" not in str(shown) and "Nguyễn Văn An" not in str(shown)
    with_contacts = key_client(
        api_key_create(name="hotline", scopes=["reports:read", "reports:contacts"], unit=city["province"])[1]
    )
    assert with_contacts.get(f"/api/v1/reports/{report.pk}/").json()["reporter"]["phone"] == "0912345678"
    # Lists never carry contacts, whatever the key.
    assert "0912345678" not in with_contacts.get("/api/v1/reports/").content.decode()


def test_a_key_resolves_only_the_alerts_it_raised(world, city):
    plain = api_key_create(name="aqi", scopes=["alerts:write"], unit=city["province"])[1]
    key = key_client(plain)
    raised = key.post(
        "/api/v1/alerts/",
        {"subsystem": "environment", "severity": "warning", "title": "PM2.5", "unit": "26080", "dedup_key": "aqi"},
        format="json",
    ).json()
    assert key.post(f"/api/v1/alerts/{world['alert'].pk}/resolve/", {"note": "x"}, format="json").status_code == 404
    assert key.post(f"/api/v1/alerts/{raised['id']}/resolve/", {"note": "ok"}, format="json").json()["state"] == (
        "resolved"
    )


def test_dedup_keys_live_in_the_raisers_namespace(world, city):
    """Another unit's alert cannot be found, counted or escalated by guessing its dedup key."""
    alert = world["alert"]  # raised by the system in Long Khánh with the key "probe"
    for unit in ("26089", "26080"):
        plain = api_key_create(name=f"guess-{unit}", scopes=["alerts:write"], unit=city["province"])[1]
        body = {"subsystem": "environment", "severity": "critical", "title": "x", "unit": unit, "dedup_key": "probe"}
        response = key_client(plain).post("/api/v1/alerts/", body, format="json")
        assert response.status_code == 201 and response.json()["id"] != alert.pk
    alert.refresh_from_db()
    assert alert.count == 1
    # The same key repeating its own alert in its own unit counts onto it.
    plain = api_key_create(name="repeat", scopes=["alerts:write"], unit=city["binh_loc"])[1]
    body = {"subsystem": "environment", "severity": "info", "title": "x", "unit": "26089", "dedup_key": "k"}
    first = key_client(plain).post("/api/v1/alerts/", body, format="json")
    second = key_client(plain).post("/api/v1/alerts/", {**body, "severity": "critical"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["count"] == 2
