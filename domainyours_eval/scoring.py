"""Former home of the protocol and the statistics, kept so existing imports keep working.

The protocol (version, outcomes, metric table) lives in ``protocol.py`` and the statistics engine
in ``stats.py``; import from those.
"""

from __future__ import annotations

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
    "outcome_of",
    "paired_bootstrap",
    "pairwise_bootstrap",
    "row_features",
    "weighted_kappa",
]
