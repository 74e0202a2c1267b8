"""Paired comparisons of two checkpoints on the same rows.

Tango score intervals combined by MOVER, the paired posterior interval, exact McNemar and the
paired t test.
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
from .intervals import BootstrapResult, clopper_pearson_interval, posterior_interval


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
    check_confidence(confidence)
    return _tango(b_only, a_only, n, z_quantile(confidence))


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

    check_confidence(confidence)
    n = int(round(sum(s.n for _, s in strata)))
    est, lo, hi = _mover(strata, z_quantile(confidence))
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

    check_confidence(confidence)
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
    return posterior_interval(value, theta, int(round(sum(s.n for s in strata))), n_draws, seed,
                               confidence)




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

    check_confidence(confidence)
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
