"""Import indicator observations from a CSV or XLSX file, with a progress bar and a per-row error report.

Columns (header row, any order, case-insensitive): indicator, unit, station (optional), period, value.
Good rows are stored even when others are bad; each bad row is reported with its row number.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from indicators import services
from indicators.adapters import rows_from_csv
from ioc.models import Unit
from ioc.scope import EVERYTHING

CHUNK = 500
COLUMNS = ("indicator", "unit", "station", "period", "value")


def read_rows(path: Path, sheet: str | None = None) -> list[dict]:
    """The file's data rows as dicts keyed by the lower-cased header."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise CommandError(f"{path}: not a readable XLSX file ({exc})") from exc
        try:
            if sheet and sheet not in book.sheetnames:
                raise CommandError(f"{path}: no sheet named {sheet!r}")
            rows = book[sheet] if sheet else book.worksheets[0]
            lines = rows.iter_rows(values_only=True)
            header = [str(h or "").strip().lower() for h in next(lines, [])]
            result = []
            for line in lines:
                if line is None or all(cell in (None, "") for cell in line):
                    continue
                row = dict(zip(header, line, strict=False))
                result.append({k: _cell(k, v) for k, v in row.items() if k})
            return result
        finally:
            book.close()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: the CSV must be UTF-8") from exc
    return [row for row in rows_from_csv(text) if any(v not in (None, "") for v in row.values())]


def _cell(column: str, value):
    """Spreadsheets turn codes such as 26080 into numbers; give them back as text."""
    if isinstance(value, str):
        return value.strip()
    if column in ("indicator", "unit", "station") and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


class Command(BaseCommand):
    help = "Import indicator observations from a CSV or XLSX file (columns: indicator, unit, station, period, value)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--sheet", help="XLSX sheet name (default: the first sheet).")
        parser.add_argument("--unit", help="Unit code for rows that name none.")
        parser.add_argument("--source", help="Source recorded on each value (default: import:<file name>).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        default_unit = None
        if options["unit"]:
            default_unit = Unit.objects.filter(code=options["unit"]).first()
            if default_unit is None:
                raise CommandError(f"unknown unit {options['unit']!r}")
        rows = read_rows(path, options["sheet"])
        missing = [c for c in ("indicator", "period", "value") if rows and c not in rows[0]]
        if missing:
            raise CommandError(f"{path}: missing column(s): {', '.join(missing)}")
        source = (options["source"] or f"import:{path.name}")[:100]
        totals = {"created": 0, "replaced": 0, "unchanged": 0, "error": 0}
        problems = []
        progress = tqdm(
            total=len(rows), unit="row", desc=path.name, file=sys.stderr, disable=options["no_progress"] or None
        )
        with progress:
            for start in range(0, len(rows), CHUNK):
                chunk = [{k: row.get(k) for k in COLUMNS if k in row} for row in rows[start : start + CHUNK]]
                results = services.observations_ingest(
                    items=chunk, source=source, scope=EVERYTHING, default_unit=default_unit
                )
                for result in results:
                    totals[result["status"]] += 1
                    if result["status"] == "error":
                        line = start + result["index"] + 2  # 1-based, after the header row
                        detail = "; ".join(f"{field}: {message}" for field, message in result["errors"].items())
                        problems.append((line, detail))
                progress.update(len(chunk))
        for line, detail in problems:
            self.stdout.write(f"row {line}: {detail}")
        summary = ", ".join(f"{count} {status}" for status, count in totals.items())
        style = self.style.WARNING if problems else self.style.SUCCESS
        self.stdout.write(style(f"{path.name}: {len(rows)} rows: {summary}"))
