"""Constants and helpers every part of the statistics engine shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IndexArray = npt.NDArray[np.intp]

CI_METHODS = ("studentized", "percentile", "bca")
"""Bootstrap interval methods: studentized (bootstrap-t, the default), percentile, BCa."""

MIN_STUDENTIZED = 10
"""Fewest rows a studentized bootstrap interval is drawn from; below it, Student's t interval."""

TOLERANCE = 1e-12
"""Differences smaller than this are zero (floating-point noise, not an effect)."""


def z_quantile(confidence: float) -> float:
    """The standard normal quantile of a two-sided interval at ``confidence``."""
    from scipy.special import ndtri

    return float(ndtri(1 - (1 - confidence) / 2))


def check_confidence(confidence: float) -> None:
    """Raise ``ValueError`` unless ``0 < confidence < 1``."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
