"""Every URL the project answers, walked from the URL resolver, as another ward's staff and key.

Each route has a probe entry saying how to point it at one of Long Khánh's objects and what an
outsider must get: 404 with none of the object's data (an object route), an answer without it (a
list, a page, a public route), or a write that changes nothing (a batch naming Long Khánh's
objects). A route added later without an entry here fails `test_every_route_has_a_probe`.
"""

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from ioc import bus
from ioc.routing import websocket_urlpatterns
from ioc.services import alert_raise
from tests.live import close_worker_thread_connections, collect, live_communicator, open_socket, session_cookie
from tests.world import MARKERS, outsiders, routes, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

OBJECT = "object"  # 404 and none of the object's data
NO_DATA = "no data"  # any answer but a 500, with none of Long Khánh's data
WRITE = "write"  # a write aimed at Long Khánh's objects changes nothing there
GET, POST = "get", "post"


def report(w):
    return w["report"].pk


def directive(w):
    """Long Khánh's open directive on the world's report (made on first use), carrying its marker."""
    from ioc.models import Directive

    found = Directive.objects.filter(owner=w["unit"], subject_id=str(w["report"].pk)).first()
    if found is None:
        now = timezone.now()
        found = Directive.objects.create(
            subject_type="reports.report",
            subject_id=str(w["report"].pk),
            subject_label=MARKERS["report"],
            text=f"Xử lý dứt điểm {MARKERS['report']}",
            owner=w["unit"],
            issued_at=now,
            due_at=now + timedelta(days=3),
        )
    return found.pk


def ward_briefing(w):
    """Long Khánh's kept briefing (made on first use), its file carrying the marker."""
    from django.core.files.base import ContentFile

    from ioc.models import Briefing

    found = Briefing.objects.filter(unit=w["unit"]).first()
    if found is None:
        now = timezone.now()
        found = Briefing(
            unit=w["unit"], period="daily", starts_at=now - timedelta(days=1), ends_at=now, generated_at=now
        )
        found.pdf.save("probe.pdf", ContentFile(f"%PDF {MARKERS['report']}".encode()), save=False)
        found.save()
    return found.pk


def directives_url(w, tail=""):
    directive(w)  # the list has Long Khánh's directive to hide
    return f"/api/v1/directives/{tail}"


def leader_export(w):
    """The province leader's written export of Long Khánh's reports (made on first use): another ward's
    staff find neither the job nor its file."""
    from django.core.files.base import ContentFile

    from ioc.models import Export, User

    found = Export.objects.filter(uid="probe0export0leader").first()
    if found is None:
        found = Export.objects.create(
            uid="probe0export0leader",
            user=User.objects.get(username="leader"),
            list_name="reports",
            format="csv",
            status=Export.Status.DONE,
            rows_total=1,
            rows_done=1,
            finished_at=timezone.now(),
        )
        found.file.save("probe.csv", ContentFile(f"{MARKERS['report']}\n".encode()))
    return found.uid


