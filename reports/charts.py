"""Small charts drawn on the server as SVG: no script, no CDN, so they show under a strict
Content-Security-Policy, print, and go into PDFs and emails as they are.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a text legend, so a screen
reader (and a reader of the printed page) gets the numbers too. All text is escaped.
Colours are presentation attributes, not ``style``, which the CSP would refuse.
"""

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The result colours of the stylesheet; "not run" is lighter so bars keep their contrast.
COLOURS = {
    "passed": "#13703a",
    "failed": "#b3261e",
    "blocked": "#8a5a00",
    "not_run": "#aab4bf",
    "critical": "#b3261e",
    "major": "#a33a00",
    "minor": "#8a5a00",
    "trivial": "#55606b",
    "escaped": "#1f5fad",
}
FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12" fill="#1d2329"'


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every piece of text in it went through escape()
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(segments: list[tuple[str, str, str]], y: int, totals: dict[str, int]) -> list[str]:
    parts, x = [], 0
    for key, label, colour in segments:
        text = f"{label} ({totals.get(key, 0)})"
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 11}" {FONT}>{escape(text)}</text>')
        x += 28 + 7 * len(text)
    return parts


def stacked_bars(
    title: str,
    rows: list[tuple[str, dict[str, int]]],
    segments: list[tuple[str, str, str]],
    *,
    width: int = 640,
) -> SafeString:
    """One horizontal bar per row, split into ``segments`` (key, label, colour), each
    bar as long as its row's total relative to the largest."""
    label_width, bar_height, gap = 170, 20, 10
    largest = max((sum(values.values()) for _, values in rows), default=0) or 1
    scale = (width - label_width - 50) / largest
    body, totals = [], {}
    for index, (label, values) in enumerate(rows):
        y = index * (bar_height + gap)
        body.append(f'<text x="0" y="{y + 14}" {FONT}>{escape(label[:26])}</text>' if label else "")
        x = float(label_width)
        for key, segment_label, colour in segments:
            value = values.get(key, 0)
            totals[key] = totals.get(key, 0) + value
            if not value:
                continue
            length = value * scale
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                f'fill="{colour}"><title>{escape(f"{label}: {value} {segment_label}")}'
                f"</title></rect>"
            )
            x += length
        body.append(f'<text x="{x + 6:.1f}" y="{y + 14}" {FONT}>{sum(values.values())}</text>')
    legend_y = len(rows) * (bar_height + gap) + 4
    body += _legend(segments, legend_y, totals)
    return _svg(width, legend_y + 20, title, body)


def bars(
    title: str, items: list[tuple[str, int]], *, colour: str = COLOURS["escaped"]
) -> SafeString:
    """Vertical bars with their value on top and their label below."""
    bar_width, gap, chart_height = 36, 18, 120
    largest = max((value for _, value in items), default=0) or 1
    width = max(len(items), 1) * (bar_width + gap) + gap
    body = []
    for index, (label, value) in enumerate(items):
        x = gap + index * (bar_width + gap)
        height = chart_height * value / largest
        y = 20 + chart_height - height
        body.append(
            f'<rect x="{x}" y="{y:.1f}" width="{bar_width}" height="{height:.1f}" '
            f'fill="{colour}"><title>{escape(f"{label}: {value}")}</title></rect>'
        )
        body.append(
            f'<text x="{x + bar_width / 2}" y="{y - 4:.1f}" text-anchor="middle" {FONT}>'
            f"{value}</text>"
        )
        body.append(
            f'<text x="{x + bar_width / 2}" y="{chart_height + 36}" text-anchor="middle" '
            f"{FONT}>{escape(label[:10])}</text>"
        )
    return _svg(width, chart_height + 44, title, body)


def _point(cx: float, cy: float, radius: float, angle: float) -> str:
    return f"{cx + radius * math.sin(angle):.2f} {cy - radius * math.cos(angle):.2f}"


def _arc(cx: float, cy: float, outer: float, inner: float, start: float, end: float) -> str:
    large = 1 if end - start > math.pi else 0
    return (
        f"M {_point(cx, cy, outer, start)} A {outer} {outer} 0 {large} 1 "
        f"{_point(cx, cy, outer, end)} L {_point(cx, cy, inner, end)} "
        f"A {inner} {inner} 0 {large} 0 {_point(cx, cy, inner, start)} Z"
    )


