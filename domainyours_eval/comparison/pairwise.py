"""Pairwise judging of checkpoints: each candidate's names against the incumbent's, row by row.

Only rows both checkpoints answered with names have two lists to compare. An LLM judge sees each
such row twice, the lists in both orders (``judges/pairwise.py``); any other judge prefers the
list with the higher pointwise row score by more than a small margin. Wins, ties and losses go
to an exact two-sided sign test on the rows not tied, with the p-value doubled from the smaller
tail, and to the Clopper-Pearson interval of the share the candidate wins at the policy's level:
that interval excludes one half exactly when the p-value is below alpha, so the two never
disagree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..errors import ConfigError, JudgeError, JudgeFatalError
from ..judges import Judge, get_judge
from ..judges.llm import LLMJudge
from ..judges.pairwise import REFERENCE_MARGIN, settle
from ..judges.panel import JudgePanel
from ..results import EvalResults, MetricValue
from ..stats import clopper_pearson_interval
from .records import PairwiseResult

__all__ = ["pairwise", "sign_test"]


def sign_test(wins: int, losses: int) -> float | None:
    """Exact two-sided sign test p-value (doubled smaller tail); ``None`` with no decided row."""
    from scipy.stats import binom

    n = wins + losses
    if n == 0:
        return None
    return float(min(1.0, 2 * min(binom.cdf(wins, n, 0.5), binom.sf(wins - 1, n, 0.5))))


async def _outcomes(judge: Judge, a: EvalResults, b: EvalResults, rows: list[int],
                    concurrency: int) -> list[str]:
    if not isinstance(judge, LLMJudge):
        out = []
        for i in rows:
            diff = (b.rows[i].row_score or 0.0) - (a.rows[i].row_score or 0.0)
            out.append("b" if diff > REFERENCE_MARGIN else "a" if diff < -REFERENCE_MARGIN
                       else "tie")
        return out
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> str:
        ra, rb = a.rows[i], b.rows[i]
        async with sem:
            try:
                first = await judge.prefer(ra.description, ra.suggestions, rb.suggestions)
                second = await judge.prefer(ra.description, rb.suggestions, ra.suggestions)
            except JudgeFatalError:
                raise
            except JudgeError:
                return "error"
        return settle(first, second)

    try:
        return list(await asyncio.gather(*(one(i) for i in rows)))
    finally:
        await judge.aclose()


def pairwise(results: Sequence[EvalResults], pairs: Sequence[tuple[int, int]],
             judge: str | Judge, *, alpha: float, concurrency: int = 16,
             judge_options: dict[str, object] | None = None) -> list[PairwiseResult]:
    """Side-by-side preferences for each ``(a, b)`` pair of ``results`` indices.

    Raises:
        ConfigError: A judge panel (pairwise judging takes one judge).
    """
    built = get_judge(judge, **(judge_options or {}))
    if isinstance(built, JudgePanel):
        raise ConfigError("pairwise judging takes one judge, not a panel")
    out = []
    for ia, ib in pairs:
        a, b = results[ia], results[ib]
        rows = [i for i in range(len(a.rows)) if a.rows[i].suggestions and b.rows[i].suggestions]
        got = asyncio.run(_outcomes(built, a, b, rows, concurrency))
        a_wins, b_wins = got.count("a"), got.count("b")
        p = sign_test(b_wins, a_wins)
        decided = a_wins + b_wins
        lo, hi = (clopper_pearson_interval(b_wins, decided, confidence=1 - alpha) if decided
                  else (None, None))
        out.append(PairwiseResult(
            a=a.model.name, b=b.model.name, judge=built.name, n=len(rows), a_wins=a_wins,
            ties=got.count("tie"), b_wins=b_wins, p_value=p,
            b_share=MetricValue(value=b_wins / decided if decided else None, ci_low=lo, ci_high=hi,
                                n=decided, n_resamples=0, seed=0, method="clopper-pearson",
                                confidence=1 - alpha),
            significant=p is not None and p < alpha))
        errors = got.count("error")
        if errors:
            out[-1] = out[-1].model_copy(update={"method": out[-1].method + f"; {errors} rows "
                                                 "without a valid preference left out"})
    return out
