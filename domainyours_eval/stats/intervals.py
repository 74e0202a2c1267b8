"""One proportion and functions of rates.

Wilson, Clopper-Pearson, Jeffreys posterior draws, shares times means, and the design effect
of clustered rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

from ._common import TOLERANCE, check_confidence, z_quantile


def wilson_interval(k: float, n: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` events in ``n`` rows (NaN when ``n`` is 0).

    ``k`` and ``n`` may be effective (design-effect-adjusted) counts, not whole numbers.
    """
    check_confidence(confidence)
    if n <= 0:
        return math.nan, math.nan
    z = z_quantile(confidence)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(k: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact, central) interval for ``k`` events in ``n`` rows."""
    from scipy.special import betaincinv

    check_confidence(confidence)
    if n <= 0:
        return math.nan, math.nan
    a = (1 - confidence) / 2
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, a))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - a))
    return lo, hi


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate with a Monte Carlo interval (bootstrap or posterior draws)."""

    value: float
    ci_low: float
    ci_high: float
    n: int
    """Rows (or clusters) the statistic was computed over."""
    n_resamples: int
    seed: int
    method: str
    confidence: float
    n_undefined: int = 0
    """Resamples or draws where the statistic was undefined (0/0), left out of the interval."""
    distribution: FloatArray | None = None
    """The resampled statistics, kept only when asked for."""