# route -> list of (method, url built from the world, expectation, body)
PROBES = {
    # --- pages ----------------------------------------------------------------------------------
    "home/": [(GET, "/home/", NO_DATA, None)],
    "": [(GET, "/", NO_DATA, None)],
    "report/": [(GET, "/report/", NO_DATA, None)],
    "report/sent/": [(GET, "/report/sent/", NO_DATA, None)],
    "track/": [(GET, lambda w: f"/track/?code={w['report'].tracking_code}", NO_DATA, None)],
    "track/rate/": [(POST, "/track/rate/", NO_DATA, {"code": "x", "secret": "y", "rating": 5})],
    "track/reopen/": [(POST, "/track/reopen/", NO_DATA, {"code": "x", "secret": "y", "reason": "z"})],
    "public/": [(GET, "/public/", NO_DATA, None)],
    "public/reports.json": [(GET, "/public/reports.json", NO_DATA, None)],
    "public/units/": [(GET, "/public/units/", NO_DATA, None)],
    "wall/": [(GET, "/wall/", NO_DATA, None)],
    # Playlists belong to the centre, not a ward: an outsider's edit is refused (leaders only).
    "wall/playlists/": [(GET, "/wall/playlists/", NO_DATA, None)],
    "wall/playlists/<slug:slug>/": [
        (GET, "/wall/playlists/main/", NO_DATA, None),
        (POST, "/wall/playlists/main/", NO_DATA, {"name": "x", "page_seconds": 8, "form-TOTAL_FORMS": 0}),
    ],
    "console/": [(GET, "/console/", NO_DATA, None)],
    "briefings/": [
        (GET, "/briefings/", NO_DATA, None),
        (POST, "/briefings/", WRITE, {"unit": "26080", "period": "daily"}),
    ],
    "briefings/view/": [(GET, "/briefings/view/?unit=26080&period=weekly", OBJECT, None)],
    "briefings/pdf/": [(GET, "/briefings/pdf/?unit=26080&period=daily", OBJECT, None)],
    "briefings/<int:briefing_id>.pdf": [(GET, lambda w: f"/briefings/{ward_briefing(w)}.pdf", OBJECT, None)],
    "console/reports/": [(GET, "/console/reports/", NO_DATA, None)],
    "console/hotline/": [(GET, "/console/hotline/", NO_DATA, None)],
    "console/cameras/": [(GET, "/console/cameras/", NO_DATA, None)],
    "console/reports/<int:report_id>/": [(GET, lambda w: f"/console/reports/{report(w)}/", OBJECT, None)],
    "workspace/": [(GET, "/workspace/", NO_DATA, None)],
    "login/": [(GET, "/login/", NO_DATA, None)],
    "logout/": [(GET, "/logout/", NO_DATA, None)],
    "i18n/setlang/": [(POST, "/i18n/setlang/", NO_DATA, {"language": "en"})],
    "favicon.ico": [(GET, "/favicon.ico", NO_DATA, None)],
    "healthz": [(GET, "/healthz", NO_DATA, None)],
    "readyz": [(GET, "/readyz", NO_DATA, None)],
    "traffic/snapshots/<int:event_id>": [(GET, lambda w: f"/traffic/snapshots/{w['event'].pk}", OBJECT, None)],
    "onestop/": [(GET, "/onestop/", NO_DATA, None)],
    "onestop/offices/<str:unit_code>/": [(GET, "/onestop/offices/26080/", OBJECT, None)],
    "reports/photos/<str:uid>": [(GET, lambda w: f"/reports/photos/{w['photo'].uid}", OBJECT, None)],
    # --- field reports --------------------------------------------------------------------------
    "api/v1/reports/^$": [(GET, "/api/v1/reports/", NO_DATA, None)],
    "api/v1/reports/^categories/$": [(GET, "/api/v1/reports/categories/", NO_DATA, None)],
    "api/v1/reports/^map/$": [(GET, "/api/v1/reports/map/", NO_DATA, None)],
    "api/v1/reports/^export/$": [(GET, "/api/v1/reports/export/?format=csv&contacts=1", NO_DATA, None)],
    "api/v1/reports/^queue/$": [(GET, "/api/v1/reports/queue/", NO_DATA, None)],
    "api/v1/reports/^workspace/$": [(GET, "/api/v1/reports/workspace/", NO_DATA, None)],
    "api/v1/reports/^device/$": [(POST, "/api/v1/reports/device/", NO_DATA, {})],
    # Operators only: another ward's staff and keys are refused, and Long Khánh's places not listed.
    "api/v1/reports/places/": [(GET, "/api/v1/reports/places/?q=long", NO_DATA, None)],
    "api/v1/reports/hotline/": [
        (
            POST,
            "/api/v1/reports/hotline/",
            NO_DATA,
            {"reporter_phone": "0912345678", "category": "o-ga", "description": "Ổ gà", "unit": "26080"},
        )
    ],
    "api/v1/reports/^track/(?P<code>[A-Za-z0-9-]+)/$": [
        (GET, lambda w: f"/api/v1/reports/track/{w['report'].tracking_code}/", OBJECT, None)
    ],
    "api/v1/reports/^track/(?P<code>[A-Za-z0-9-]+)/rate/$": [
        (
            POST,
            lambda w: f"/api/v1/reports/track/{w['report'].tracking_code}/rate/",
            OBJECT,
            {"secret": "x", "rating": 5},
        )
    ],
    "api/v1/reports/^track/(?P<code>[A-Za-z0-9-]+)/reopen/$": [
        (
            POST,
            lambda w: f"/api/v1/reports/track/{w['report'].tracking_code}/reopen/",
            OBJECT,
            {"secret": "x", "reason": "Chưa sửa xong"},
        )
    ],
    "api/v1/reports/^(?P<pk>[^/.]+)/$": [(GET, lambda w: f"/api/v1/reports/{report(w)}/", OBJECT, None)],
    **{
        f"api/v1/reports/^(?P<pk>[^/.]+)/{step}/$": [
            (POST, lambda w, step=step: f"/api/v1/reports/{report(w)}/{step}/", OBJECT, body)
        ]
        for step, body in [
            ("accept", {}),
            ("take-suggestion", {}),
            ("reject", {"reason": "x"}),
            ("duplicate", {"parent": 1}),
            ("assign", {"unit": "26089"}),
            ("hand-back", {"reason": "x"}),
            ("start", {}),
            ("answer", {"text": "x"}),
            ("resolve", {"note": "x"}),
            ("close", {}),
            ("directive", {"text": "x"}),
        ]
    },
    "api/v1/reports/^(?P<pk>[^/.]+)/duplicates/$": [
        (GET, lambda w: f"/api/v1/reports/{report(w)}/duplicates/", OBJECT, None)
    ],
    # --- cameras --------------------------------------------------------------------------------
    "api/v1/traffic/events/": [
        (
            POST,
            "/api/v1/traffic/events/",
            WRITE,
            {"events": [{"camera": MARKERS["camera"], "kind": "accident", "external_id": "outsider-1"}]},
        )
    ],
    "api/v1/traffic/^cameras/$": [(GET, "/api/v1/traffic/cameras/", NO_DATA, None)],
    "api/v1/traffic/^cameras/map/$": [(GET, "/api/v1/traffic/cameras/map/", NO_DATA, None)],
    "api/v1/traffic/^incidents/$": [(GET, "/api/v1/traffic/incidents/", NO_DATA, None)],
    "api/v1/traffic/^incidents/export/$": [(GET, "/api/v1/traffic/incidents/export/?format=csv", NO_DATA, None)],
    "api/v1/traffic/^events/list/$": [(GET, "/api/v1/traffic/events/list/", NO_DATA, None)],
    "api/v1/traffic/^incidents/(?P<pk>[^/.]+)/$": [
        (GET, lambda w: f"/api/v1/traffic/incidents/{w['incident'].pk}/", OBJECT, None)
    ],
    **{
        f"api/v1/traffic/^incidents/(?P<pk>[^/.]+)/{step}/$": [
            (POST, lambda w, step=step: f"/api/v1/traffic/incidents/{w['incident'].pk}/{step}/", OBJECT, body)
        ]
        for step, body in [
            ("acknowledge", {}),
            ("dispatch", {"unit": "26089"}),
            ("resolve", {"note": "x"}),
            ("false-alarm", {"note": "x"}),
        ]
    },
    # --- one-stop offices -----------------------------------------------------------------------
    "api/v1/onestop/queues/": [
        (
            POST,
            "/api/v1/onestop/queues/",
            WRITE,
            {"figures": [{"counter": MARKERS["counter"].lower(), "waiting": 99, "at": "2026-11-25T08:00:00+07:00"}]},
        )
    ],
    "api/v1/onestop/indicators/": [(GET, "/api/v1/onestop/indicators/?unit=26080", OBJECT, None)],
    "api/v1/onestop/ranking/": [(GET, "/api/v1/onestop/ranking/?unit=26080", OBJECT, None)],
    "api/v1/onestop/^dossiers/$": [
        (GET, "/api/v1/onestop/dossiers/", NO_DATA, None),
        (
            POST,
            "/api/v1/onestop/dossiers/",
            WRITE,
            {"dossiers": [{"code": MARKERS["dossier"], "unit": "26080", "status": 10, "updated_at": "2030-01-01"}]},
        ),
    ],
    "api/v1/onestop/^dossiers/export/$": [(GET, "/api/v1/onestop/dossiers/export/?format=csv", NO_DATA, None)],
    "api/v1/onestop/^dossiers/(?P<code>[^/]+)/$": [
        (GET, f"/api/v1/onestop/dossiers/{MARKERS['dossier']}/", OBJECT, None)
    ],
    "api/v1/onestop/^offices/$": [(GET, "/api/v1/onestop/offices/", NO_DATA, None)],
    "api/v1/onestop/^counters/$": [(GET, "/api/v1/onestop/counters/", NO_DATA, None)],
    "api/v1/onestop/^procedures/$": [(GET, "/api/v1/onestop/procedures/", NO_DATA, None)],
    # --- indicators -----------------------------------------------------------------------------
    "api/v1/indicators/series/": [(GET, "/api/v1/indicators/series/?indicator=pm25-probe&unit=26080", OBJECT, None)],
    "api/v1/indicators/stations/": [(GET, "/api/v1/indicators/stations/?unit=26080", OBJECT, None)],
    "api/v1/indicators/^observations/$": [
        (GET, "/api/v1/indicators/observations/", NO_DATA, None),
        (
            POST,
            "/api/v1/indicators/observations/",
            WRITE,
            {"observations": [{"indicator": "pm25-probe", "unit": "26080", "period": "2026-11-25T08:00", "value": 1}]},
        ),
    ],
    "api/v1/indicators/^observations/export/$": [
        (GET, "/api/v1/indicators/observations/export/?format=csv", NO_DATA, None)
    ],
    "api/v1/indicators/^$": [(GET, "/api/v1/indicators/", NO_DATA, None)],
    "api/v1/indicators/^(?P<code>[^/.]+)/$": [(GET, "/api/v1/indicators/pm25-probe/", NO_DATA, None)],
    # --- platform -------------------------------------------------------------------------------
    "api/v1/subsystems/": [(GET, "/api/v1/subsystems/", NO_DATA, None)],
    "api/v1/dashboard/snapshot/": [(GET, "/api/v1/dashboard/snapshot/", NO_DATA, None)],
    "api/v1/map/units/": [(GET, "/api/v1/map/units/", NO_DATA, None)],
    "api/v1/^alerts/$": [
        (GET, "/api/v1/alerts/", NO_DATA, None),
        (
            POST,
            "/api/v1/alerts/",
            WRITE,
            {"subsystem": "environment", "severity": "critical", "title": "x", "unit": "26080", "dedup_key": "probe"},
        ),
    ],
    "api/v1/^alerts/export/$": [(GET, "/api/v1/alerts/export/?format=csv", NO_DATA, None)],
    "api/v1/^alerts/(?P<pk>[^/.]+)/$": [(GET, lambda w: f"/api/v1/alerts/{w['alert'].pk}/", OBJECT, None)],
    "api/v1/^alerts/(?P<pk>[^/.]+)/acknowledge/$": [
        (POST, lambda w: f"/api/v1/alerts/{w['alert'].pk}/acknowledge/", OBJECT, {})
    ],
    "api/v1/^alerts/(?P<pk>[^/.]+)/resolve/$": [
        (POST, lambda w: f"/api/v1/alerts/{w['alert'].pk}/resolve/", OBJECT, {"note": "x"})
    ],
    "api/v1/^units/$": [(GET, "/api/v1/units/", NO_DATA, None)],
    "api/v1/^units/(?P<code>[^/.]+)/$": [(GET, "/api/v1/units/26080/", OBJECT, None)],
    "api/v1/^exports/$": [(GET, lambda w: leader_export(w) and "/api/v1/exports/", NO_DATA, None)],
    "api/v1/^exports/(?P<uid>[^/.]+)/$": [(GET, lambda w: f"/api/v1/exports/{leader_export(w)}/", OBJECT, None)],
    "api/v1/^exports/(?P<uid>[^/.]+)/file/$": [
        (GET, lambda w: f"/api/v1/exports/{leader_export(w)}/file/", OBJECT, None)
    ],
    "api/v1/^directives/$": [(GET, lambda w: directives_url(w), NO_DATA, None)],
    "api/v1/^directives/(?P<pk>[^/.]+)/done/$": [
        (POST, lambda w: directives_url(w, f"{directive(w)}/done/"), OBJECT, {"note": "x"})
    ],
    # --- Open311 (public: only published reports) -------------------------------------------------
    "open311/v2/^$": [(GET, "/open311/v2/", NO_DATA, None)],
    "open311/v2/": [(GET, "/open311/v2/nothing", NO_DATA, None)],
    "open311/v2/^discovery\\.(?P<fmt>json|xml)$": [(GET, "/open311/v2/discovery.json", NO_DATA, None)],
    "open311/v2/^services\\.(?P<fmt>json|xml)$": [(GET, "/open311/v2/services.json", NO_DATA, None)],
    "open311/v2/^services/(?P<service_code>[-\\w]+)\\.(?P<fmt>json|xml)$": [
        (GET, "/open311/v2/services/o-ga.json", NO_DATA, None)
    ],
    "open311/v2/^requests\\.(?P<fmt>json|xml)$": [(GET, "/open311/v2/requests.json", NO_DATA, None)],
    "open311/v2/^requests/(?P<service_request_id>[-\\w]+)\\.(?P<fmt>json|xml)$": [
        (GET, lambda w: f"/open311/v2/requests/{w['waiting'].tracking_code}.json", NO_DATA, None)
    ],
    "open311/v2/^tokens/(?P<token>[-\\w]+)\\.(?P<fmt>json|xml)$": [
        (GET, lambda w: f"/open311/v2/tokens/{w['waiting'].tracking_code}.json", NO_DATA, None)
    ],
    "api/schema/": [(GET, "/api/schema/", NO_DATA, None)],
    "api/docs/": [(GET, "/api/docs/", NO_DATA, None)],
}
# Published on purpose: Open311 shows a triaged report (the assigned one), with its description.
PUBLIC_ROUTES = {r for r in PROBES if r.startswith("open311/") or r in ("", "public/", "public/reports.json")}


