"""Inline SVG charts drawn by our own code: no charting library, no script, no network.

Every piece of text placed in a chart passes through ``markupsafe.escape``; the returned
``Markup`` is safe to embed because it is built only from our numbers and escaped labels.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["PALETTE", "bars", "forest"]

PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2",
           "#97bbf5", "#9c6b4e", "#9498a0")


def _num(x: float) -> str:
    return f"{x:.1f}"


def forest(rows: Sequence[tuple[str, float | None, float | None, float | None]],
           *, width: int = 720, row_h: int = 22) -> Markup:
    """A forest plot: one row per (label, estimate, low, high), a zero line."""
    label_w, pad = 260, 20
    height = row_h * len(rows) + 40
    bounds = [abs(v) for _, d, lo, hi in rows for v in (d, lo, hi) if v is not None]
    span = max(bounds + [0.05]) * 1.1
    plot_w = width - label_w - pad * 2

    def x(v: float) -> float:
        return label_w + pad + (v + span) / (2 * span) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="paired differences with confidence intervals">',
             f'<line x1="{_num(x(0))}" y1="10" x2="{_num(x(0))}" y2="{height - 25}" '
             'stroke="#888" stroke-dasharray="3,3"/>']
    for i, (label, d, lo, hi) in enumerate(rows):
        y = 20 + i * row_h
        parts.append(f'<text x="{label_w}" y="{y + 4}" text-anchor="end" font-size="12">'
                     f"{escape(label)}</text>")
        if d is None:
            parts.append(f'<text x="{_num(x(0)) }" y="{y + 4}" font-size="11" fill="#888">'
                         "n/a</text>")
            continue
        color = "#4269d0"
        if lo is not None and hi is not None:
            parts.append(f'<line x1="{_num(x(lo))}" y1="{y}" x2="{_num(x(hi))}" y2="{y}" '
                         f'stroke="{color}" stroke-width="2"/>')
        parts.append(f'<circle cx="{_num(x(d))}" cy="{y}" r="4" fill="{color}"/>')
    axis_y = height - 12
    for v in (-span, -span / 2, 0.0, span / 2, span):
        parts.append(f'<text x="{_num(x(v))}" y="{axis_y}" text-anchor="middle" font-size="10" '
                     f'fill="#555">{v:+.2f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
         width: int = 720, height: int = 220, value_format: str = "{:.0f}") -> Markup:
    """Grouped vertical bars: ``groups`` on the x axis, one colored bar per series in each."""
    pad_l, pad_b, pad_t = 40, 40, 30
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    top = max([v for _, vals in series for v in vals] + [1e-9])
    group_w = plot_w / max(1, len(groups))
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img">',
             f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 10}" y2="{pad_t + plot_h}" '
             'stroke="#888"/>']
    for s, (name, vals) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        parts.append(f'<rect x="{pad_l + s * 110}" y="6" width="10" height="10" fill="{color}"/>'
                     f'<text x="{pad_l + s * 110 + 14}" y="15" font-size="11">{escape(name)}'
                     "</text>")
        for g, v in enumerate(vals):
            h = plot_h * v / top
            x0 = pad_l + g * group_w + group_w * 0.1 + s * bar_w
            parts.append(f'<rect x="{_num(x0)}" y="{_num(pad_t + plot_h - h)}" '
                         f'width="{_num(bar_w - 1)}" height="{_num(h)}" fill="{color}">'
                         f"<title>{escape(name)} {escape(groups[g])}: "
                         f"{escape(value_format.format(v))}</title></rect>")
    for g, label in enumerate(groups):
        parts.append(f'<text x="{_num(pad_l + (g + 0.5) * group_w)}" y="{height - 22}" '
                     f'text-anchor="middle" font-size="10">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
