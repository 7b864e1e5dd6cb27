"""Staff lists written to CSV or XLSX, for the weekly briefing (docs/briefings.md, "Exports").

Each list viewset takes `ExportMixin` and names an `ExportList` (its columns, in the app's own
`api/exports.py`): `GET <list>/export/?format=csv|xlsx&<the list's filters>`. The rows are the list's
own: the viewset's scoped queryset through its own filters, built by the same two methods the list
calls (`get_queryset`, `filter_queryset`), in the request or, for a large export, in a worker.

Up to `IOC_EXPORT_INLINE_ROWS` rows the file is the answer (CSV streams). Above it the request answers
202 with an `Export` job that `write_job` fills in a worker, counting `rows_done` as it goes; the job is
queued through `ioc.jobs`, and `sweep` (beat, and every worker (re)connect) writes the jobs still
queued, so a broker outage delays a file and never loses it. The file is for its owner only.

Cells are neutralised against formula injection (text starting with = + - @, tab or carriage return
gets a leading apostrophe) in both formats; times are local (TIME_ZONE), dd/mm/yyyy HH:MM.
"""

import csv
import logging
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from ioc import audit, jobs
from ioc.models import Export

log = logging.getLogger(__name__)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Parameters of the export itself; every other query parameter is the list's own filter.
OWN_PARAMETERS = ("format", "contacts", "limit", "offset")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The control characters an XLSX cell cannot hold (XML 1.0): dropped from every cell, in both formats.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
TIME_FORMAT = "%d/%m/%Y %H:%M"
DATE_FORMAT = "%d/%m/%Y"
PROGRESS_EVERY = 500  # rows between two progress updates of a job
STALE_AFTER = timedelta(hours=6)  # a job "being written" this long lost its worker
SWEEP_BATCH = 20


# --- what an app declares ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str  # a lazy msgid, translated when the file is written
    value: Callable[[Any], Any]  # row -> str, number, bool, date, datetime or None
    contacts: bool = False  # a citizen's identity: written only when the export may carry it


@dataclass(frozen=True)
class ExportList:
    name: str  # the job's list_name, e.g. "reports"
    filename: str  # the file's base name, e.g. "phan-anh"
    columns: tuple[Column, ...]
    # Whether this caller may see the contacts columns (the list's own detail rule); None: no contacts.
    may_see_contacts: Callable[[Request], bool] | None = None


_lists: dict[str, tuple[ExportList, type]] = {}


def register(export_list: ExportList, viewset: type) -> None:
    existing = _lists.get(export_list.name)
    if existing is not None and existing[1].__qualname__ != viewset.__qualname__:
        raise ValueError(f"export list {export_list.name!r} is already registered by {existing[1]!r}")
    _lists[export_list.name] = (export_list, viewset)


def registered(name: str) -> tuple[ExportList, type]:
    if name not in _lists:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - a worker loads the viewsets (and their lists) here
    return _lists[name]


def localized_name(obj) -> str:
    """`name_en` in an English export when the object has one, else the (Vietnamese) `name`."""
    if obj is None:
        return ""
    english = getattr(obj, "name_en", "")
    return english if english and (translation.get_language() or "").startswith("en") else obj.name


# --- cells and writers ---------------------------------------------------------------------------


def cell(value):
    """A value as a file cell: local time, dd/mm/yyyy; yes/no; numbers stay numbers; text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime(TIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, int | float | Decimal):
        return value
    text = ILLEGAL_CHARACTERS.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def columns_for(export_list: ExportList, contacts: bool) -> list[Column]:
    return [c for c in export_list.columns if contacts or not c.contacts]


def _rows(columns: list[Column], queryset: QuerySet, progress: Callable[[int], None] | None) -> Iterator[list]:
    done = 0
    for obj in queryset.iterator(chunk_size=2000):
        yield [cell(column.value(obj)) for column in columns]
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    if progress is not None:
        progress(done)


class _Line:
    """A file-like object whose write returns what it was given: csv.writer into a generator."""

    def write(self, value):
        return value


def csv_chunks(columns: list[Column], queryset: QuerySet, progress=None) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (Excel then reads Vietnamese right), one chunk per few rows."""
    writer = csv.writer(_Line())
    yield ("\ufeff" + writer.writerow([str(c.header) for c in columns])).encode("utf-8")
    batch = []
    for row in _rows(columns, queryset, progress):
        batch.append(writer.writerow(row))
        if len(batch) >= 200:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")


def write_xlsx(columns: list[Column], queryset: QuerySet, target, title: str, progress=None) -> None:
    """An XLSX workbook in write-only mode (rows go straight to the file) into `target`."""
    from openpyxl import Workbook  # only the processes that write workbooks pay for its import

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "export")
    sheet.append([cell(str(c.header)) for c in columns])
    for row in _rows(columns, queryset, progress):
        sheet.append(row)
    book.save(target)


