"""The statistics engine: intervals, paired tests, multiplicity and power, pure numpy/scipy, seeded.

Which method serves which claim is the protocol's business (``protocol.py``); this module only
computes. Rates get score or exact intervals that do not collapse at 0 or n (Wilson,
Clopper-Pearson); functions of two independent rates (F-scores) get the equal-tailed Jeffreys
posterior interval by Monte Carlo, which keeps its width when no errors are observed; means of
per-row values get a stratified (optionally clustered) bootstrap whose resamples are read off
``w @ F`` for one feature matrix ``F``. Paired differences of rates use Tango's score interval,
combined across truth classes with MOVER (Zou & Donner 2008); a p-value printed next to such an
interval is the interval inverted, so the two cannot disagree. The compromise: Monte Carlo
intervals (bootstrap, posterior draws) move a little with the seed; everything takes an explicit
``seed``.

The parts: ``intervals`` (one proportion and functions of rates), ``paired`` (paired tests and
intervals), ``power`` (Holm, sample sizes), ``bootstrap`` and ``kappa``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._common import CI_METHODS
from ._common import MIN_STUDENTIZED as MIN_STUDENTIZED
from ._common import TOLERANCE as TOLERANCE
from .bootstrap import (
    bootstrap_ci,
    bootstrap_clusters,
    bootstrap_metrics,
    bootstrap_ratios,
    paired_bootstrap,
    pairwise_bootstrap,
)
from .intervals import (
    BootstrapResult,
    binomial_function_interval,
    clopper_pearson_interval,
    design_effect,
    paired_share_times_mean_interval,
    share_times_mean_interval,
    wilson_interval,
)
from .kappa import cohen_kappa, krippendorff_alpha, weighted_kappa
from .paired import (
    McNemarResult,
    PairedCounts,
    TestResult,
    cost_difference_test,
    mcnemar_exact,
    paired_posterior_interval,
    paired_t_test,
    tango_interval,
)
from .power import (
    connor_min_detectable,
    connor_rows_needed,
    holm,
    holm_levels,
    mcnemar_exact_power,
    mcnemar_min_detectable,
    mcnemar_rows_needed,
    t_min_detectable,
    t_rows_needed,
)

if TYPE_CHECKING:
    from ._common import FloatArray as FloatArray
    from ._common import IndexArray as IndexArray

__all__ = [
    "CI_METHODS",
    "BootstrapResult",
    "McNemarResult",
    "PairedCounts",
    "TestResult",
    "binomial_function_interval",
    "bootstrap_ci",
    "bootstrap_clusters",
    "bootstrap_metrics",
    "bootstrap_ratios",
    "clopper_pearson_interval",
    "cohen_kappa",
    "krippendorff_alpha",
    "connor_min_detectable",
    "connor_rows_needed",
    "cost_difference_test",
    "design_effect",
    "holm",
    "holm_levels",
    "mcnemar_exact",
    "mcnemar_exact_power",
    "mcnemar_min_detectable",
    "mcnemar_rows_needed",
    "paired_bootstrap",
    "paired_posterior_interval",
    "paired_share_times_mean_interval",
    "paired_t_test",
    "pairwise_bootstrap",
    "share_times_mean_interval",
    "t_min_detectable",
    "t_rows_needed",
    "tango_interval",
    "weighted_kappa",
    "wilson_interval",
]
