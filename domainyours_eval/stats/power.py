"""Multiplicity (Holm) and power: t-test and McNemar sample sizes, Connor's formula."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

from ._common import TOLERANCE


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
