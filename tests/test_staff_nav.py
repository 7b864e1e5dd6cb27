"""Staff navigation by role: each person's menu holds exactly the screens they may open, and a page
their role may not open answers a page in the site's frame that points to their own screen."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from ioc import registry, views
from ioc.roles import roles_of

pytestmark = pytest.mark.django_db

PEOPLE = ("admin", "leader", "operator", "staff_lk")


def every_entry():
    return {entry.url_name: entry for entry in registry.contributions("nav")}


@pytest.mark.parametrize("who", PEOPLE)
def test_the_menu_holds_exactly_the_screens_the_role_may_open(client, people, who):
    client.force_login(people[who])
    shown = {entry.url_name for entry in registry.nav_for(people[who])}
    for name in every_entry():
        status = client.get(reverse(name)).status_code
        if name in shown:
            assert status == 200, f"{who} ({roles_of(people[who])}) sees {name} but gets {status}"
        else:
            assert status == 403, f"{who} may open {name} ({status}) but has no link to it"


def test_unit_staff_see_no_console_link_and_the_console_sends_them_to_their_workspace(client, people):
    client.force_login(people["staff_lk"])
    workspace = client.get("/workspace/").content.decode()
    assert 'href="/console/"' not in workspace and 'href="/wall/playlists/"' not in workspace
    refused = client.get("/console/")
    assert refused.status_code == 403
    html = refused.content.decode()
    with translation.override("vi"):
        assert gettext("Your role does not give access to this page.") in html
        assert gettext("Workspace") in html
    assert 'class="go-home" href="/workspace/"' in html
    assert 'class="staff-nav"' in html and 'href="/console/"' not in html  # the staff frame, their own menu
    assert 'lang="vi"' in html


def test_the_refusal_speaks_the_chosen_language(client, people):
    client.force_login(people["operator"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    refused = client.get("/wall/playlists/")
    html = refused.content.decode()
    assert refused.status_code == 403 and 'lang="en"' in html
    assert "Your role does not give access to this page." in html and 'class="go-home" href="/console/"' in html


def test_an_api_path_keeps_its_own_error_shape(rf, people):
    request = rf.get("/api/v1/anything/")
    request.user = people["staff_lk"]
    response = views.forbidden(request, PermissionDenied())
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
