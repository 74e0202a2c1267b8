"""A metric with its interval and how it was computed: the unit every result reports."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from .stats import BootstrapResult

__all__ = ["MetricValue"]


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class MetricValue(BaseModel):
    """A metric with its confidence interval and how it was computed."""

    model_config = ConfigDict(extra="forbid")

    value: float | None
    """Point estimate on all rows; null when undefined (0/0)."""
    ci_low: float | None
    ci_high: float | None
    """Null when undefined, including when fewer than 2 rows count."""
    n: int
    """Rows it was computed over (its denominator)."""
    n_resamples: int
    """Bootstrap resamples or posterior draws; 0 for a closed-form interval."""
    seed: int
    method: str
    """``wilson``, ``jeffreys`` (posterior Monte Carlo), or the bootstrap flavour
    (``studentized``, ``percentile``, ``bca``)."""
    confidence: float
    n_undefined: int = 0
    """Resamples or draws where the metric was undefined (0/0), left out of the interval."""

    @classmethod
    def from_bootstrap(cls, r: BootstrapResult) -> MetricValue:
        """Build from a ``scoring.BootstrapResult``."""
        return cls(value=_finite(r.value), ci_low=_finite(r.ci_low), ci_high=_finite(r.ci_high),
                   n=r.n, n_resamples=r.n_resamples, seed=r.seed, method=r.method,
                   confidence=r.confidence, n_undefined=r.n_undefined)

    def __str__(self) -> str:
        if self.value is None:
            return "n/a"
        if self.ci_low is None or self.ci_high is None:
            return f"{self.value:.3f}"
        return f"{self.value:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}]"