def _body_text(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _call(client, method, url, body):
    if method == GET:
        return client.get(url)
    return client.post(url, json.dumps(body), content_type="application/json")


def test_every_route_has_a_probe():
    missing = [route for route, _pattern in routes() if route not in PROBES]
    assert not missing, f"routes without a cross-scope probe entry in {__name__}.PROBES: {missing}"
    assert [str(p.pattern) for p in websocket_urlpatterns] == ["ws/live/"]  # probed below


def _unpublished_markers(world):
    """What no outsider may read anywhere, the public routes included: everything but the published report."""
    return [m for k, m in MARKERS.items() if k != "report"]


def test_another_wards_staff_and_key_find_nothing_of_long_khanh(world, outsiders, client, people):
    from onestop.models import Counter, Dossier
    from traffic.models import CameraEvent

    before = {
        "events": CameraEvent.objects.count(),
        "dossier": Dossier.objects.get(code=MARKERS["dossier"]).status,
        "counter": Counter.objects.get(pk=world["counter"].pk).waiting,
        "alerts": world["alert"].__class__.objects.count(),
    }
    insider = client
    insider.force_login(people["leader"])
    probed = 0
    for route, probes in PROBES.items():
        for method, url, expect, body in probes:
            url = url(world) if callable(url) else url
            for who, outsider in outsiders.items():
                response = _call(outsider, method, url, body)
                text = _body_text(response)
                where = f"{who}: {method.upper()} {url} -> {response.status_code}"
                assert response.status_code < 500, where
                if expect == OBJECT:
                    # A key may instead be refused by its scopes (an action no key may take) before any
                    # object is looked up, or sent to the login page (pages take no keys).
                    allowed = (404,) if who.startswith("staff") else (302, 403, 404)
                    assert response.status_code in allowed, where
                markers = _unpublished_markers(world) if route in PUBLIC_ROUTES else list(MARKERS.values())
                if expect != WRITE:
                    leaked = [m for m in markers if m in text]
                    assert not leaked, f"{where} shows {leaked}"
                probed += 1
            if expect == OBJECT and method == GET and "/track/" not in url:
                # The same URL finds the object for the province's leader: the probe is not vacuous.
                assert _call(insider, method, url, body).status_code == 200, f"leader: GET {url}"
    assert CameraEvent.objects.count() == before["events"]
    assert Dossier.objects.get(code=MARKERS["dossier"]).status == before["dossier"]
    assert Counter.objects.get(pk=world["counter"].pk).waiting == before["counter"]
    assert world["alert"].__class__.objects.count() == before["alerts"]
    assert probed >= 2 * len(PROBES)


def test_another_wards_socket_hears_nothing_of_long_khanh(city, people):
    """/ws/live/: Bình Lộc's staff hear nothing of Long Khánh; the leader hears it (not vacuous)."""
    from channels.db import database_sync_to_async

    cookies = {who: session_cookie(people[who]) for who in ("staff_bl", "leader")}

    async def scenario():
        outsider, connected, _code = await open_socket(cookies["staff_bl"])
        leader, leader_connected, _code = await open_socket(cookies["leader"])
        assert connected and leader_connected
        await database_sync_to_async(alert_raise)(
            subsystem="environment",
            severity="critical",
            title=MARKERS["alert"],
            unit=city["long_khanh"],
            dedup_key="probe-ws",
        )
        await database_sync_to_async(bus.flush)(timeout=5)
        heard_by_leader = await collect(leader, 2)
        heard_by_outsider = await collect(outsider, 1)
        await outsider.disconnect()
        await leader.disconnect()
        await close_worker_thread_connections()
        return heard_by_leader, heard_by_outsider

    heard_by_leader, heard_by_outsider = async_to_sync(scenario)()
    assert any(MARKERS["alert"] in json.dumps(m, ensure_ascii=False) for m in heard_by_leader)
    assert not [m for m in heard_by_outsider if m.get("unit") == "26080" or MARKERS["alert"] in json.dumps(m)]


def test_a_key_cannot_open_a_live_socket(city):
    """Live sockets are for people signed in; a key in the headers gets no socket."""
    from ioc.services import API_KEY_SCOPES, api_key_create

    _key, plain = api_key_create(name="socket", scopes=list(API_KEY_SCOPES), unit=city["province"])

    async def scenario():
        communicator = live_communicator(authorization=f"Bearer {plain}")
        connected, _code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected

    assert async_to_sync(scenario)() is False
