"""Import dossiers from a CSV or XLSX export of the one-stop software, through the same upsert as the API.

One row per dossier; the header names the columns (see docs/onestop.md). Bad rows are reported with
their row number and field, the good ones are stored; importing the same file twice changes nothing.
"""

import csv
import math
from datetime import date, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ioc.models import Unit
from ioc.scope import EVERYTHING, Scope
from ioc.worktime import LOCAL_TZ
from onestop.services import DOSSIER_FLAGS, DOSSIER_TIMES, dossiers_upsert

TRUE = {"1", "true", "yes", "x", "có", "co", "đã"}
FALSE = {"0", "false", "no", "không", "khong", "chưa", ""}
TEXT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y")
MAX_SUPPLEMENTS = 5


def _moment(value):
    """A cell as an ISO 8601 time with its offset; a naive time is local (Asia/Ho_Chi_Minh)."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            for pattern in TEXT_FORMATS:
                try:
                    value = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
            else:
                return text  # left as written: the upsert names the field
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.isoformat()


def _flag(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return None if text == "" else False
    return text


def _whole(value):
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def row_to_item(row: dict) -> dict:
    """One spreadsheet row as the API's dossier item."""
    item = {
        "code": _text(row.get("code")),
        "procedure": _text(row.get("procedure")),
        "unit": _text(row.get("unit")),
        "applicant": {
            "name": _text(row.get("applicant_name")),
            "id_number": _text(row.get("applicant_id_number")),
            "phone": _text(row.get("applicant_phone")),
        },
        "status": _whole(row.get("status")),
        "channel": _whole(row.get("channel")),
        "satisfaction": _whole(row.get("satisfaction")) or None,
    }
    for field in DOSSIER_TIMES:
        item[field] = _moment(row.get(field))
    for field in (*DOSSIER_FLAGS, "has_fees"):
        value = _flag(row.get(field))
        if value is not None:
            item[field] = value
    supplements = []
    for number in range(1, MAX_SUPPLEMENTS + 1):
        requested = _moment(row.get(f"supplement{number}_requested_at"))
        if requested:
            supplements.append(
                {"requested_at": requested, "supplied_at": _moment(row.get(f"supplement{number}_supplied_at"))}
            )
    item["supplements"] = supplements
    # Without a stamp, the latest time in the row: re-importing the same file changes nothing.
    updated = _moment(row.get("updated_at"))
    if not updated:
        known = [item[f] for f in ("returned_at", "processing_ended_at", "received_at", "submitted_at") if item[f]]
        known += [s[k] for s in supplements for k in ("requested_at", "supplied_at") if s[k]]
        try:
            updated = max(known, key=datetime.fromisoformat) if known else None
        except ValueError:
            updated = None
    item["updated_at"] = updated
    return item


def read_rows(path: Path, fmt: str):
    """(row number in the file, {column: value}) for every non-empty data row."""
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
            for number, row in enumerate(reader, start=2):
                if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    yield number, row
        return
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(c or "").strip().lower() for c in next(rows, [])]
        for number, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield number, dict(zip(header, values, strict=False))
    finally:
        book.close()


def count_rows(path: Path, fmt: str) -> int | None:
    if fmt == "csv":
        with path.open(encoding="utf-8-sig") as handle:
            return max(0, sum(1 for _line in handle) - 1)
    return None


class Command(BaseCommand):
    help = "Import dossiers from a CSV or XLSX file (one row per dossier), reporting bad rows."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument("--format", choices=["csv", "xlsx"], help="default: from the file's extension")
        parser.add_argument("--unit", help="only rows of this unit and the units below it are accepted")
        parser.add_argument("--errors", help="also write the bad rows to this CSV file (row, code, field, message)")
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, path, format, unit, errors, batch, no_progress, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No such file: {source}")
        fmt = format or source.suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            raise CommandError("Give a .csv or .xlsx file, or --format.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        scope = EVERYTHING
        if unit:
            found = Unit.objects.filter(code=unit).first()
            if found is None:
                raise CommandError(f"Unknown unit {unit}.")
            scope = Scope(unit=found)

        totals = {"created": 0, "updated": 0, "unchanged": 0, "stale": 0, "error": 0}
        problems: list[tuple[int, str, str, str]] = []
        bar = tqdm(
            total=count_rows(source, fmt), unit="row", disable=no_progress, file=self.stderr._out, desc=source.name
        )
        pending: list[tuple[int, dict]] = []

        def flush():
            if not pending:
                return
            results = dossiers_upsert(items=[row_to_item(row) for _n, row in pending], scope=scope)
            for (number, row), result in zip(pending, results, strict=True):
                totals[result["status"]] += 1
                for field, message in _flatten(result.get("errors") or {}):
                    problems.append((number, _text(row.get("code")), field, message))
            bar.update(len(pending))
            pending.clear()

        try:
            for number, row in read_rows(source, fmt):
                pending.append((number, row))
                if len(pending) >= batch:
                    flush()
            flush()
        except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
            raise CommandError(f"Cannot read {source}: {exc}") from exc
        finally:
            bar.close()

        for number, code, field, message in problems:
            self.stderr.write(f"row {number} ({code or 'no code'}): {field}: {message}")
        if errors and problems:
            with open(errors, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "code", "field", "message"])
                writer.writerows(problems)
        self.stdout.write(
            "imported {created} new, {updated} updated, {unchanged} unchanged, {stale} older than stored; "
            "{error} bad row(s)".format(**totals)
        )


def _flatten(errors: dict, prefix: str = ""):
    for field, message in errors.items():
        if isinstance(message, dict):
            yield from _flatten(message, f"{prefix}{field}.")
        else:
            yield f"{prefix}{field}", str(message)