def write_file(fmt: str, columns, queryset, target, title: str, progress=None) -> None:
    if fmt == "csv":
        for chunk in csv_chunks(columns, queryset, progress):
            target.write(chunk)
    else:
        write_xlsx(columns, queryset, target, title, progress)


def file_name(export_list: ExportList, fmt: str, at=None) -> str:
    return f"{export_list.filename}-{timezone.localtime(at or timezone.now()):%Y%m%d-%H%M}.{fmt}"


# --- the list's queryset, in a request or in a worker ----------------------------------------------


def list_queryset(viewset: type, user, filters: dict) -> QuerySet:
    """What `viewset`'s list shows `user` with `filters` ({name: [values]}): its own scoped queryset
    through its own filter backends, as in the request (a bad filter raises a ValidationError)."""
    params = QueryDict(mutable=True)
    for name, values in filters.items():
        params.setlist(name, list(values))
    plain = HttpRequest()
    plain.method = "GET"
    plain.GET = params
    plain.user = user
    request = Request(plain)
    request.user = user
    view = viewset(request=request, args=(), kwargs={}, action="export", format_kwarg=None)
    view.action_map = {"get": "export"}
    return view.filter_queryset(view.get_queryset())


def filters_of(request) -> dict:
    return {k: v for k, v in request.query_params.lists() if k not in OWN_PARAMETERS}


def requested_format(request) -> str:
    fmt = request.query_params.get("format", "").strip().lower() or "csv"
    if fmt not in FORMATS:
        raise exceptions.ValidationError({"format": _("Choose format=csv or format=xlsx.")})
    return fmt


CONTACTS_VALUES = {"": False, "0": False, "false": False, "1": True, "true": True}


def requested_contacts(request) -> bool:
    raw = request.query_params.get("contacts", "").strip().lower()
    if raw not in CONTACTS_VALUES:
        raise exceptions.ValidationError(
            {"contacts": _("Use contacts=1 to include the reporters' contacts, contacts=0 to leave them out.")}
        )
    return CONTACTS_VALUES[raw]


class ExportNegotiation(BaseContentNegotiation):
    """`?format=` names the file's format here, not a renderer: errors are always JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


def export_response(view, request) -> HttpResponse | Response:
    """The export action of a list viewset: the file, or 202 with a job for a large one."""
    export_list = view.export_list
    fmt = requested_format(request)
    wants_contacts = requested_contacts(request)
    if wants_contacts and export_list.may_see_contacts is None:
        raise exceptions.ValidationError({"contacts": _("This list has no contacts to export.")})
    # As the list's detail does: a caller who may not see contacts gets the file without them.
    wants_contacts = wants_contacts and export_list.may_see_contacts(request)
    queryset = view.filter_queryset(view.get_queryset())
    total = queryset.count()
    columns = columns_for(export_list, wants_contacts)
    if total > settings.IOC_EXPORT_INLINE_ROWS:
        if getattr(request.user, "api_key", None) is not None:
            raise exceptions.ValidationError(
                {
                    "detail": _(
                        "This export has %(rows)s rows, more than the %(limit)s an API key may export at once: "
                        "narrow the filters or page through the list."
                    )
                    % {"rows": f"{total:,}", "limit": f"{settings.IOC_EXPORT_INLINE_ROWS:,}"}
                }
            )
        job = job_create(
            user=request.user,
            export_list=export_list,
            fmt=fmt,
            filters=filters_of(request),
            contacts=wants_contacts,
            rows_total=total,
        )
        if wants_contacts:
            audit.contacts_read(obj=queryset.model, count=total)
        body = job_state(job)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
    if wants_contacts and total:
        audit.contacts_read(obj=queryset.model, count=total)
    name = file_name(export_list, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(columns, queryset), content_type=FORMATS["csv"])
    else:
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as target:
            write_xlsx(columns, queryset, target, title=export_list.filename)
            target.seek(0)
            response = HttpResponse(target.read(), content_type=FORMATS["xlsx"])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    response["Cache-Control"] = "no-store"
    return response


EXPORT_PARAMETERS = [
    OpenApiParameter("format", str, enum=list(FORMATS), description="csv (default) or xlsx"),
    OpenApiParameter(
        "contacts",
        str,
        enum=["0", "1"],
        description="1: the reporters' contacts too, where the list has them and the caller may see them",
    ),
]


class ExportMixin:
    """Gives a list viewset `GET export/`: what its list shows, as a file. Set `export_list`, and give
    "export" the list's read scope in `key_scopes`."""

    export_list: ExportList | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("export_list") is not None:
            register(cls.export_list, cls)

    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The rows, UTF-8 with BOM."),
            (200, FORMATS["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The rows, one sheet."),
            (202, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="Above the inline row limit: the export job (GET its url)."
            ),
            (400, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="A bad format or filter."),
        },
    )
    @action(detail=False, methods=["get"], content_negotiation_class=ExportNegotiation, pagination_class=None)
    def export(self, request):
        """What the list shows (the same filters, the caller's scope), as CSV or XLSX (docs/briefings.md)."""
        return export_response(self, request)


