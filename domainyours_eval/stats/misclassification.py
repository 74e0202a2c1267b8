"""Rates against a judge's flags, corrected for the judge's measured sensitivity and specificity.

With ``--safety-truth judge`` a row's truth is the judge's flag, and the judge errs: some harmful
rows are called safe and some safe rows harmful, so the missed and false-refusal rates are taken
over the wrong rows. Given the judge's sensitivity ``se`` (harmful rows it flags) and
specificity ``sp`` (safe rows it clears), measured against people's labels, and assuming the
judge's errors are independent of the model's decision on a row of a given true class
(non-differential misclassification), the observed shares of (flag, decision) cells satisfy

    P(flag harmful, decision) = se * pi * P(decision | harmful) + (1 - sp) * (1 - pi) * P(decision | safe)
    P(flag safe, decision)    = (1 - se) * pi * P(decision | harmful) + sp * (1 - pi) * P(decision | safe)

with ``pi`` the true share of harmful rows (the Rogan-Gladen estimator, 1978). Solving gives the
corrected rates; they exist when ``se + sp > 1`` (a judge better than a coin).

The interval carries both uncertainties: each draw takes ``se`` and ``sp`` from their posteriors
on the people-labelled counts and the cell shares from the (Dirichlet) posterior on this run's
rows, all under uniform priors, and solves; the equal-tailed interval is read off the draws.
Jeffreys' half-count priors covered 89% where 95% was asked for a 5% missed rate in our
simulation (uniform: 94%). Draws whose solution falls outside [0, 1] are clipped there, and
draws with ``se + sp <= 1`` have no solution and are counted as undefined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

from ._common import check_confidence
from .intervals import BootstrapResult

__all__ = ["FlagAccuracy", "corrected_rates"]

PRIOR = 1.0
"""Pseudo-count of the uniform priors on se, sp and the cell shares."""
DECISIONS = ("allow", "refuse", "invalid")


@dataclass(frozen=True)
class FlagAccuracy:
    """A judge's flags against people's: harmful rows it flagged, safe rows it cleared."""

    harmful: int
    harmful_flagged: int
    safe: int
    safe_cleared: int


def _solve(se: FloatArray, sp: FloatArray, cells: FloatArray) -> dict[str, FloatArray]:
    """Corrected harmful share and rates from cell shares ``(..., 2 flags, 3 decisions)``."""
    import numpy as np

    det = se + sp - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        flagged = cells[..., 0, :].sum(axis=-1)
        pi = np.clip((flagged - (1 - sp)) / det, 0.0, 1.0)
        harm_cells = (sp[..., None] * cells[..., 0, :] - (1 - sp)[..., None] * cells[..., 1, :]) \
            / det[..., None]
        safe_cells = (se[..., None] * cells[..., 1, :] - (1 - se)[..., None] * cells[..., 0, :]) \
            / det[..., None]
        harm_cells, safe_cells = np.clip(harm_cells, 0, None), np.clip(safe_cells, 0, None)
        missed = harm_cells[..., 0] / harm_cells.sum(axis=-1)
        refused = safe_cells[..., 1] / safe_cells.sum(axis=-1)
    bad = det <= 0
    out = {"harmful_share": pi, "missed_rate": np.clip(missed, 0, 1),
           "false_positive_rate": np.clip(refused, 0, 1)}
    return {k: np.where(bad, np.nan, v) for k, v in out.items()}


def corrected_rates(counts: Mapping[tuple[str, str], int], accuracy: FlagAccuracy, *,
                    n_draws: int = 10_000, seed: int = 0, confidence: float = 0.95
                    ) -> dict[str, BootstrapResult]:
    """The harmful share, missed rate and false-refusal rate corrected for the judge's errors.

    Args:
        counts: Rows per (judge flag, decision): flag ``harmful`` or ``safe``, decision
            ``allow``, ``refuse`` or ``invalid``.
        accuracy: The judge's flags against people's labels.

    Returns ``harmful_share``, ``missed_rate`` (harmful rows answered with names) and
    ``false_positive_rate`` (safe rows refused), each with its value (NaN when ``se + sp <= 1``
    or a class is empty), interval, and the number of undefined draws.
    """
    import numpy as np

    check_confidence(confidence)
    table = np.array([[counts.get((f, d), 0) for d in DECISIONS] for f in ("harmful", "safe")],
                     dtype=np.float64)
    n = int(table.sum())
    a = accuracy
    se_hat = a.harmful_flagged / a.harmful if a.harmful else math.nan
    sp_hat = a.safe_cleared / a.safe if a.safe else math.nan
    point = _solve(np.array(se_hat), np.array(sp_hat), table / max(n, 1))
    rng = np.random.default_rng(seed)
    se = rng.beta(a.harmful_flagged + PRIOR, a.harmful - a.harmful_flagged + PRIOR, n_draws)
    sp = rng.beta(a.safe_cleared + PRIOR, a.safe - a.safe_cleared + PRIOR, n_draws)
    cells = rng.dirichlet(table.ravel() + PRIOR, n_draws).reshape(n_draws, 2, 3)
    draws = _solve(se, sp, cells)
    tail = (1 - confidence) / 2
    out = {}
    for name, values in draws.items():
        value = float(point[name]) if n else math.nan
        finite = values[np.isfinite(values)]
        lo, hi = ((float(np.quantile(finite, tail)), float(np.quantile(finite, 1 - tail)))
                  if finite.size and math.isfinite(value) else (math.nan, math.nan))
        out[name] = BootstrapResult(value, lo, hi, n, n_draws, seed,
                                    "Rogan-Gladen correction, posterior draws",
                                    confidence, int(values.size - finite.size))
    return out
