"""Leaders choose what each wall shows without code: a playlist per wall, read with the snapshot."""

import pytest
from django.conf import settings

from ioc.models import WallPlaylist

pytestmark = pytest.mark.django_db


def form(screens, name="Sảnh chính", page_seconds=8, extra_rows=0):
    data = {"name": name, "page_seconds": page_seconds, "form-TOTAL_FORMS": len(screens) + extra_rows}
    data.update({"form-INITIAL_FORMS": 0, "form-MIN_NUM_FORMS": 0, "form-MAX_NUM_FORMS": 30})
    for n, (screen, seconds) in enumerate(screens):
        data[f"form-{n}-screen"], data[f"form-{n}-seconds"] = screen, seconds
    return data


def test_a_leader_saves_a_playlist_and_the_wall_reads_it_with_the_snapshot(client, people):
    client.force_login(people["leader"])
    response = client.post("/wall/playlists/hall/", form([("reports", 40), ("overview", 90), ("traffic", 20)]))
    assert response.status_code == 302
    playlist = client.get("/api/v1/dashboard/snapshot/?playlist=hall").json()["playlist"]
    assert playlist["name"] == "Sảnh chính" and playlist["saved"] is True
    assert [(s["screen"], s["seconds"]) for s in playlist["screens"]] == [
        ("reports", 40),
        ("overview", 90),
        ("traffic", 20),
    ]
    # Edited again: the screens are replaced, not added to.
    client.post("/wall/playlists/hall/", form([("environment", 30)], name="Sảnh", page_seconds=10))
    playlist = client.get("/api/v1/dashboard/snapshot/?playlist=hall").json()["playlist"]
    assert [(s["screen"], s["seconds"]) for s in playlist["screens"]] == [("environment", 30)]
    assert playlist["page_seconds"] == 10


def test_a_wall_without_a_saved_playlist_shows_the_overview_then_every_subsystem(client, people):
    client.force_login(people["leader"])
    playlist = client.get("/api/v1/dashboard/snapshot/?playlist=nowhere").json()["playlist"]
    screens = [s["screen"] for s in playlist["screens"]]
    assert screens[0] == "overview" and len(screens) == 10 and playlist["saved"] is False


@pytest.mark.parametrize(
    "screens, message",
    [
        ([], "at least one screen"),
        ([("nonsense", 30)], "Select a valid choice"),
        ([("reports", 2)], "greater than or equal to 5"),
    ],
)
def test_bad_playlists_are_refused_and_change_nothing(client, people, screens, message):
    client.force_login(people["leader"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/wall/playlists/hall/", form(screens))
    assert response.status_code == 200 and message in response.content.decode()
    assert not WallPlaylist.objects.filter(slug="hall").exists()


def test_only_leaders_and_administrators_edit_playlists(client, people):
    for role in ("operator", "staff_lk"):
        client.force_login(people[role])
        assert client.get("/wall/playlists/").status_code == 403
        assert client.post("/wall/playlists/hall/", form([("reports", 30)])).status_code == 403
    assert not WallPlaylist.objects.exists()
