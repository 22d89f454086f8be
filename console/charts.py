"""Bar charts as inline SVG, drawn on the server: no script, no third-party host.

Each chart is an image with a name and a description (role="img", <title>, <desc>) for
screen readers; the pages print the same numbers in a table beside it. Bars are a dark blue
on white (over 7:1), and every bar carries its value as text, so colour is not needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

BAR = "#1f4e79"
INK = "#1a1a1a"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> str:
    ids = escape(f"{chart_id}-title {chart_id}-desc")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ids}" '
        f'viewBox="0 0 {width} {height}" '
        f'class="chart" id="{escape(chart_id)}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def columns(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    label_value: Callable[[float | None], str] = _count,
    scale_max: float | None = None,
) -> str:
    """One vertical bar per label (the days of a week); `desc` lists every value."""
    width, height, top, bottom, left = 560, 220, 24, 40, 12
    plot_h = height - top - bottom
    slot = (width - 2 * left) / max(len(labels), 1)
    biggest = scale_max or max([v or 0 for v in values] + [0]) or 1
    desc = "; ".join(f"{lab}: {label_value(v)}" for lab, v in zip(labels, values, strict=True))
    parts = [_open(chart_id, title, desc, width, height)]
    base = top + plot_h
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (value or 0) / biggest
        x = left + i * slot + slot * 0.2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot * 0.6:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"/>'
            f'<text x="{x + slot * 0.3:.1f}" y="{base - h - 6:.1f}" text-anchor="middle" '
            f'fill="{INK}" {FONT}>{escape(label_value(value))}</text>'
            f'<text x="{x + slot * 0.3:.1f}" y="{base + 18:.1f}" text-anchor="middle" '
            f'fill="{INK}" {FONT}>{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{INK}"/></svg>'
    )
    return "".join(parts)


def rows(chart_id: str, title: str, items: Sequence[tuple[str, int]]) -> str:
    """One horizontal bar per item (red flags by kind), largest first as given."""
    width, row_h, label_w, top = 560, 28, 210, 8
    height = top * 2 + row_h * max(len(items), 1)
    biggest = max([v for _, v in items] + [1])
    desc = "; ".join(f"{k}: {v}" for k, v in items) or "none"
    parts = [_open(chart_id, title, desc, width, height)]
    if not items:
        parts.append(f'<text x="8" y="{top + 18}" fill="{INK}" {FONT}>None this week</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = (width - label_w - 60) * value / biggest
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" fill="{INK}" {FONT}>'
            f"{escape(label[:34])}</text>"
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" '
            f'fill="{BAR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" fill="{INK}" {FONT}>{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
