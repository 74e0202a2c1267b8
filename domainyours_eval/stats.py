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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

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

CI_METHODS = ("studentized", "percentile", "bca")
"""Bootstrap interval methods: studentized (bootstrap-t, the default), percentile, BCa."""

MIN_STUDENTIZED = 10
"""Fewest rows a studentized bootstrap interval is drawn from; below it, Student's t interval."""

TOLERANCE = 1e-12
"""Differences smaller than this are zero (floating-point noise, not an effect)."""


def _z(confidence: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(1 - (1 - confidence) / 2))


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")


# --- one proportion ---------------------------------------------------------------------------


def wilson_interval(k: float, n: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` events in ``n`` rows (NaN when ``n`` is 0).

    ``k`` and ``n`` may be effective (design-effect-adjusted) counts, not whole numbers.
    """
    _check_confidence(confidence)
    if n <= 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(k: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact, central) interval for ``k`` events in ``n`` rows."""
    from scipy.special import betaincinv

    _check_confidence(confidence)
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

    _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    draws = [rng.beta(k + 0.5, n - k + 0.5, size=n_draws) if n > 0 else np.full(n_draws, np.nan)
             for k, n in counts]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.asarray(fn(*draws), dtype=np.float64)
        value = float(fn(*[np.array(k / n if n > 0 else np.nan) for k, n in counts]))
    return _posterior_interval(value, theta, int(round(sum(n for _, n in counts))), n_draws, seed,
                               confidence)


def _posterior_interval(value: float, theta: FloatArray, n: int, n_draws: int, seed: int,
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

    _check_confidence(confidence)
    n = len(values) + n_zero
    if n == 0:
        return BootstrapResult(math.nan, math.nan, math.nan, 0, n_draws, seed, "jeffreys x t",
                               confidence)
    rng = np.random.default_rng(seed)
    share = rng.beta(len(values) + 0.5, n_zero + 0.5, n_draws)
    theta = share * _mean_draws(values, rng, n_draws, None)
    value = float(np.sum(values)) / n
    out = _posterior_interval(value, theta, n, n_draws, seed, confidence)
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

    _check_confidence(confidence)
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
    out = _posterior_interval(value, theta, n, n_draws, seed, confidence)
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


# --- paired proportions -----------------------------------------------------------------------


@dataclass(frozen=True)
class PairedCounts:
    """One truth class of a paired comparison: rows, and where only one checkpoint erred.

    Counts may be effective (divided by a design effect) when rows are clustered.
    """

    n: float
    a_only: float
    """Rows where A erred and B did not."""
    b_only: float
    """Rows where B erred and A did not."""
    both: float = 0
    """Rows where both erred (needed only by the posterior of paired F-scores)."""

    def scaled(self, design_effect: float) -> PairedCounts:
        """The effective counts of clustered rows: every count divided by the design effect."""
        d = max(design_effect, 1.0)
        return PairedCounts(self.n / d, self.a_only / d, self.b_only / d, self.both / d)


def tango_interval(b_only: float, a_only: float, n: float, *, confidence: float = 0.95
                   ) -> tuple[float, float, float]:
    """Tango's score interval for a paired difference of proportions, ``(b_only - a_only) / n``.

    The set of differences the score test does not reject (Tango 1998); at difference 0 the
    score test is McNemar's. It does not collapse when no row is discordant. Returns
    ``(estimate, low, high)``, NaN when ``n`` is 0.
    """
    _check_confidence(confidence)
    return _tango(b_only, a_only, n, _z(confidence))


def _tango(b: float, c: float, n: float, z: float) -> tuple[float, float, float]:
    from scipy.optimize import brentq

    if n <= 0:
        return math.nan, math.nan, math.nan
    est = (b - c) / n

    def score(d: float) -> float:
        big_a = 2.0 * n
        big_b = -b - c + (2.0 * n - b + c) * d
        big_c = -c * d * (1 - d)
        p21 = (math.sqrt(max(big_b * big_b - 4 * big_a * big_c, 0.0)) - big_b) / (2 * big_a)
        var = n * (2 * p21 + d * (1 - d))
        num = b - c - n * d
        if var <= 0:
            return 0.0 if num == 0 else math.copysign(math.inf, num)
        return num / math.sqrt(var)

    edge = 1e-12
    lo = -1.0 if est <= -1 + edge or score(-1 + edge) <= z else brentq(
        lambda d: score(d) - z, -1 + edge, est, xtol=1e-12)
    hi = 1.0 if est >= 1 - edge or score(1 - edge) >= -z else brentq(
        lambda d: score(d) + z, est, 1 - edge, xtol=1e-12)
    return est, float(lo), float(hi)


@dataclass(frozen=True)
class TestResult:
    """One claim's estimate, interval and two-sided p-value, all from one method at one level."""

    __test__ = False
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float
    method: str
    n: int


def _mover(strata: Sequence[tuple[float, PairedCounts]], z: float) -> tuple[float, float, float]:
    est = low2 = high2 = 0.0
    for weight, s in strata:
        if s.n <= 0 or weight == 0:
            continue
        e, lo, hi = _tango(s.b_only, s.a_only, s.n, z)
        est += weight * e
        low2 += (weight * (e - lo)) ** 2
        high2 += (weight * (hi - e)) ** 2
    return est, est - math.sqrt(low2), est + math.sqrt(high2)


def cost_difference_test(strata: Sequence[tuple[float, PairedCounts]], *,
                         confidence: float = 0.95) -> TestResult:
    """Interval and p-value for a weighted sum of paired error-rate differences (B - A).

    Args:
        strata: ``(weight, counts)`` per truth class; the estimate is
            ``sum(weight * (b_only - a_only) / n)``. With weight ``cost * n_class / n_rows`` it is
            the difference in expected cost per row.
        confidence: Two-sided level of the interval.

    The interval combines each class's Tango interval by MOVER (Zou & Donner 2008), classes being
    disjoint rows. The p-value is the interval inverted: the smallest ``1 - confidence`` at which
    it excludes 0, so "significant at alpha" and "the (1 - alpha) interval excludes 0" always
    agree.
    """
    from scipy.special import ndtr

    _check_confidence(confidence)
    n = int(round(sum(s.n for _, s in strata)))
    est, lo, hi = _mover(strata, _z(confidence))
    if n == 0 or not math.isfinite(est):
        return TestResult(math.nan, math.nan, math.nan, math.nan, confidence, "mover-tango", n)
    if abs(est) < TOLERANCE:
        return TestResult(0.0, lo, hi, 1.0, confidence, "mover-tango", n)

    def excludes(z: float) -> bool:
        _, low, high = _mover(strata, z)
        return low > 0 or high < 0

    z_lo, z_hi = 0.0, 38.0
    if excludes(z_hi):
        p = 0.0
    else:
        for _ in range(60):
            mid = (z_lo + z_hi) / 2
            if excludes(mid):
                z_lo = mid
            else:
                z_hi = mid
        p = float(2 * ndtr(-z_hi))
    # Bisection stops within 1e-16 of the boundary; at the printed level itself let the interval
    # decide, so the flag and the interval cannot disagree there.
    level = 1 - confidence
    if (lo > 0 or hi < 0) and p >= level:
        p = math.nextafter(level, 0.0)
    elif not (lo > 0 or hi < 0) and p < level:
        p = level
    return TestResult(est, lo, hi, min(1.0, p), confidence, "mover-tango", n)


def paired_posterior_interval(
    fn: Callable[..., FloatArray],
    strata: Sequence[PairedCounts],
    *,
    n_draws: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Jeffreys posterior interval of ``fn(rates_a, rates_b)`` for paired checkpoints.

    Each truth class's four paired cells (both right, only A wrong, only B wrong, both wrong)
    get a Dirichlet(counts + 1/2) posterior; ``fn`` receives each checkpoint's error rate per class,
    A's classes first, then B's. Used for the differences of F-scores, which are not rates.
    """
    import numpy as np

    _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    rates_a, rates_b, obs_a, obs_b = [], [], [], []
    for s in strata:
        right = s.n - s.a_only - s.b_only - s.both
        if s.n <= 0:
            nan = np.full(n_draws, np.nan)
            rates_a.append(nan)
            rates_b.append(nan)
            obs_a.append(np.array(np.nan))
            obs_b.append(np.array(np.nan))
            continue
        p = rng.dirichlet(np.array([right, s.a_only, s.b_only, s.both], float) + 0.5, n_draws)
        rates_a.append(p[:, 1] + p[:, 3])
        rates_b.append(p[:, 2] + p[:, 3])
        obs_a.append(np.array((s.a_only + s.both) / s.n))
        obs_b.append(np.array((s.b_only + s.both) / s.n))
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.asarray(fn(*rates_a, *rates_b), dtype=np.float64)
        value = float(fn(*obs_a, *obs_b))
    if abs(value) < TOLERANCE:
        value = 0.0
    return _posterior_interval(value, theta, int(round(sum(s.n for s in strata))), n_draws, seed,
                               confidence)


# --- McNemar, paired t ------------------------------------------------------------------------


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's exact test on paired per-row correctness."""

    a_wrong_b_right: int
    b_wrong_a_right: int
    p_value: float
    """Two-sided: twice the smaller binomial tail of the discordant split, capped at 1."""

    @property
    def discordant(self) -> int:
        """Rows where exactly one checkpoint was right."""
        return self.a_wrong_b_right + self.b_wrong_a_right

    def share_interval(self, confidence: float = 0.95) -> tuple[float, float, float]:
        """Share of the discordant rows where B was the wrong one, with its exact interval.

        Clopper-Pearson on ``b_wrong_a_right`` of the discordant rows: the interval that inverts
        this very test, so it excludes 1/2 exactly when ``p_value < 1 - confidence``. NaN when
        no row is discordant.
        """
        m = self.discordant
        if m == 0:
            return math.nan, math.nan, math.nan
        lo, hi = clopper_pearson_interval(self.b_wrong_a_right, m, confidence=confidence)
        return self.b_wrong_a_right / m, lo, hi


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemarResult:
    """Exact (binomial) McNemar test on the discordant pairs; two-sided."""
    from scipy.special import bdtr

    if len(correct_a) != len(correct_b):
        raise ValueError("McNemar needs the same rows for both checkpoints")
    b = sum(1 for x, y in zip(correct_a, correct_b) if not x and y)
    c = sum(1 for x, y in zip(correct_a, correct_b) if x and not y)
    n = b + c
    # bdtr is the binomial CDF; scipy.special imports far faster than scipy.stats.
    p = 1.0 if n == 0 else min(1.0, 2.0 * float(bdtr(min(b, c), n, 0.5)))
    return McNemarResult(b, c, p)


def paired_t_test(differences: Sequence[float] | FloatArray, *, confidence: float = 0.95,
                  clusters: Sequence[object] | None = None) -> TestResult:
    """Paired t-test of mean difference 0, with the t interval at ``confidence``.

    NaN p-value and interval with fewer than 2 differences; with zero spread the difference is
    the same on every row: p is 1 and the interval a point when that difference is 0, undefined
    otherwise (a t statistic cannot be formed). With ``clusters`` the standard error is the
    cluster-robust one and the t distribution has (clusters - 1) degrees of freedom.
    """
    import numpy as np
    from scipy.special import stdtr, stdtrit

    _check_confidence(confidence)
    d = np.asarray(differences, dtype=np.float64)
    keep = np.isfinite(d)
    d = d[keep]
    if clusters is not None:
        clusters = [c for c, k in zip(clusters, keep) if k]
    n = int(d.size)
    if n == 0:
        return TestResult(math.nan, math.nan, math.nan, math.nan, confidence, "paired-t", 0)
    mean = float(d.mean())
    if abs(mean) < TOLERANCE:
        mean = 0.0
    if n < 2:
        return TestResult(mean, math.nan, math.nan, math.nan, confidence, "paired-t", n)
    sd = float(d.std(ddof=1))
    if sd < TOLERANCE:
        if mean == 0.0:
            return TestResult(0.0, 0.0, 0.0, 1.0, confidence, "paired-t", n)
        return TestResult(mean, math.nan, math.nan, math.nan, confidence, "paired-t", n)
    se, df, label = sd / math.sqrt(n), n - 1, "paired-t"
    if clusters is not None:
        keys = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
        k = len(keys)
        if k < 2:
            return TestResult(mean, math.nan, math.nan, math.nan, confidence, "paired-t", n)
        totals = np.bincount([keys[c] for c in clusters], weights=d - d.mean(), minlength=k)
        se = math.sqrt(k / (k - 1) * float((totals**2).sum())) / n
        df, label = k - 1, "paired-t (cluster-robust)"
        if se < TOLERANCE:
            return TestResult(mean, math.nan, math.nan, math.nan, confidence, label, n)
    t = mean / se
    p = float(2 * stdtr(df, -abs(t)))
    q = float(stdtrit(df, 1 - (1 - confidence) / 2))
    return TestResult(mean, mean - q * se, mean + q * se, min(1.0, p), confidence, label, n)


# --- multiplicity -----------------------------------------------------------------------------


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (NaN stays NaN and is not counted)."""
    order = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    m = len(order)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def holm_levels(p_values: Sequence[float], alpha: float) -> list[float]:
    """The significance level Holm's procedure tested each hypothesis at.

    Holm compares the k-th smallest of m p-values with ``alpha / (m - k + 1)`` and stops at the
    first it cannot reject; hypotheses from there on keep the level it stopped at. A
    ``1 - level`` interval that inverts the same test therefore excludes the null exactly when
    Holm rejects, which is what lets a report print it next to the Holm decision. NaN p-values
    get NaN and are not counted in m.
    """
    order = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    m = len(order)
    levels = [math.nan] * len(p_values)
    stopped: float | None = None
    for rank, (p, i) in enumerate(order):
        level = alpha / (m - rank)
        if stopped is None and p >= level:
            stopped = level
        levels[i] = level if stopped is None else stopped
    return levels


# --- power ------------------------------------------------------------------------------------


def _t_power(n: int, effect_size: float, alpha: float) -> float:
    from scipy.special import stdtrit
    from scipy.stats import nct

    df = n - 1
    crit = float(stdtrit(df, 1 - alpha / 2))
    nc = effect_size * math.sqrt(n)
    power = float(nct.sf(crit, df, nc) + nct.cdf(-crit, df, nc))
    # scipy's noncentral t gives NaN far in the tail, where power is 1 to machine precision.
    return power if math.isfinite(power) else 1.0


def t_rows_needed(sd: float, effect: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Rows a two-sided paired t-test needs to detect a mean difference ``effect`` with ``power``.

    Exact power from the noncentral t with n - 1 degrees of freedom (as statsmodels'
    ``TTestPower``); NaN when ``effect`` is 0 or the spread is 0 or undefined.
    """
    if not (math.isfinite(sd) and math.isfinite(effect)) or sd < TOLERANCE or \
            abs(effect) < TOLERANCE:
        return math.nan
    es = abs(effect) / sd
    lo, hi = 2, 4
    while _t_power(hi, es, alpha) < power:
        lo, hi = hi, hi * 2
        if hi > 10**9:
            return math.inf
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _t_power(mid, es, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return float(hi if _t_power(lo, es, alpha) < power else lo)


def t_min_detectable(sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest mean difference a paired t-test on ``n`` rows detects with ``power`` (NaN if none)."""
    from scipy.optimize import brentq

    if n < 2 or not math.isfinite(sd) or sd < TOLERANCE:
        return math.nan
    es = brentq(lambda e: _t_power(n, e, alpha) - power, 1e-9, 100.0)
    return float(es * sd)


def connor_rows_needed(second_moment: float, mean: float, *, alpha: float = 0.05,
                       power: float = 0.8) -> float:
    """Connor's (1987) sample size for McNemar's test, for per-row differences ``d``.

    Args:
        second_moment: ``E[d^2]`` per row: the discordant probability for a 0/1 outcome, the
            cost-weighted one (``sum cost^2 * P(discordant)``) for a cost difference.
        mean: ``E[d]``, the difference to detect.
        alpha: Two-sided level actually used (Holm's level where it decides).
        power: Target power.

    ``n = (z_{1-alpha/2} sqrt(E d^2) + z_power sqrt(E d^2 - E[d]^2))^2 / E[d]^2``: the null
    variance of a paired count test is ``E d^2``, not the alternative's ``Var d`` a t-style formula
    uses, which is why that formula is optimistic. NaN when nothing differs.
    """
    from scipy.special import ndtri

    if second_moment < TOLERANCE or abs(mean) < TOLERANCE:
        return math.nan
    var = max(second_moment - mean * mean, 0.0)
    za, zb = float(ndtri(1 - alpha / 2)), float(ndtri(power))
    return float(math.ceil((za * math.sqrt(second_moment) + zb * math.sqrt(var)) ** 2 / mean**2))


def connor_min_detectable(second_moment: float, n: int, *, alpha: float = 0.05,
                          power: float = 0.8) -> float:
    """Smallest ``|E[d]|`` Connor's formula detects on ``n`` rows at this ``E[d^2]`` (NaN if none)."""
    from scipy.optimize import brentq
    from scipy.special import ndtri

    if n < 1 or second_moment < TOLERANCE:
        return math.nan
    za, zb = float(ndtri(1 - alpha / 2)), float(ndtri(power))
    top = math.sqrt(second_moment)

    def gap(m: float) -> float:
        return math.sqrt(n) * m - (za * top + zb * math.sqrt(max(second_moment - m * m, 0.0)))

    if gap(top) < 0:
        return math.nan  # no difference this large is possible at this discordance
    return float(brentq(gap, 0.0, top))


def mcnemar_exact_power(n: int, p10: float, p01: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sided exact McNemar test on ``n`` rows with discordant cell probabilities.

    Exact: the number of discordant rows is Binomial(n, p10 + p01) and, given it, the split is
    binomial; the test rejects where twice the smaller tail is below ``alpha``.
    """
    import numpy as np
    from scipy.stats import binom

    psi = p10 + p01
    if n < 1 or psi <= 0:
        return 0.0
    m = np.arange(n + 1)
    # Largest k with 2 * P(X <= k) < alpha under the null, per discordant count m.
    k = binom.ppf(alpha / 2, m, 0.5) - 1
    share = p10 / psi
    reject = np.where(k >= 0, binom.cdf(k, m, share) + binom.sf(m - k - 1, m, share), 0.0)
    return float(np.sum(binom.pmf(m, n, psi) * reject))


def mcnemar_rows_needed(p10: float, p01: float, *, alpha: float = 0.05, power: float = 0.8,
                        limit: int = 20_000) -> float:
    """Fewest rows at which the exact McNemar test reaches ``power`` (NaN when nothing differs).

    Starts from Connor's formula, which is for the asymptotic test and too optimistic for the
    exact one, and steps up until the exact power is reached; above ``limit`` rows, where the two
    agree, Connor's figure is returned.
    """
    psi, delta = p10 + p01, p10 - p01
    start = connor_rows_needed(psi, delta, alpha=alpha, power=power)
    if not math.isfinite(start):
        return math.nan
    if start > limit:
        return start
    n = max(1, int(start))
    step = max(1, n // 200)
    while mcnemar_exact_power(n, p10, p01, alpha=alpha) < power:
        n += step
        if n > limit:
            return float(max(start, limit))
    while step > 1 and mcnemar_exact_power(n - 1, p10, p01, alpha=alpha) >= power:
        n -= 1
    return float(n)


def mcnemar_min_detectable(psi: float, n: int, *, alpha: float = 0.05, power: float = 0.8
                           ) -> float:
    """Smallest ``|p10 - p01|`` the exact McNemar test detects on ``n`` rows at discordance ``psi``."""
    from scipy.optimize import brentq

    if n < 1 or psi < TOLERANCE:
        return math.nan

    def gap(d: float) -> float:
        return mcnemar_exact_power(n, (psi + d) / 2, (psi - d) / 2, alpha=alpha) - power

    if gap(psi) < 0:
        return math.nan
    return float(brentq(gap, 0.0, psi, xtol=1e-6))


# --- bootstrap --------------------------------------------------------------------------------


def _units(features: FloatArray, strata: Sequence[int] | None, clusters: Sequence[object] | None
           ) -> tuple[FloatArray, list[IndexArray]]:
    """Resampling units (rows, or clusters summed) and their index groups (one per stratum)."""
    import numpy as np

    n = features.shape[0]
    if clusters is not None:
        if len(clusters) != n:
            raise ValueError("one cluster label per row is needed")
        keys = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
        ids = np.array([keys[c] for c in clusters], dtype=np.intp)
        agg = np.zeros((len(keys), features.shape[1]))
        np.add.at(agg, ids, features)
        unit_strata: list[int] | None = None
        if strata is not None:
            seen: dict[int, set[int]] = {}
            for i, s in zip(ids, strata):
                seen.setdefault(int(i), set()).add(int(s))
            # A cluster that spans truth classes cannot be drawn within one: resample clusters
            # unstratified then.
            if all(len(v) == 1 for v in seen.values()):
                unit_strata = [next(iter(seen[i])) for i in range(len(keys))]
        features, strata = agg, unit_strata
        n = features.shape[0]
    if strata is None:
        return features, [np.arange(n, dtype=np.intp)]
    labels = np.asarray(strata)
    if labels.shape[0] != n:
        raise ValueError("one stratum label per row is needed")
    return features, [np.flatnonzero(labels == s) for s in dict.fromkeys(labels.tolist())]


def _resample_sums(features: FloatArray, groups: Sequence[IndexArray], n_resamples: int,
                   seed: int, chunk_cells: int = 1_000_000) -> Iterator[FloatArray]:
    """Yield ``w @ features`` for bootstrap multiplicities ``w``, drawn within each group.

    Units are drawn with ``rng.integers`` and counted with ``bincount``: exact multinomial
    resampling within each stratum, so every resample keeps the test set's truth-class sizes.
    Chunks of about a million draws stay in cache.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n = features.shape[0]
    per_chunk = max(1, min(n_resamples, chunk_cells // max(n, 1)))
    done = 0
    while done < n_resamples:
        b = min(per_chunk, n_resamples - done)
        sums = np.zeros((b, features.shape[1]))
        for group in groups:
            k = group.size
            if k == 0:
                continue
            sub = features[group]
            idx = rng.integers(0, k, size=(b, k), dtype=np.int32 if k < 2**31 else np.int64)
            if k >= 2_000:
                counts = np.empty((b, k), dtype=np.float64)
                for i in range(b):
                    counts[i] = np.bincount(idx[i], minlength=k)
            else:
                flat = (idx + (np.arange(b, dtype=np.int64) * k)[:, None]).ravel()
                counts = np.bincount(flat, minlength=b * k).reshape(b, k).astype(np.float64)
            sums += counts @ sub
        yield sums
        done += b


def _percentile_interval(theta_hat: float, finite: FloatArray, jackknife: FloatArray | None,
                         method: str, confidence: float) -> tuple[float, float]:
    import numpy as np
    from scipy.special import ndtr, ndtri

    alpha = (1 - confidence) / 2
    lo_q, hi_q = alpha, 1 - alpha
    if method == "bca" and jackknife is not None:
        z0, a = _bca_constants(theta_hat, finite, jackknife)
        if math.isfinite(z0):
            z_lo, z_hi = float(ndtri(alpha)), float(ndtri(1 - alpha))
            lo_q = float(ndtr(z0 + (z0 + z_lo) / (1 - a * (z0 + z_lo))))
            hi_q = float(ndtr(z0 + (z0 + z_hi) / (1 - a * (z0 + z_hi))))
        # An infinite z0 (every resample on one side) leaves BCa undefined: percentile then.
    lo, hi = np.quantile(finite, [lo_q, hi_q])
    return float(lo), float(hi)


def _bca_constants(theta_hat: float, finite: FloatArray, jackknife: FloatArray
                   ) -> tuple[float, float]:
    import numpy as np
    from scipy.special import ndtri

    jk = jackknife[np.isfinite(jackknife)]
    pct = (np.count_nonzero(finite < theta_hat) + np.count_nonzero(finite <= theta_hat)) / (
        2 * finite.size)
    z0 = float(ndtri(pct))
    d = jk.mean() - jk if jk.size else jk
    den = 6.0 * float((d**2).sum()) ** 1.5
    a = float((d**3).sum()) / den if den > 0 else 0.0
    return z0, a


def _jackknife(features: FloatArray, fn: Callable[[FloatArray], FloatArray]) -> FloatArray:
    total = features.sum(axis=0)
    return fn(total[None, :] - features)


def bootstrap_metrics(
    features: FloatArray,
    functions: Mapping[str, Callable[[FloatArray], FloatArray]],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Literal["percentile", "bca"] = "percentile",
    confidence: float = 0.95,
    strata: Sequence[int] | None = None,
    clusters: Sequence[object] | None = None,
    keep_distribution: bool = False,
) -> dict[str, BootstrapResult]:
    """Percentile or BCa bootstrap of several statistics of feature sums, from one set of resamples.

    Args:
        features: ``(n, k)`` per-row features.
        functions: Name to a vectorised function of sums ``(..., k) -> (...)``.
        n_resamples: Bootstrap resamples.
        seed: Seed of ``numpy.random.default_rng``.
        method: ``"percentile"`` or ``"bca"`` (studentized needs a ratio: ``bootstrap_ratios``).
        confidence: Two-sided confidence level.
        strata: A label per row; rows are drawn within each label (the truth class).
        clusters: A label per row; whole clusters are drawn (within strata when each cluster
            lies in one).
        keep_distribution: Keep the resampled statistics in each result.

    Resamples where a statistic is undefined (0/0) are left out of its interval and counted in
    ``n_undefined``, the same way for every statistic.
    """
    import numpy as np

    if method not in ("percentile", "bca"):
        raise ValueError(f"Unknown CI method {method!r} for bootstrap_metrics; choose percentile "
                         "or bca (studentized needs bootstrap_ratios)")
    _check_confidence(confidence)
    units, groups = _units(features, strata, clusters)
    n = int(units.shape[0])
    total = units.sum(axis=0)
    if n == 0 or n_resamples <= 0:
        return {
            name: BootstrapResult(float(fn(total)) if n else math.nan, math.nan, math.nan, n,
                                  0, seed, method, confidence)
            for name, fn in functions.items()
        }
    draws: dict[str, list[FloatArray]] = {name: [] for name in functions}
    with np.errstate(divide="ignore", invalid="ignore"):
        for sums in _resample_sums(units, groups, n_resamples, seed):
            for name, fn in functions.items():
                draws[name].append(fn(sums))
    out = {}
    for name, fn in functions.items():
        theta_b = np.concatenate(draws[name])
        with np.errstate(divide="ignore", invalid="ignore"):
            theta_hat = float(fn(total))
            jk = _jackknife(units, fn) if method == "bca" else None
        finite = theta_b[np.isfinite(theta_b)]
        undefined = int(theta_b.size - finite.size)
        if finite.size == 0 or not math.isfinite(theta_hat):
            lo = hi = math.nan
        else:
            lo, hi = _percentile_interval(theta_hat, finite, jk, method, confidence)
        out[name] = BootstrapResult(theta_hat, lo, hi, n, n_resamples, seed, method, confidence,
                                    undefined, theta_b if keep_distribution else None)
    return out


def bootstrap_ratios(
    ratios: Mapping[str, tuple[Sequence[float] | FloatArray, Sequence[float] | FloatArray]],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Literal["studentized", "percentile", "bca"] = "studentized",
    confidence: float = 0.95,
    strata: Sequence[int] | None = None,
    clusters: Sequence[object] | None = None,
    bounds: tuple[float, float] | None = None,
) -> dict[str, BootstrapResult]:
    """Bootstrap intervals of ratios of row sums ``sum(y) / sum(w)``, one set of resamples for all.

    Args:
        ratios: Name to ``(y, w)``, per-row numerator and denominator (``w`` = 1 for a mean, an
            indicator for a mean over some rows).
        n_resamples: Bootstrap resamples.
        seed: Seed of ``numpy.random.default_rng``.
        method: ``studentized`` (bootstrap-t with the linearisation standard error
            ``sqrt(sum((y - r w)^2)) / sum(w)``; the default: it holds its coverage at 30 rows where
            the percentile interval is too narrow), ``percentile`` or ``bca``.
        confidence: Two-sided level.
        strata: Truth class per row (rows are drawn within each).
        clusters: Cluster per row (clusters are drawn whole).
        bounds: The range the ratio cannot leave (``(0, 1)`` for a mean of 0-1 scores): the
            interval is cut to it, which costs no coverage. A studentized interval over a handful
            of rows can otherwise run far outside it.
    """
    import numpy as np

    if method not in CI_METHODS:
        raise ValueError(f"Unknown CI method {method!r}; choose one of {', '.join(CI_METHODS)}")
    _check_confidence(confidence)
    names = list(ratios)
    cols = []
    for name in names:
        y = np.nan_to_num(np.asarray(ratios[name][0], dtype=np.float64))
        w = np.asarray(ratios[name][1], dtype=np.float64)
        cols += [y, w, y * y, y * w, w * w]
    if not cols:
        return {}
    feats = np.column_stack(cols)
    units, groups = _units(feats, strata, clusters)
    n = int(units.shape[0])

    def parts(s: FloatArray, j: int) -> tuple[FloatArray, FloatArray]:
        b = 5 * j
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(s[..., b + 1] > 0, s[..., b] / np.where(s[..., b + 1] > 0,
                                                                 s[..., b + 1], 1.0), np.nan)
            resid = s[..., b + 2] - 2 * r * s[..., b + 3] + r * r * s[..., b + 4]
            se = np.sqrt(np.maximum(resid, 0.0)) / s[..., b + 1]
        return r, se

    total = units.sum(axis=0)
    if n == 0 or n_resamples <= 0:
        return {name: BootstrapResult(float(parts(total, j)[0]) if n else math.nan, math.nan,
                                      math.nan, n, 0, seed, method, confidence)
                for j, name in enumerate(names)}
    theta: list[list[FloatArray]] = [[] for _ in names]
    stud: list[list[FloatArray]] = [[] for _ in names]
    for sums in _resample_sums(units, groups, n_resamples, seed):
        for j in range(len(names)):
            r, se = parts(sums, j)
            theta[j].append(r)
            stud[j].append(se)
    out = {}
    a = (1 - confidence) / 2
    for j, name in enumerate(names):
        label: str = method
        r_hat, se_hat = (float(x) for x in parts(total, j))
        r_b = np.concatenate(theta[j])
        used = int(np.count_nonzero(feats[:, 5 * j + 1] > 0))
        if method == "studentized" and 2 <= used < MIN_STUDENTIZED and math.isfinite(r_hat):
            # Too few rows to estimate a t distribution by resampling: Student's own, on the
            # same linearised standard error (equal to s / sqrt(n) for a plain mean).
            from scipy.special import stdtrit

            half = float(stdtrit(used - 1, 1 - a)) * se_hat * math.sqrt(used / (used - 1))
            lo, hi = r_hat - half, r_hat + half
            undefined = 0
            label = "t (few rows)"
        elif method == "studentized":
            with np.errstate(divide="ignore", invalid="ignore"):
                t_b = (r_b - r_hat) / np.concatenate(stud[j])
            ok = t_b[np.isfinite(t_b)]
            undefined = int(t_b.size - ok.size)
            if ok.size == 0 or not math.isfinite(r_hat):
                lo = hi = math.nan
            elif se_hat == 0:
                lo = hi = r_hat  # no spread at all: nothing to studentize
            else:
                q_lo, q_hi = np.quantile(ok, [a, 1 - a])
                lo, hi = r_hat - float(q_hi) * se_hat, r_hat + -float(q_lo) * se_hat
        else:
            ok = r_b[np.isfinite(r_b)]
            undefined = int(r_b.size - ok.size)

            def ratio_fn(s: FloatArray, j: int = j) -> FloatArray:
                return parts(s, j)[0]

            jk = _jackknife(units, ratio_fn) if method == "bca" else None
            if ok.size == 0 or not math.isfinite(r_hat):
                lo = hi = math.nan
            else:
                lo, hi = _percentile_interval(r_hat, ok, jk, method, confidence)
        if bounds is not None and math.isfinite(lo):
            lo, hi = min(max(lo, bounds[0]), bounds[1]), max(min(hi, bounds[1]), bounds[0])
        out[name] = BootstrapResult(r_hat, lo, hi, n, n_resamples, seed, label, confidence,
                                    undefined)
    return out


def bootstrap_ci(
    values: Sequence[float] | FloatArray,
    *,
    weights: Sequence[float] | FloatArray | None = None,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Literal["studentized", "percentile", "bca"] = "percentile",
    confidence: float = 0.95,
) -> BootstrapResult:
    """Bootstrap CI of a (weighted) mean, resampling rows.

    With ``weights`` (say, 1 for rows that count and 0 for the others) the statistic is
    ``sum(w * v) / sum(w)``: the protocol's quality over ``ok`` rows is this with ``w = is_ok``.
    """
    import numpy as np

    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64)
    return bootstrap_ratios({"mean": (w * v, w)}, n_resamples=n_resamples, seed=seed,
                            method=method, confidence=confidence)["mean"]


def _bootstrap_p(dist: FloatArray, value: float, jackknife: FloatArray | None, method: str
                 ) -> float:
    """The p-value that inverts the percentile or BCa interval at 0 (NaN when undefined)."""
    import numpy as np
    from scipy.special import ndtr, ndtri

    dist = dist[np.isfinite(dist)]
    if dist.size == 0 or not math.isfinite(value):
        return math.nan
    below = float(np.count_nonzero(dist < 0) + 0.5 * np.count_nonzero(dist == 0)) / dist.size
    if method == "bca" and jackknife is not None:
        z0, a = _bca_constants(value, dist, jackknife)
        if math.isfinite(z0) and 0 < below < 1:
            # Solve for the nominal tail whose BCa-adjusted quantile is 0.
            w = float(ndtri(below)) - z0
            u = w / (1 + a * w)
            below = float(ndtr(u - z0))
    return float(min(1.0, 2 * min(below, 1 - below)))


def paired_bootstrap(
    features_a: FloatArray,
    features_b: FloatArray,
    functions: Mapping[str, Callable[[FloatArray], FloatArray]],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Literal["percentile", "bca"] = "percentile",
    confidence: float = 0.95,
    strata: Sequence[int] | None = None,
) -> dict[str, tuple[BootstrapResult, float]]:
    """Paired bootstrap of ``metric(B) - metric(A)``: the same rows are drawn for both.

    Returns, per metric, the delta's interval and the two-sided p-value that inverts that same
    interval at 0 (percentile or BCa), so the two agree at every level.
    """
    return pairwise_bootstrap([features_a, features_b], [(0, 1)], functions,
                              n_resamples=n_resamples, seed=seed, method=method,
                              confidence=confidence, strata=strata)[0]


def pairwise_bootstrap(
    features: Sequence[FloatArray],
    pairs: Sequence[tuple[int, int]],
    functions: Mapping[str, Callable[[FloatArray], FloatArray]],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: Literal["percentile", "bca"] = "percentile",
    confidence: float = 0.95,
    strata: Sequence[int] | None = None,
) -> list[dict[str, tuple[BootstrapResult, float]]]:
    """``paired_bootstrap`` for several pairs of checkpoints from one set of resamples.

    Every checkpoint is scored on the same rows, so one draw of row multiplicities serves all
    pairs: the cost is one resampling pass, however many pairs.
    """
    import numpy as np

    if len({f.shape for f in features}) != 1:
        raise ValueError("paired bootstrap needs the same rows for every checkpoint")
    k = features[0].shape[1]
    joint = np.concatenate(list(features), axis=1)

    def delta(fn: Callable[[FloatArray], FloatArray], i: int, j: int
              ) -> Callable[[FloatArray], FloatArray]:
        return lambda s: fn(s[..., j * k:(j + 1) * k]) - fn(s[..., i * k:(i + 1) * k])

    deltas = {f"{p}:{name}": delta(fn, i, j)
              for p, (i, j) in enumerate(pairs) for name, fn in functions.items()}
    res = bootstrap_metrics(joint, deltas, n_resamples=n_resamples, seed=seed, method=method,
                            confidence=confidence, strata=strata, keep_distribution=True)
    out: list[dict[str, tuple[BootstrapResult, float]]] = [{} for _ in pairs]
    for key, r in res.items():
        p_index, name = key.split(":", 1)
        dist = r.distribution if r.distribution is not None else np.array([])
        with np.errstate(divide="ignore", invalid="ignore"):
            jk = _jackknife(joint, deltas[key]) if method == "bca" else None
        p = _bootstrap_p(dist, r.value, jk, method)
        kept = BootstrapResult(r.value, r.ci_low, r.ci_high, r.n, r.n_resamples, r.seed,
                               r.method, r.confidence, r.n_undefined)
        out[int(p_index)][name] = (kept, p)
    return out


def bootstrap_clusters(
    n_clusters: int,
    statistic: Callable[[IndexArray], float],
    *,
    n_resamples: int = 2_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Percentile bootstrap of any statistic of resampled cluster (row) indices.

    For statistics that are not ratios of sums (kappa, Spearman): ``statistic`` receives an index
    array (with repeats) of the rows in one resample. A Python loop, so keep ``n_resamples``
    modest; rows are resampled, so names stay grouped with their row.
    """
    import numpy as np

    _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    full = np.arange(n_clusters, dtype=np.intp)
    value = statistic(full) if n_clusters else math.nan
    draws = np.array([statistic(rng.integers(0, n_clusters, n_clusters, dtype=np.intp))
                      for _ in range(n_resamples)]) if n_clusters else np.array([])
    finite = draws[np.isfinite(draws)]
    undefined = int(draws.size - finite.size)
    if finite.size == 0 or not math.isfinite(value):
        lo = hi = math.nan
    else:
        lo, hi = _percentile_interval(value, finite, None, "percentile", confidence)
    return BootstrapResult(value, lo, hi, n_clusters, n_resamples, seed, "percentile",
                           confidence, undefined)


# --- agreement --------------------------------------------------------------------------------


def weighted_kappa(a: Sequence[int], b: Sequence[int], *, labels: Sequence[int]) -> float:
    """Cohen's kappa with quadratic weights, for ordinal scores such as the 1-5 rubric."""
    import numpy as np

    if len(a) != len(b):
        raise ValueError("kappa needs two label sequences of equal length")
    if len(a) == 0:
        return math.nan
    index = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    observed = np.zeros((k, k))
    for x, y in zip(a, b):
        observed[index[x], index[y]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    idx = np.arange(k)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (k - 1) ** 2
    den = float((weights * expected).sum())
    return math.nan if den == 0 else 1.0 - float((weights * observed).sum()) / den


def cohen_kappa(a: Sequence[object], b: Sequence[object]) -> float:
    """Cohen's kappa between two label sequences (NaN when agreement by chance is total)."""
    if len(a) != len(b):
        raise ValueError("kappa needs two label sequences of equal length")
    n = len(a)
    if n == 0:
        return math.nan
    labels = sorted(set(a) | set(b), key=repr)
    po = sum(1 for x, y in zip(a, b) if x == y) / n
    pe = sum((list(a).count(lab) / n) * (list(b).count(lab) / n) for lab in labels)
    return math.nan if pe == 1 else (po - pe) / (1 - pe)
