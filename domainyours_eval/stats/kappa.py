"""Agreement between raters: Cohen's kappa, weighted kappa and Krippendorff's alpha."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

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


def krippendorff_alpha(units: Sequence[Sequence[object]], *, level: str = "nominal") -> float:
    """Krippendorff's alpha over units, each a list of the values its raters gave.

    A rater who gave nothing for a unit is simply absent from its list; units with fewer than two
    values are not pairable and left out. ``level``: ``nominal`` (any difference disagrees
    fully), ``interval`` (squared difference) or ``ordinal`` (squared distance in cumulative value
    frequencies). NaN when there is no expected disagreement (every value the same).
    """
    import numpy as np

    if level not in ("nominal", "interval", "ordinal"):
        raise ValueError(f"level must be nominal, interval or ordinal, got {level!r}")
    pairable = [list(u) for u in units if len(u) >= 2]
    if not pairable:
        return math.nan
    distinct = {v for u in pairable for v in u}
    values = sorted(distinct, key=repr) if level == "nominal" else sorted(
        distinct, key=lambda v: cast(float, v))  # interval and ordinal values are numbers
    index = {v: i for i, v in enumerate(values)}
    k = len(values)
    coincidence = np.zeros((k, k))
    for u in pairable:
        counts = np.bincount([index[v] for v in u], minlength=k).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)
        coincidence += pairs / (len(u) - 1)
    n_c = coincidence.sum(axis=1)
    n = float(n_c.sum())
    if level == "nominal":
        delta = 1.0 - np.eye(k)
    elif level == "interval":
        x = np.array(values, dtype=float)
        delta = (x[:, None] - x[None, :]) ** 2
    else:
        cum = np.cumsum(n_c)
        lo = np.minimum.outer(np.arange(k), np.arange(k))
        hi = np.maximum.outer(np.arange(k), np.arange(k))
        between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0.0)
        delta = (between - (n_c[:, None] + n_c[None, :]) / 2) ** 2
    observed = float((coincidence * delta).sum()) / n
    expected = float((np.outer(n_c, n_c) * delta).sum()) / (n * (n - 1))
    return math.nan if expected == 0 else 1.0 - observed / expected