def donut(title: str, segments: list[tuple[str, int, str]], *, centre: str = "") -> SafeString:
    """A ring split into (label, value, colour) segments, ``centre`` written inside."""
    cx = cy = 70
    outer, inner = 64, 40
    total = sum(value for _, value, _ in segments)
    body = []
    if not total:
        body.append(
            f'<circle cx="{cx}" cy="{cy}" r="{(outer + inner) / 2}" fill="none" '
            f'stroke="#d5dbe1" stroke-width="{outer - inner}"/>'
        )
    start = 0.0
    for label, value, colour in segments:
        if not value:
            continue
        sweep = 2 * math.pi * value / total
        # An arc cannot start and end at the same point: a full ring is two halves.
        pieces = [(start, start + sweep)]
        if sweep >= 2 * math.pi - 1e-9:
            pieces = [(start, start + math.pi), (start + math.pi, start + 2 * math.pi - 1e-6)]
        for a, b in pieces:
            body.append(
                f'<path d="{_arc(cx, cy, outer, inner, a, b)}" fill="{colour}">'
                f"<title>{escape(f'{label}: {value}')}</title></path>"
            )
        start += sweep
    body.append(
        f'<text x="{cx}" y="{cy + 5}" text-anchor="middle" {FONT} font-weight="bold">'
        f"{escape(centre)}</text>"
    )
    y = 12
    for label, value, colour in segments:
        body.append(f'<rect x="150" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="168" y="{y}" {FONT}>{escape(f"{label} ({value})")}</text>')
        y += 20
    return _svg(320, max(140, y), title, body)


RESULT_SEGMENTS = [
    ("passed", "Passed", COLOURS["passed"]),
    ("failed", "Failed", COLOURS["failed"]),
    ("blocked", "Blocked", COLOURS["blocked"]),
    ("not_run", "Not run", COLOURS["not_run"]),
]


def _passed_of_all(overall: dict) -> str:
    """The share of every case in scope whose latest result passed, e.g. "25 % passed"."""
    if not overall["total"]:
        return "—"
    return f"{round(100 * overall['passed'] / overall['total'])} % passed"


def plan_charts(metrics: dict) -> dict[str, SafeString]:
    """The charts of a plan's metrics, by name, for the dashboard and the report."""
    progress = metrics["progress"]
    overall = progress["overall"]
    results = {key: overall[key] for key, _, _ in RESULT_SEGMENTS}
    return {
        "results": donut(
            "Latest result of every case in scope",
            [(label, results[key], colour) for key, label, colour in RESULT_SEGMENTS],
            # The same basis as the ring (every case in scope), said in words: the pass
            # rate of the cases with a result is a different number, shown beside it.
            centre=_passed_of_all(overall),
        ),
        "cohorts": stacked_bars(
            "Progress by cohort",
            [(c["name"], {k: c[k] for k, _, _ in RESULT_SEGMENTS}) for c in progress["by_cohort"]],
            RESULT_SEGMENTS,
        ),
        "priorities": stacked_bars(
            "Progress by priority",
            [
                (p["label"], {k: p[k] for k, _, _ in RESULT_SEGMENTS})
                for p in progress["by_priority"]
            ],
            RESULT_SEGMENTS,
        ),
        "defects": stacked_bars(
            "Open defects by severity",
            [
                (s["label"], {"open": s["open"], "waived": s["waived"]})
                for s in metrics["defects"]["by_severity"]
            ],
            [("open", "Open", COLOURS["failed"]), ("waived", "Waived", COLOURS["not_run"])],
        ),
        "per_day": stacked_bars(
            "Results recorded per day",
            [
                (d["day"], {k: d[k] for k in ("passed", "failed", "blocked")})
                for d in metrics["per_day"]
            ],
            RESULT_SEGMENTS[:3],
        ),
        "escaped": bars(
            "Defects that escaped to production, by earlier release",
            [(row["version"], row["escaped"]) for row in metrics["escaped"]],
        ),
    }
