"""Former home of the protocol and the statistics, kept so existing imports keep working.

The protocol (version, outcomes, metric table) lives in ``protocol.py`` and the statistics engine
in ``stats``; import from those.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .protocol import (
    DEFAULT_BETA,
    METRIC_NAMES,
    OUTCOMES,
    PROTOCOL_VERSION,
    metric_functions,
    outcome_of,
    row_features,
)
from .stats import (
    CI_METHODS,
    BootstrapResult,
    McNemarResult,
    bootstrap_ci,
    bootstrap_clusters,
    bootstrap_metrics,
    cohen_kappa,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    pairwise_bootstrap,
    weighted_kappa,
)

__all__ = [
    "CI_METHODS",
    "DEFAULT_BETA",
    "METRIC_NAMES",
    "OUTCOMES",
    "PROTOCOL_VERSION",
    "BootstrapResult",
    "McNemarResult",
    "bootstrap_ci",
    "bootstrap_clusters",
    "bootstrap_metrics",
    "cohen_kappa",
    "holm",
    "mcnemar_exact",
    "metric_functions",
    "min_detectable_difference",
    "outcome_of",
    "paired_bootstrap",
    "pairwise_bootstrap",
    "row_features",
    "rows_needed",
    "weighted_kappa",
]


def _sd(differences: Sequence[float]) -> tuple[float, int]:
    finite = [float(d) for d in differences if math.isfinite(d)]
    n = len(finite)
    if n < 2:
        return math.nan, n
    mean = sum(finite) / n
    return math.sqrt(sum((d - mean) ** 2 for d in finite) / (n - 1)), n


def min_detectable_difference(differences: Sequence[float], *, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """Deprecated: ``stats.t_min_detectable`` on the differences' spread and count (t, not z)."""
    from .stats import t_min_detectable

    sd, n = _sd(differences)
    return t_min_detectable(sd, n, alpha=alpha, power=power)


def rows_needed(differences: Sequence[float], effect: float, *, alpha: float = 0.05,
                power: float = 0.8) -> float:
    """Deprecated: ``stats.t_rows_needed`` on the differences' spread (NaN when undefined)."""
    from .stats import t_rows_needed

    sd, _ = _sd(differences)
    return t_rows_needed(sd, effect, alpha=alpha, power=power)
