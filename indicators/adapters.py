"""Pull adapters: fetch a configured URL and turn its body into observation items.

An item is what the batch API takes: {"indicator", "unit", "station", "period", "value"}.
A new source format is one small class: subclass `PullAdapter`, set `format`, write `parse()`.
"""

import csv
import io
import urllib.request

from django.utils.translation import gettext as _

from ioc import ingest

FETCH_TIMEOUT = 20  # seconds
MAX_BYTES = 10 * 1024 * 1024

ADAPTERS: dict[str, type["PullAdapter"]] = {}


class AdapterError(Exception):
    """The source could not be fetched or read; the message says why."""


class PullAdapter:
    format: str = ""
    accept: str = "*/*"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.format:
            ADAPTERS[cls.format] = cls

    def __init__(self, url: str):
        self.url = url

    def fetch(self) -> bytes:
        if not self.url.startswith(("http://", "https://")):
            raise AdapterError(_("Only http(s) URLs can be pulled."))
        headers = {"Accept": self.accept, "User-Agent": "ioc-indicators"}
        request = urllib.request.Request(self.url, headers=headers)  # noqa: S310 (scheme checked above)
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (scheme checked)
                body = response.read(MAX_BYTES + 1)
        except OSError as exc:
            raise AdapterError(str(exc)) from exc
        if len(body) > MAX_BYTES:
            raise AdapterError(_("The response is larger than %(n)s bytes.") % {"n": MAX_BYTES})
        return body

    def parse(self, body: bytes) -> list[dict]:
        raise NotImplementedError

    def items(self) -> list[dict]:
        return self.parse(self.fetch())


class JsonUrlAdapter(PullAdapter):
    """A JSON list of items, or {"observations": [...]}."""

    format = "json"
    accept = "application/json"

    def parse(self, body: bytes) -> list[dict]:
        try:
            data = ingest.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise AdapterError(_("Not JSON: %(error)s") % {"error": exc}) from exc
        if isinstance(data, dict):
            data = data.get("observations")
        if not isinstance(data, list):
            raise AdapterError(_("Expected a list of observations."))
        return data


class CsvUrlAdapter(PullAdapter):
    """CSV with a header row: indicator, unit, station (optional), period, value."""

    format = "csv"
    accept = "text/csv"

    def parse(self, body: bytes) -> list[dict]:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AdapterError(_("The CSV must be UTF-8.")) from exc
        return rows_from_csv(text)


def rows_from_csv(text: str) -> list[dict]:
    """Rows of a CSV with a header, keys lower-cased and stripped; `;` separators are recognized."""
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [
        {(k or "").strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()} for row in reader
    ]


def adapter_for(format: str, url: str) -> PullAdapter:
    cls = ADAPTERS.get(format)
    if cls is None:
        raise AdapterError(_("No adapter for the format %(format)r.") % {"format": format})
    return cls(url)
