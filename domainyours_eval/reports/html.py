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
from ._format import claim_ci, claim_est, fmt, fmt_ci, fmt_p, fmt_pair, money, pct, rows_needed
from .svg import bars, forest

if TYPE_CHECKING:
    from .model import ComparisonReport

__all__ = ["render_html"]


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
