"""A scope's figures are kept a moment for every screen of it, and dropped when a change is announced."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

SNAPSHOT = "/api/v1/dashboard/snapshot/"


@pytest.fixture
def kept(settings):
    settings.IOC_SNAPSHOT_FIGURES_SECONDS = 30


def figures(client, code="reports"):
    body = client.get(SNAPSHOT).json()
    return next(s["figures"] for s in body["subsystems"] if s["code"] == code)


def queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(SNAPSHOT).status_code == 200
    return len(captured)


def test_the_second_screen_of_a_scope_reads_the_kept_figures(kept, categories, people, api_as):
    leader = api_as(people["leader"])
    first = queries(leader)
    second = queries(leader)
    assert second < first
    # Another leader of the same province: the same figures, without computing them again.
    assert queries(api_as(people["leader"])) == second


def test_an_announced_change_is_in_the_very_next_snapshot(
    kept, categories, submit, people, api_as, django_capture_on_commit_callbacks
):
    leader = api_as(people["leader"])
    before = figures(leader)
    with django_capture_on_commit_callbacks(execute=True):
        submit()  # commits, announces the reports' figures as changed
    after = figures(leader)
    assert after != before
    assert figures(leader) == after


def test_each_scope_and_language_keeps_its_own(kept, categories, submit, people, api_as):
    leader, ward = api_as(people["leader"]), api_as(people["staff_lk"])
    with_nothing = figures(ward)
    assert figures(leader) is not None
    english = api_as(people["leader"])
    english.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert english.get(SNAPSHOT).status_code == 200
    assert figures(ward) == with_nothing


def test_with_no_seconds_every_snapshot_computes(settings, categories, people, api_as):
    settings.IOC_SNAPSHOT_FIGURES_SECONDS = 0
    leader = api_as(people["leader"])
    queries(leader)  # the first read of a process fills what it keeps for good (the session, the registry)
    assert queries(leader) == queries(leader)
