"""Percentiles, the one summary of a series, the results table and the JSON file."""

import json
import math
import re
from pathlib import Path

from bench.load import Results


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


GOAL = re.compile(r"^(?:(?P<pct>p50|p95|p99) < (?P<ms>[\d.]+) ms|>= (?P<share>[\d.]+) % of the floor)$")


def parse_goal(goal: str) -> tuple[str, float] | None:
    """("p99_ms", 50.0) from "p99 < 50 ms"; ("ratio", 0.8) from ">= 80 % of the floor"; None from ""."""
    if not goal:
        return None
    found = GOAL.match(goal)
    if not found:
        raise ValueError(f"a goal reads 'p99 < 50 ms' or '>= 80 % of the floor', not {goal!r}")
    if found["pct"]:
        return f"{found['pct']}_ms", float(found["ms"])
    return "ratio", float(found["share"]) / 100


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

    `floor` is the row of a baseline measured in the same run, `budget` the goal ("p99 < 50 ms" or
    ">= 80 % of the floor"). The row's `value` is what the goal is about (the latency percentile,
    or the rate), `floor_value` the floor's same figure, `ratio` the one over the other, and `met`
    whether the goal holds (None without a goal, False when nothing was measured).
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
    errors = results.errors()
    row["errors"] = errors
    row["never_sent"] = results.never_sent
    notes = [note] if note else []
    if errors:
        notes.append("not served: " + ", ".join(f"{n} x {status}" for status, n in errors.items()))
    if results.never_sent:
        notes.append(f"never sent: {results.never_sent}")

    goal = parse_goal(budget)
    measure = goal[0] if goal and goal[0] != "ratio" else "rate"
    row["goal"] = budget
    row["measure"] = measure
    row["value"] = row[measure]
    row["floor"] = floor["name"] if floor else None
    row["floor_value"] = floor.get(measure) if floor else None
    row["ratio"] = None
    if row["value"] is not None and row["floor_value"]:
        row["ratio"] = round(row["value"] / row["floor_value"], 4)
        if measure == "rate":
            notes.append(f"{row['ratio']:.1%} of the rate of {floor['name']!r}")
    row["met"] = None
    if goal:
        kind, limit = goal
        if kind == "ratio":
            row["met"] = row["ratio"] is not None and row["ratio"] >= limit
        else:
            row["met"] = row["value"] is not None and row["value"] < limit and not errors and not results.never_sent
    row["note"] = "; ".join(notes)
    return row


def _cell(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _value(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if row["measure"] == "rate":
        return f"{value:,.0f} {row['rate_unit']}"
    return f"{row['measure'][:3]} {value:,.1f} ms"


def _ratio(row: dict) -> str:
    if row.get("ratio") is None:
        return "-"
    return f"{row['ratio']:.0%}" if row["measure"] == "rate" else f"{row['ratio']:.1f}x"


def _verdict(row: dict) -> str:
    if row.get("met") is None:
        return ""
    return "met" if row["met"] else "MISSED"


def table(rows: list[dict]) -> str:
    header = ["benchmark", "value", "floor", "ratio", "p50 ms", "p95 ms", "p99 ms", "delivered", "goal", ""]
    lines = [
        [
            r["name"],
            _value(r, "value"),
            _value(r, "floor_value"),
            _ratio(r),
            _cell(r["p50_ms"]),
            _cell(r["p95_ms"]),
            _cell(r["p99_ms"]),
            f"{r['count']}/{r['expected']}",
            r["goal"],
            _verdict(r),
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=True)]

    def fmt(cells):
        first = cells[0].ljust(widths[0])
        rest = [str(c).rjust(w) for c, w in zip(cells[1:-2], widths[1:-2], strict=True)]
        return "  ".join([first, *rest, cells[-2].ljust(widths[-2]), cells[-1]]).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
