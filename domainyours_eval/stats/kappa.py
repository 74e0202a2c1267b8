"""Agreement between raters: Cohen's kappa and weighted kappa."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

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
