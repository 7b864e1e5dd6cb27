"""Small SVG charts for print (briefings): black lines on white, readable when photocopied."""

from html import escape

WIDTH, HEIGHT, PAD = 220, 60, 4


def sparkline(values: list[float | None], *, target: float | None = None, label: str = "") -> str:
    """A line of `values` (oldest first; None leaves a gap), its last point marked, the lowest and
    highest written at the left, and `target` as a dashed line when it lies in range."""
    known = [v for v in values if v is not None]
    title = f"<title>{escape(label)}</title>" if label else ""
    if not known:
        return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}">{title}</svg>'
    low, high = min(known), max(known)
    if target is not None and low <= target * 1.5 and target >= 0:
        low, high = min(low, target), max(high, target)
    span = (high - low) or 1.0
    left = 34
    step = (WIDTH - left - PAD) / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 1)

    runs, run = [], []
    for i, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{round(left + i * step, 1)},{y(value)}")
    if run:
        runs.append(run)
    lines = "".join(
        f'<polyline points="{" ".join(r)}" fill="none" stroke="#000" stroke-width="1.6"/>' for r in runs if len(r) > 1
    )
    last_index = max(i for i, v in enumerate(values) if v is not None)
    dot = f'<circle cx="{round(left + last_index * step, 1)}" cy="{y(values[last_index])}" r="2.6" fill="#000"/>'
    goal = ""
    if target is not None and low <= target <= high:
        goal = (
            f'<line x1="{left}" x2="{WIDTH - PAD}" y1="{y(target)}" y2="{y(target)}" '
            'stroke="#000" stroke-width="0.8" stroke-dasharray="3 2"/>'
        )
    scale = (
        f'<text x="0" y="{PAD + 7}" font-size="8">{_short(high)}</text>'
        f'<text x="0" y="{HEIGHT - PAD}" font-size="8">{_short(low)}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">{title}'
        f"{scale}{goal}{lines}{dot}</svg>"
    )


def _short(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:g}" if abs(value) >= 1 or value == 0 else f"{value:.2f}"