# --- export jobs ---------------------------------------------------------------------------------


def job_create(*, user, export_list: ExportList, fmt: str, filters: dict, contacts: bool, rows_total: int) -> Export:
    job = Export.objects.create(
        uid=secrets.token_hex(16),
        user=user,
        list_name=export_list.name,
        params={"filters": filters, "contacts": contacts, "language": translation.get_language() or ""},
        format=fmt,
        rows_total=rows_total,
    )
    jobs.enqueue("ioc.tasks.export_write", job.uid)
    return job


def job_state(job: Export) -> dict:
    done = job.status == Export.Status.DONE and bool(job.file)
    total = job.rows_total
    progress = min(99, job.rows_done * 100 // total) if total else 0
    return {
        "uid": job.uid,
        "list": job.list_name,
        "format": job.format,
        "status": job.status,
        "status_label": job.get_status_display(),
        "rows_total": total,
        "rows_done": job.rows_done,
        "progress": 100 if job.status == Export.Status.DONE else progress,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": reverse("export-detail", kwargs={"uid": job.uid}),
        "download_url": reverse("export-file", kwargs={"uid": job.uid}) if done else None,
    }


def _claim(uid: str) -> bool:
    return bool(Export.objects.filter(uid=uid, status=Export.Status.QUEUED).update(status=Export.Status.RUNNING))


def write_job(uid: str) -> str:
    """Write a queued job's file; a job another worker has taken, or finished, is left alone."""
    if not _claim(uid):
        return "skipped"
    job = Export.objects.select_related("user").get(uid=uid)
    params = job.params or {}
    language = params.get("language") or settings.LANGUAGE_CODE
    try:
        if not job.user.is_active:  # a person who has left takes no data with them
            raise PermissionError(job.user_id)
        with translation.override(language):
            export_list, viewset = registered(job.list_name)
            queryset = list_queryset(viewset, job.user, params.get("filters") or {})
            total = queryset.count()
            Export.objects.filter(pk=job.pk).update(rows_total=total, rows_done=0)

            def progress(done):
                Export.objects.filter(pk=job.pk).update(rows_done=done)

            contacts = bool(params.get("contacts")) and export_list.may_see_contacts is not None
            columns = columns_for(export_list, contacts)
            with tempfile.TemporaryFile() as target:
                write_file(job.format, columns, queryset, target, export_list.filename, progress)
                target.seek(0)
                job.file.save(file_name(export_list, job.format, job.created_at), File(target), save=False)
        Export.objects.filter(pk=job.pk).update(
            status=Export.Status.DONE, file=job.file.name, rows_done=total, finished_at=timezone.now()
        )
        return "done"
    except Exception as exc:  # noqa: BLE001 - the job says it failed; the worker goes on
        log.exception("export %s failed", uid)
        if isinstance(exc, exceptions.ValidationError):
            message = _("The list's filters are no longer valid: %(detail)s") % {"detail": _said(exc.detail)}
        else:
            message = _("The file could not be written; ask for the export again.")
        Export.objects.filter(pk=job.pk).update(status=Export.Status.FAILED, error=message, finished_at=timezone.now())
        return "failed"


def _said(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{name}: {_said(value)}" for name, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_said(value) for value in detail)
    return str(detail)


def sweep() -> int:
    """Write the jobs still queued (their task never reached a worker), fail the ones a lost worker
    left half-written, and delete files kept longer than IOC_EXPORT_KEEP_DAYS. Returns jobs written."""
    now = timezone.now()
    Export.objects.filter(status=Export.Status.RUNNING, created_at__lt=now - STALE_AFTER).update(
        status=Export.Status.FAILED,
        error=_("The file could not be written; ask for the export again."),
        finished_at=now,
    )
    for old in Export.objects.filter(created_at__lt=now - timedelta(days=settings.IOC_EXPORT_KEEP_DAYS)):
        if old.file:
            old.file.delete(save=False)
        old.delete()
    queued = Export.objects.filter(status=Export.Status.QUEUED).order_by("created_at")
    return sum(write_job(uid) == "done" for uid in queued.values_list("uid", flat=True)[:SWEEP_BATCH])


def owned_by(user) -> QuerySet:
    """The user's own export jobs; anyone else's are not found."""
    if getattr(user, "api_key", None) is not None or not getattr(user, "is_authenticated", False):
        return Export.objects.none()
    return Export.objects.filter(user_id=user.pk)
