"""Exports of the staff lists (docs/briefings.md, "Exports"): the list's rows in the caller's scope,
as CSV or XLSX, Vietnamese headers, local times, no reporter unless asked for and allowed, formulas
neutralised, and large ones written by a worker for their owner only."""

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from ioc.models import AuditEntry, Export
from ioc.services import api_key_create
from ioc.tasks import export_sweep, export_write
from reports.models import Report
from tests.world import MARKERS, key_client, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

BINH_LOC = (10.9850, 107.2300)


def _body(response) -> bytes:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


def _csv(response) -> list[list[str]]:
    raw = _body(response)
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    book = load_workbook(io.BytesIO(_body(response)), read_only=True)
    return [["" if v is None else v for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def two_wards(submit):
    """A report in Long Khánh and one in Bình Lộc, received at a fixed instant."""
    lk, _secret = submit(description="Ổ gà ở Long Khánh")
    bl, _secret = submit(description="Ổ gà ở Bình Lộc", where=BINH_LOC)
    Report.objects.filter(pk__in=[lk.pk, bl.pk]).update(received_at=datetime(2026, 3, 10, 1, 30, tzinfo=UTC))
    return lk, bl


def test_a_wards_staff_export_only_their_ward_without_the_reporter(two_wards, people, api_as):
    lk, bl = two_wards
    assert (lk.unit.code, bl.unit.code) == ("26080", "26089")
    client = api_as(people["staff_lk"])
    for fmt, read in (("csv", _csv), ("xlsx", _xlsx)):
        response = client.get(f"/api/v1/reports/export/?format={fmt}")
        assert response.status_code == 200, response
        assert response["Content-Disposition"].startswith("attachment; filename=")
        rows = read(response)
        codes = [row[0] for row in rows[1:]]
        assert codes == [lk.tracking_code], fmt
        text = " ".join(str(v) for row in rows for v in row)
        assert "Nguyễn Văn An" not in text and "0912345678" not in text and "an@example.vn" not in text
    # A filter naming another ward finds nothing outside the caller's scope.
    rows = _csv(client.get("/api/v1/reports/export/?format=csv&unit=26089"))
    assert rows[1:] == []


def test_the_export_takes_the_lists_filters(two_wards, people, api_as):
    lk, bl = two_wards
    client = api_as(people["leader"])
    listed = {r["tracking_code"] for r in client.get("/api/v1/reports/?unit=26089").json()["results"]}
    exported = {row[0] for row in _csv(client.get("/api/v1/reports/export/?unit=26089"))[1:]}
    assert listed == exported == {bl.tracking_code}


def test_headers_are_vietnamese_for_vietnamese_and_times_local(two_wards, people, api_as, settings):
    client = api_as(people["staff_lk"])
    rows = _csv(client.get("/api/v1/reports/export/?format=csv", HTTP_ACCEPT_LANGUAGE="vi"))
    header = rows[0]
    assert header[0] == "Mã theo dõi" and "Trạng thái" in header and "Mô tả" in header
    # The second column is the time received: 01:30 UTC is 08:30 in Hồ Chí Minh City, dd/mm/yyyy HH:MM.
    assert rows[1][1] == "10/03/2026 08:30"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # staff choose their language
    english = _csv(client.get("/api/v1/reports/export/?format=csv"))[0]
    assert english[0] == "Tracking code" and "Status" in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    sheet = _xlsx(client.get("/api/v1/reports/export/?format=xlsx"))
    assert sheet[0][0] == "Mã theo dõi" and sheet[1][1] == "10/03/2026 08:30"


def test_a_formula_looking_cell_is_neutralised(submit, people, api_as):
    report, _secret = submit(description='=HYPERLINK("http://evil.example","bấm vào")')
    submit(description="+84 912 345 678 gọi lại", address="@ngõ 5")
    client = api_as(people["leader"])
    rows = _csv(client.get("/api/v1/reports/export/?format=csv"))
    column = rows[0].index("Mô tả")
    descriptions = {row[column] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil.example","bấm vào")' in descriptions
    assert "'+84 912 345 678 gọi lại" in descriptions
    assert not [d for d in descriptions if d[:1] in "=+-@"]
    book = load_workbook(io.BytesIO(_body(client.get("/api/v1/reports/export/?format=xlsx"))))
    cells = [c for row in book.worksheets[0].iter_rows(min_row=2) for c in row if c.value]
    assert not [c for c in cells if c.data_type == "f" or str(c.value)[:1] in "=+-@"]
    assert "'@ngõ 5" in {c.value for c in cells}


def test_bad_input_is_a_400_with_a_message(two_wards, people, api_as):
    client = api_as(people["leader"])
    for url, field in (
        ("/api/v1/reports/export/?format=pdf", "format"),
        ("/api/v1/reports/export/?contacts=maybe", "contacts"),
        ("/api/v1/reports/export/?received_after=yesterday", "received_after"),
        ("/api/v1/reports/export/?bbox=1,2", "bbox"),
        ("/api/v1/onestop/dossiers/export/?format=docx", "format"),
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response["Content-Type"].startswith("application/json") and field in response.json(), url


def test_contacts_only_when_asked_and_allowed_with_one_audit_entry(two_wards, people, api_as, city):
    lk, _bl = two_wards
    leader = api_as(people["leader"])
    before = AuditEntry.objects.filter(kind=AuditEntry.Kind.CONTACTS_READ).count()
    assert "0912345678" not in _body(leader.get("/api/v1/reports/export/")).decode()
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.CONTACTS_READ).count() == before
    rows = _csv(leader.get("/api/v1/reports/export/?contacts=1"))
    assert {"Nguyễn Văn An", "0912345678", "an@example.vn"} <= set(rows[1])
    entries = AuditEntry.objects.filter(kind=AuditEntry.Kind.CONTACTS_READ)
    assert entries.count() == before + 1  # one for the export, not one per row
    assert entries.latest("pk").count == 2
    # A key reads contacts only with reports:contacts, as the report detail does.
    plain = api_key_create(name="bi", scopes=["reports:read"], unit=city["province"])[1]
    assert "0912345678" not in _body(key_client(plain).get("/api/v1/reports/export/?contacts=1")).decode()
    plain = api_key_create(name="hotline", scopes=["reports:read", "reports:contacts"], unit=city["province"])[1]
    assert "0912345678" in _body(key_client(plain).get("/api/v1/reports/export/?contacts=1")).decode()


def test_a_large_export_is_a_job_for_its_owner_only(two_wards, people, api_as, settings):
    settings.IOC_EXPORT_INLINE_ROWS = 1
    lk, bl = two_wards
    leader = api_as(people["leader"])
    response = leader.get("/api/v1/reports/export/?format=xlsx&status=received&status=accepted")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "queued" and job["rows_total"] == 2 and job["download_url"] is None
    assert response["Location"] == job["url"] == f"/api/v1/exports/{job['uid']}/"
    assert Export.objects.get(uid=job["uid"]).params["filters"] == {"status": ["received", "accepted"]}

    assert export_write(job["uid"]) == "done"
    assert export_write(job["uid"]) == "skipped"  # a job is written once
    state = leader.get(job["url"]).json()
    assert (state["status"], state["rows_done"], state["progress"]) == ("done", 2, 100)
    download = leader.get(state["download_url"])
    assert download.status_code == 200
    rows = _xlsx(download)
    assert rows[0][0] == "Mã theo dõi" and {r[0] for r in rows[1:]} == {lk.tracking_code, bl.tracking_code}
    assert [j["uid"] for j in leader.get("/api/v1/exports/").json()["results"]] == [job["uid"]]

    other = api_as(people["staff_bl"])
    assert other.get(job["url"]).status_code == 404
    assert other.get(state["download_url"]).status_code == 404
    assert other.get("/api/v1/exports/").json()["results"] == []
    assert api_as(people["operator"]).get(state["download_url"]).status_code == 404


def test_a_job_the_broker_never_took_is_written_by_the_sweep(two_wards, people, api_as, settings):
    settings.IOC_EXPORT_INLINE_ROWS = 0  # the ward sees one report: any export is a job
    staff = api_as(people["staff_lk"])
    response = staff.get("/api/v1/reports/export/?format=csv")
    assert response.status_code == 202
    uid = response.json()["uid"]
    assert Export.objects.get(uid=uid).status == Export.Status.QUEUED  # its task never ran
    assert export_sweep() == 1
    state = staff.get(f"/api/v1/exports/{uid}/").json()
    assert state["status"] == "done"
    rows = _csv(staff.get(state["download_url"]))
    assert [r[0] for r in rows[1:]] == [two_wards[0].tracking_code]  # still the ward's scope only


def test_a_key_above_the_limit_is_told_to_narrow(two_wards, city, settings):
    settings.IOC_EXPORT_INLINE_ROWS = 1
    plain = api_key_create(name="bi", scopes=["reports:read"], unit=city["province"])[1]
    response = key_client(plain).get("/api/v1/reports/export/")
    assert response.status_code == 400 and "thu hẹp bộ lọc" in response.json()["detail"]  # narrow the filters
    assert not Export.objects.exists()


@pytest.mark.parametrize(
    "url, marker",
    [
        ("/api/v1/alerts/export/", "alert"),
        ("/api/v1/traffic/incidents/export/", "camera"),
        ("/api/v1/onestop/dossiers/export/", "dossier"),
        ("/api/v1/indicators/observations/export/?indicator=pm25-probe", "station"),
    ],
)
def test_every_list_exports_what_it_shows_in_scope(world, people, api_as, url, marker):
    for fmt in ("csv", "xlsx"):
        joiner = "&" if "?" in url else "?"
        inside = api_as(people["staff_lk"]).get(f"{url}{joiner}format={fmt}")
        outside = api_as(people["staff_bl"]).get(f"{url}{joiner}format={fmt}")
        assert inside.status_code == outside.status_code == 200
        read = _csv if fmt == "csv" else _xlsx
        inside_rows, outside_rows = read(inside), read(outside)
        assert len(inside_rows) >= 2 and len(outside_rows) == 1  # the header alone
        assert any(MARKERS[marker] in " ".join(str(v) for v in row) for row in inside_rows[1:])
        assert all("26080" in row for row in inside_rows[1:]) and inside_rows[0] == outside_rows[0]


def test_a_job_not_written_yet_has_no_file(two_wards, people, api_as, settings):
    settings.IOC_EXPORT_INLINE_ROWS = 1
    leader = api_as(people["leader"])
    uid = leader.get("/api/v1/reports/export/").json()["uid"]
    assert leader.get(f"/api/v1/exports/{uid}/file/").status_code == 409
    assert leader.get(f"/api/v1/exports/{uid}/").json()["progress"] == 0
