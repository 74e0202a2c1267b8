"""The stratified, optionally clustered bootstrap of per-row features.

Resamples are read off ``w @ F`` for one feature matrix; studentized, percentile and BCa
intervals; paired and pairwise forms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

from ._common import CI_METHODS, MIN_STUDENTIZED, check_confidence
from .intervals import BootstrapResult
from .resampling import bootstrap_p, jackknife_values, percentile_interval, resample_sums, resampling_units


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
    check_confidence(confidence)
    units, groups = resampling_units(features, strata, clusters)
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
        for sums in resample_sums(units, groups, n_resamples, seed):
            for name, fn in functions.items():
                draws[name].append(fn(sums))
    out = {}
    for name, fn in functions.items():
        theta_b = np.concatenate(draws[name])
        with np.errstate(divide="ignore", invalid="ignore"):
            theta_hat = float(fn(total))
            jk = jackknife_values(units, fn) if method == "bca" else None
        finite = theta_b[np.isfinite(theta_b)]
        undefined = int(theta_b.size - finite.size)
        if finite.size == 0 or not math.isfinite(theta_hat):
            lo = hi = math.nan
        else:
            lo, hi = percentile_interval(theta_hat, finite, jk, method, confidence)
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
    check_confidence(confidence)
    names = list(ratios)
    cols = []
    for name in names:
        y = np.nan_to_num(np.asarray(ratios[name][0], dtype=np.float64))
        w = np.asarray(ratios[name][1], dtype=np.float64)
        cols += [y, w, y * y, y * w, w * w]
    if not cols:
        return {}
    feats = np.column_stack(cols)
    units, groups = resampling_units(feats, strata, clusters)
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
    for sums in resample_sums(units, groups, n_resamples, seed):
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

            jk = jackknife_values(units, ratio_fn) if method == "bca" else None
            if ok.size == 0 or not math.isfinite(r_hat):
                lo = hi = math.nan
            else:
                lo, hi = percentile_interval(r_hat, ok, jk, method, confidence)
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
            jk = jackknife_values(joint, deltas[key]) if method == "bca" else None
        p = bootstrap_p(dist, r.value, jk, method)
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

    check_confidence(confidence)
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
        lo, hi = percentile_interval(value, finite, None, "percentile", confidence)
    return BootstrapResult(value, lo, hi, n_clusters, n_resamples, seed, "percentile",
                           confidence, undefined)
