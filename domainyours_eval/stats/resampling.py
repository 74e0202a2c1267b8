"""The bootstrap's machinery: resampling units, resampled sums, and interval and p-value rules.

Rows resample within strata, or whole clusters within strata; each resample is a weight vector,
so every statistic is read off ``w @ F`` for one feature matrix. Percentile and BCa intervals and
the bootstrap p-value are here; the public bootstrap functions in ``bootstrap.py`` combine them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

__all__ = ["bca_constants", "bootstrap_p", "jackknife_values", "percentile_interval",
           "resample_sums", "resampling_units"]


def resampling_units(features: FloatArray, strata: Sequence[int] | None, clusters: Sequence[object] | None
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


def resample_sums(features: FloatArray, groups: Sequence[IndexArray], n_resamples: int,
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


def percentile_interval(theta_hat: float, finite: FloatArray, jackknife: FloatArray | None,
                         method: str, confidence: float) -> tuple[float, float]:
    """The percentile (or, with a jackknife, BCa) interval of finite resampled values."""
    import numpy as np
    from scipy.special import ndtr, ndtri

    alpha = (1 - confidence) / 2
    lo_q, hi_q = alpha, 1 - alpha
    if method == "bca" and jackknife is not None:
        z0, a = bca_constants(theta_hat, finite, jackknife)
        if math.isfinite(z0):
            z_lo, z_hi = float(ndtri(alpha)), float(ndtri(1 - alpha))
            lo_q = float(ndtr(z0 + (z0 + z_lo) / (1 - a * (z0 + z_lo))))
            hi_q = float(ndtr(z0 + (z0 + z_hi) / (1 - a * (z0 + z_hi))))
        # An infinite z0 (every resample on one side) leaves BCa undefined: percentile then.
    lo, hi = np.quantile(finite, [lo_q, hi_q])
    return float(lo), float(hi)


def bca_constants(theta_hat: float, finite: FloatArray, jackknife: FloatArray
                   ) -> tuple[float, float]:
    """BCa's bias correction ``z0`` and acceleration ``a`` (from the jackknife)."""
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


def jackknife_values(features: FloatArray, fn: Callable[[FloatArray], FloatArray]) -> FloatArray:
    """``fn`` of the feature sums with each unit left out in turn."""
    total = features.sum(axis=0)
    return fn(total[None, :] - features)


def bootstrap_p(dist: FloatArray, value: float, jackknife: FloatArray | None, method: str
                 ) -> float:
    """The p-value that inverts the percentile or BCa interval at 0 (NaN when undefined)."""
    import numpy as np
    from scipy.special import ndtr, ndtri

    dist = dist[np.isfinite(dist)]
    if dist.size == 0 or not math.isfinite(value):
        return math.nan
    below = float(np.count_nonzero(dist < 0) + 0.5 * np.count_nonzero(dist == 0)) / dist.size
    if method == "bca" and jackknife is not None:
        z0, a = bca_constants(value, dist, jackknife)
        if math.isfinite(z0) and 0 < below < 1:
            # Solve for the nominal tail whose BCa-adjusted quantile is 0.
            w = float(ndtri(below)) - z0
            u = w / (1 + a * w)
            below = float(ndtr(u - z0))
    return float(min(1.0, 2 * min(below, 1 - below)))
