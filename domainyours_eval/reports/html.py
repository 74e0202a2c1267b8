"""The standalone HTML report: one file, inline CSS and SVG, no script, no external request.

Rendered with Jinja2 autoescaping from the ``ComparisonReport`` object; model text (descriptions,
raw outputs, names) is only ever inserted as escaped text, and a Content-Security-Policy meta tag
forbids scripts and network loads, so a planted ``<script>`` shows as text and never runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from ..protocol import OUTCOMES
from ..tasks.domain_suggestion import VIOLATION_CODES
from ..types import CATEGORIES
from .svg import bars, forest

if TYPE_CHECKING:
    from .model import ClaimRow, ComparisonReport, Interval

__all__ = ["render_html"]


def fmt(v: float | None, signed: bool = False) -> str:
    """A number with three decimals, ``n/a`` when undefined."""
    if v is None:
        return "n/a"
    return f"{v:+.3f}" if signed else f"{v:.3f}"


def fmt_pair(lo: float | None, hi: float | None) -> str:
    """A CI as ``[lo, hi]``."""
    return "n/a" if lo is None or hi is None else f"[{lo:+.3f}, {hi:+.3f}]"


def fmt_ci(v: Interval) -> str:
    """A value with its CI."""
    if v.value is None:
        return "n/a"
    if v.low is None or v.high is None:
        return f"{v.value:.3f}"
    return f"{v.value:.3f} [{v.low:.3f}, {v.high:.3f}]"


def pct(v: float | None, signed: bool = False) -> str:
    """A share as a percentage."""
    if v is None:
        return "-"
    return f"{v * 100:+.1f}%" if signed else f"{v * 100:.1f}%"


def fmt_p(p: float | None) -> str:
    """A p-value: three decimals, ``< 0.001`` below that, ``n/a`` when undefined."""
    if p is None:
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def claim_est(c: ClaimRow) -> str:
    """A claim's estimate on its own scale (a share, or a signed difference)."""
    if c.estimate is None:
        return "n/a"
    return f"{c.estimate:.2f}" if c.null else f"{c.estimate:+.3f}"


def claim_ci(c: ClaimRow) -> str:
    """A claim's interval with the level it is at."""
    if c.low is None or c.high is None or c.level is None:
        return "n/a"
    pair = f"[{c.low:.2f}, {c.high:.2f}]" if c.null else f"[{c.low:+.3f}, {c.high:+.3f}]"
    return f"{pair} at {100 * (1 - c.level):.1f}%"


def rows_needed(v: float | None) -> str:
    """Rows a decisive answer needs, ``-`` when nothing differs."""
    return "-" if v is None else f"{int(v):,}"


def money(v: float | None) -> str:
    """A USD amount, ``-`` when unknown or free."""
    return "-" if v is None else f"${v:.4f}"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("domainyours_eval.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.globals.update(fmt=fmt, fmt_pair=fmt_pair, fmt_ci=fmt_ci, pct=pct, money=money, fmt_p=fmt_p,
                       claim_est=claim_est, claim_ci=claim_ci, rows_needed=rows_needed)
    return env


def render_html(report: ComparisonReport) -> str:
    """Render the report as one self-contained HTML page."""
    forest_rows = [(f"{d.b} - {d.a}: {d.metric}", d.delta, d.low, d.high)
                   for d in report.deltas]
    bins = [f"{i / 10:.1f}" for i in range(10)]
    hist = bars(bins, [(c, report.quality_histogram[c]) for c in report.checkpoints])
    cats = bars(list(CATEGORIES), [(c, [report.categories[c][k] for k in CATEGORIES])
                                   for c in report.checkpoints])
    codes = [k for k in VIOLATION_CODES if any(k in report.violations[c]
                                               for c in report.checkpoints)]
    constraint_names = sorted({k for c in report.checkpoints for k in report.constraints[c]})
    template = _env().get_template("report.html.j2")
    return template.render(r=report, forest_svg=forest(forest_rows) if forest_rows else "",
                           hist_svg=hist, cat_svg=cats,
                           outcomes=OUTCOMES, categories=list(CATEGORIES), violation_codes=codes,
                           constraint_names=constraint_names)
