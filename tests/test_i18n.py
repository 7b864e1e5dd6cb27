"""Vietnamese by default, English on request: the wall page, API messages and the catalogue."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from ioc import services
from ioc.models import Alert, Severity

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES"
# %(name)s, %s, %d, a literal %% and {name}: each must appear in the translation as often as in the source.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|%%|\{\w*\}")


def raise_alert(unit, key="i18n"):
    alert, _ = services.alert_raise(
        subsystem="traffic", severity="critical", title="Ùn tắc QL1A", unit=unit, dedup_key=key
    )
    return alert


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


def po_entries(path):
    """(msgctxt, msgid) → {"plural": msgid_plural or None, "forms": [msgstr, …]} of a .po file, without the header."""
    entries, current, field = {}, None, None

    def unquote(text):
        return text[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")

    def flush():
        if current and current["msgid"]:
            forms = [current["msgstr"][i] for i in sorted(current["msgstr"])]
            entries[(current["msgctxt"], current["msgid"])] = {"plural": current["msgid_plural"], "forms": forms}

    for line in path.read_text(encoding="utf-8").splitlines():
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and (keyword == "msgctxt" or current is None or current["msgstr"]):
            flush()
            current = {"msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": {}}
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            field = keyword
            current[field] = unquote(rest)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            field = 0 if keyword == "msgstr" else int(keyword[len("msgstr[") : -1])
            current["msgstr"][field] = unquote(rest)
        elif line.startswith('"') and current is not None and field is not None:
            if isinstance(field, int):
                current["msgstr"][field] += unquote(line)
            else:
                current[field] += unquote(line)
        elif not line.strip() or line.startswith("#"):
            field = None
    flush()
    return entries


def test_wall_is_vietnamese_by_default(client, people):
    client.force_login(people["leader"])
    page = client.get("/wall/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="vi"' in html
    assert "Trực tuyến" in html or "Đang kết nối…" in html
    assert "Cảnh báo" in html
    assert "Mất kết nối, đang thử lại" in html
    assert "Connection lost, retrying" not in html
    assert page["Content-Language"] == "vi"


def test_wall_switches_to_english_on_request(client, people):
    client.force_login(people["leader"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/wall/"})
    html = client.get("/wall/").content.decode()
    assert 'lang="en"' in html
    assert "Live" in html and "Connecting…" in html
    assert "Alerts" in html and "Connection lost, retrying" in html
    assert "Trực tuyến" not in html and "Đang kết nối…" not in html


def test_a_409_conflict_is_explained_in_vietnamese_by_default(city, people, api_as):
    alert = raise_alert(city["long_khanh"])
    url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    assert api_as(people["operator"]).post(url).status_code == 200
    second = api_as(people["staff_lk"]).post(url)
    assert second.status_code == 409
    detail = second.json()["detail"]
    assert "Cảnh báo này" in detail and "đã tiếp nhận" in detail
    assert "already" not in detail


def test_a_409_conflict_is_in_english_for_someone_who_chose_english(city, people, api_as):
    alert = raise_alert(city["long_khanh"])
    url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    assert api_as(people["operator"]).post(url).status_code == 200
    staff = api_as(people["staff_lk"])
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    second = staff.post(url)
    assert second.status_code == 409
    assert second.json()["detail"] == "This alert is already acknowledged."


def test_choice_labels_and_roles_are_translated():
    with translation.override("vi"):
        assert str(Alert.State.ACKNOWLEDGED.label) == "Đã tiếp nhận"
        assert str(Alert.State.RESOLVED.label) == "Đã xử lý"
        assert str(Severity.CRITICAL.label) == "Nghiêm trọng"
        assert str(Severity.WARNING.label) == "Cảnh báo"
    with translation.override("en"):
        assert str(Severity.CRITICAL.label) == "Critical"


def test_every_message_is_translated_with_the_same_placeholders():
    entries = po_entries(CATALOG / "django.po")
    assert entries, "the Vietnamese catalogue is empty"
    untranslated = [msgid for (_, msgid), entry in entries.items() if not all(form.strip() for form in entry["forms"])]
    assert untranslated == []
    mismatched = [
        msgid
        for (_, msgid), entry in entries.items()
        for form in entry["forms"]
        if placeholders(entry["plural"] or msgid) != placeholders(form)
    ]
    assert mismatched == []
    assert "#, fuzzy" not in (CATALOG / "django.po").read_text(encoding="utf-8")


def test_the_committed_mo_matches_the_po():
    with (CATALOG / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info().get("language") == "vi"
    assert compiled.info().get("plural-forms") == "nplurals=1; plural=0;"
    for (context, msgid), entry in po_entries(CATALOG / "django.po").items():
        if entry["plural"] is None:
            found = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
            assert found == entry["forms"][0], f"django.mo is stale for {msgid!r}"
        else:
            for n in (1, 2, 5):
                found = (
                    compiled.npgettext(context, msgid, entry["plural"], n)
                    if context
                    else compiled.ngettext(msgid, entry["plural"], n)
                )
                assert found == entry["forms"][0], f"django.mo is stale for {msgid!r} (n={n})"