def binomial_function_interval(
    fn: Callable[..., FloatArray],
    counts: Sequence[tuple[float, float]],
    *,
    n_draws: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Jeffreys interval for a function of independent binomial rates, by Monte Carlo.

    Args:
        fn: Vectorised function of one rate array per group (say, the false-refusal rate among
            safe rows and the miss rate among harmful rows).
        counts: ``(events, rows)`` per group (effective counts allowed).
        n_draws: Posterior draws.
        seed: Seed of ``numpy.random.default_rng``.
        confidence: Two-sided level.

    Each rate's posterior under the Jeffreys prior Beta(1/2, 1/2) is Beta(k + 1/2, n - k + 1/2);
    the interval is the equal-tailed posterior interval of ``fn``. Unlike a bootstrap, it keeps
    its width when no event is observed. When the point estimate (``fn`` at the observed rates)
    falls outside it, which happens on the boundary (no errors at all), the interval is extended to
    it, as Brown, Cai and DasGupta's modified Jeffreys interval is at ``k = 0``.
    """
    import numpy as np

    check_confidence(confidence)
    rng = np.random.default_rng(seed)
    draws = [rng.beta(k + 0.5, n - k + 0.5, size=n_draws) if n > 0 else np.full(n_draws, np.nan)
             for k, n in counts]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.asarray(fn(*draws), dtype=np.float64)
        value = float(fn(*[np.array(k / n if n > 0 else np.nan) for k, n in counts]))
    return posterior_interval(value, theta, int(round(sum(n for _, n in counts))), n_draws, seed,
                               confidence)


def posterior_interval(value: float, theta: FloatArray, n: int, n_draws: int, seed: int,
                        confidence: float) -> BootstrapResult:
    """Equal-tailed interval of posterior draws, extended to the estimate when it lies outside."""
    import numpy as np

    finite = theta[np.isfinite(theta)]
    undefined = int(theta.size - finite.size)
    if finite.size == 0 or not math.isfinite(value):
        return BootstrapResult(value, math.nan, math.nan, n, n_draws, seed, "jeffreys",
                               confidence, undefined)
    a = (1 - confidence) / 2
    lo, hi = (float(x) for x in np.quantile(finite, [a, 1 - a]))
    return BootstrapResult(value, min(lo, value), max(hi, value), n, n_draws, seed, "jeffreys",
                           confidence, undefined)


def _mean_draws(values: Sequence[float] | FloatArray, rng: np.random.Generator, n_draws: int,
                fallback: FloatArray | None) -> FloatArray:
    """Posterior draws of a mean: Student's t around it (the reference posterior of a normal mean).

    With fewer than two values (or no spread) there is nothing to learn a spread from: the
    ``fallback`` draws are used, else the value itself, else 1/2.
    """
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    if v.size >= 2 and float(v.std(ddof=1)) > TOLERANCE:
        se = float(v.std(ddof=1)) / math.sqrt(v.size)
        return float(v.mean()) + se * rng.standard_t(v.size - 1, n_draws)
    if fallback is not None:
        return fallback
    return np.full(n_draws, float(v.mean()) if v.size else 0.5)


def share_times_mean_interval(values: Sequence[float], n_zero: int, *, n_draws: int = 10_000,
                              seed: int = 0, confidence: float = 0.95) -> BootstrapResult:
    """Interval of a mean over rows of which ``n_zero`` score 0 and the others ``values``.

    The mean is (share of scoring rows) x (mean of their values); the share gets its Jeffreys
    posterior, the mean Student's, and the interval is the equal-tailed interval of the product
    (the two estimates are asymptotically independent). Unlike a bootstrap of the rows it keeps
    the uncertainty of a rare zero (a refusal) that the sample happens not to show.
    """
    import numpy as np

    check_confidence(confidence)
    n = len(values) + n_zero
    if n == 0:
        return BootstrapResult(math.nan, math.nan, math.nan, 0, n_draws, seed, "jeffreys x t",
                               confidence)
    rng = np.random.default_rng(seed)
    share = rng.beta(len(values) + 0.5, n_zero + 0.5, n_draws)
    theta = share * _mean_draws(values, rng, n_draws, None)
    value = float(np.sum(values)) / n
    out = posterior_interval(value, theta, n, n_draws, seed, confidence)
    return BootstrapResult(out.value, out.ci_low, out.ci_high, n, n_draws, seed, "jeffreys x t",
                           confidence, out.n_undefined)


def paired_share_times_mean_interval(
    both: Sequence[tuple[float, float]],
    only_a_zero: Sequence[float],
    only_b_zero: Sequence[float],
    n_both_zero: int,
    *,
    all_a: Sequence[float] = (),
    all_b: Sequence[float] = (),
    n_draws: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Interval of ``mean(y_b - y_a)`` over paired rows where either side may score 0 (refused).

    Args:
        both: ``(a, b)`` values of rows neither scored 0 on.
        only_a_zero: ``b``'s values where only ``a`` scored 0.
        only_b_zero: ``a``'s values where only ``b`` scored 0.
        n_both_zero: Rows both scored 0 on.
        all_a: Every value of ``a``, the fallback mean where a category has under two rows.
        all_b: Every value of ``b``, likewise.
        n_draws: Posterior draws.
        seed: Seed of ``numpy.random.default_rng``.
        confidence: Two-sided level.

    The difference is ``p_both d_both + p_only_a_zero m_b - p_only_b_zero m_a``: the four
    categories' shares get a Dirichlet(counts + 1/2) posterior and each mean Student's.
    """
    import numpy as np

    check_confidence(confidence)
    counts = np.array([len(both), len(only_a_zero), len(only_b_zero), n_both_zero], float)
    n = int(counts.sum())
    if n == 0:
        return BootstrapResult(math.nan, math.nan, math.nan, 0, n_draws, seed, "jeffreys x t",
                               confidence)
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(counts + 0.5, n_draws)
    pairs = np.asarray(both, dtype=np.float64).reshape(-1, 2)
    diff = pairs[:, 1] - pairs[:, 0]
    d_both = _mean_draws(diff, rng, n_draws, np.zeros(n_draws) if diff.size == 0 else None)
    m_b = _mean_draws(only_a_zero, rng, n_draws,
                      None if len(only_a_zero) >= 2 else _mean_draws(all_b, rng, n_draws, None))
    m_a = _mean_draws(only_b_zero, rng, n_draws,
                      None if len(only_b_zero) >= 2 else _mean_draws(all_a, rng, n_draws, None))
    theta = p[:, 0] * d_both + p[:, 1] * m_b - p[:, 2] * m_a
    value = (float(diff.sum()) + float(np.sum(only_a_zero)) - float(np.sum(only_b_zero))) / n
    if abs(value) < TOLERANCE:
        value = 0.0
    out = posterior_interval(value, theta, n, n_draws, seed, confidence)
    return BootstrapResult(out.value, out.ci_low, out.ci_high, n, n_draws, seed, "jeffreys x t",
                           confidence, out.n_undefined)


def design_effect(values: Sequence[float] | FloatArray, clusters: Sequence[object]) -> float:
    """Design effect of a mean of per-row values over clustered rows (Kish; Rao & Scott 1992).

    The cluster-robust variance of the mean over the variance that independent rows would give,
    between 1 and ``sum(m_c^2) / n`` (its value when every cluster's rows always agree, the
    cluster size for equal clusters; the small-sample factor C / (C - 1) can overshoot it with few
    clusters). When the rows show no variation at all (no event yet), the ratio cannot be
    estimated and that most conservative value is used. Dividing counts by it gives the effective
    counts that Wilson, Jeffreys and Tango intervals then treat as independent rows.
    """
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    n = v.size
    if n < 2:
        return 1.0
    keys = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
    ids = np.array([keys[c] for c in clusters], dtype=np.intp)
    n_clusters = len(keys)
    if n_clusters < 2:
        return float(n)
    sizes = np.bincount(ids, minlength=n_clusters)
    ceiling = max(1.0, float((sizes**2).sum()) / n)
    resid = v - v.mean()
    iid = float((resid**2).sum()) / (n - 1)
    if iid <= TOLERANCE:
        return ceiling
    totals = np.bincount(ids, weights=resid, minlength=n_clusters)
    robust = n_clusters / (n_clusters - 1) * float((totals**2).sum()) / n
    return min(ceiling, max(1.0, robust / iid))
