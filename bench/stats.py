"""Percentiles, the results table and the JSON file."""

import json
import math
from pathlib import Path


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(
    name: str,
    seconds: list[float],
    *,
    expected: int,
    count: int | None = None,
    rate: float | None = None,
    rate_unit: str = "req/s",
    budget: str = "",
    note: str = "",
) -> dict:
    """One row of the table: latencies in milliseconds, how many arrived of how many, and a throughput.

    `count` defaults to the number of latency samples; `rate` (per second, in `rate_unit`) is shown
    only where the benchmark measures one.
    """
    ms = [s * 1000 for s in seconds]
    row = {"name": name, "count": len(ms) if count is None else count, "expected": expected}
    row["rate"] = round(rate, 1) if rate is not None else None
    row["rate_unit"] = rate_unit if rate is not None else ""
    for label, p in (("p50", 50), ("p95", 95), ("p99", 99)):
        value = percentile(ms, p)
        row[f"{label}_ms"] = round(value, 2) if value is not None else None
    row["max_ms"] = round(max(ms), 2) if ms else None
    row["budget"] = budget
    row["note"] = note
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
