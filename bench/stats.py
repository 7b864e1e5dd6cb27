"""Percentiles, the one summary of a series, the results table and the JSON file."""

import json
import math
from pathlib import Path

from bench.load import Results


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(
    name: str,
    results: Results,
    floor: dict | None = None,
    *,
    unit: str = "req/s",
    budget: str = "",
    note: str = "",
) -> dict:
    """One row of the table from one series: p50/p95/p99/max in milliseconds, items served of
    offered, the served rate (per second, in `unit`; none when the series has no duration), the
    errors and the requests never sent, both also told in the note when there are any.

    `floor` is the row of a baseline measured in the same run: the row then carries the ratio of
    its rate to the floor's, and says it.
    """
    ms = [s * 1000 for s in results.latencies]
    rate = results.items / results.wall if results.wall else None
    row = {"name": name, "count": results.items, "expected": results.expected}
    row["rate"] = round(rate, 1) if rate is not None else None
    row["rate_unit"] = unit if rate is not None else ""
    for label, p in (("p50", 50), ("p95", 95), ("p99", 99)):
        value = percentile(ms, p)
        row[f"{label}_ms"] = round(value, 2) if value is not None else None
    row["max_ms"] = round(max(ms), 2) if ms else None
    row["budget"] = budget
    errors = results.errors()
    row["errors"] = errors
    row["never_sent"] = results.never_sent
    notes = [note] if note else []
    if errors:
        notes.append("not served: " + ", ".join(f"{n} x {status}" for status, n in errors.items()))
    if results.never_sent:
        notes.append(f"never sent: {results.never_sent}")
    row["floor"] = floor["name"] if floor else None
    row["ratio"] = None
    if floor and floor.get("rate") and rate is not None:
        row["ratio"] = round(rate / floor["rate"], 4)
        notes.append(f"{row['ratio']:.1%} of the rate of {floor['name']!r}")
    row["note"] = "; ".join(notes)
    return row


def _cell(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rate(row: dict) -> str:
    if row.get("rate") is None:
        return "-"
    return f"{row['rate']:,.0f} {row['rate_unit']}"


def table(rows: list[dict]) -> str:
    header = ["benchmark", "throughput", "p50 ms", "p95 ms", "p99 ms", "max ms", "delivered/expected", "budget"]
    lines = [
        [
            r["name"],
            _rate(r),
            _cell(r["p50_ms"]),
            _cell(r["p95_ms"]),
            _cell(r["p99_ms"]),
            _cell(r["max_ms"]),
            f"{r['count']}/{r['expected']}",
            r["budget"],
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=True)]

    def fmt(cells):
        first = cells[0].ljust(widths[0])
        rest = [str(c).rjust(w) for c, w in zip(cells[1:-1], widths[1:-1], strict=True)]
        return "  ".join([first, *rest, cells[-1]]).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
