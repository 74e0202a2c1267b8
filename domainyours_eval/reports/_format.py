"""How report numbers are written, once for the terminal, HTML and Markdown alike.

Three decimals for metrics and differences, a sign on differences, ``n/a`` for what is undefined,
``-`` for what does not apply, p-values below 0.001 as ``< 0.001``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..results import MetricValue
    from .model import ClaimRow, Interval

__all__ = ["claim_ci", "claim_est", "clip", "fmt", "fmt_ci", "fmt_ci_values", "fmt_p", "fmt_pair", "metric_cell",
           "money", "pct", "rows_needed"]


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
    return fmt_ci_values(v.value, v.low, v.high)


def fmt_ci_values(value: float | None, low: float | None, high: float | None) -> str:
    """A value with its interval, from the three numbers."""
    if value is None:
        return "n/a"
    if low is None or high is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


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


def metric_cell(m: MetricValue) -> str:
    """A result's metric with its interval, ``n/a`` when undefined."""
    return fmt_ci_values(m.value, m.ci_low, m.ci_high)


def clip(text: str, width: int = 70) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"
