"""Judging many rows: a fixed pool of workers, an error budget and a deadline.

The runner, the guard and judge-agreement all judge through ``judge_rows``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..errors import DeadlineError, JudgeError, JudgeFatalError
from ..types import JudgeInput, Judgment
from .base import Judge

__all__ = ["judge_rows"]

ProgressFn = Callable[[int, int], None]


async def judge_rows(judge: Judge, items: list[JudgeInput], concurrency: int,
                      progress: ProgressFn | None, *, max_error_rate: float | None = None,
                      deadline: float | None = None, stated_deadline: float | None = None
                      ) -> list[Judgment | JudgeError]:
    """Judge every row, ``concurrency`` at a time, in a fixed pool of workers.

    A row the judge cannot answer is recorded, never scored. The run stops early, cancelling the
    calls in flight (finished ones are cached), once more rows failed than ``max_error_rate``
    allows, or at ``deadline`` (seconds from now; ``stated_deadline`` is the run's, for the
    message).
    """
    n = len(items)
    results: list[Judgment | JudgeError | None] = [None] * n
    failed: list[int] = []
    done = 0
    queue = iter(range(n))

    async def worker() -> None:
        nonlocal done
        for i in queue:
            try:
                result: Judgment | JudgeError = await judge.judge(items[i])
            except JudgeFatalError:
                raise
            except JudgeError as err:
                result = err
                failed.append(i)
            results[i] = result
            if (isinstance(result, JudgeError) and max_error_rate is not None
                    and len(failed) / n > max_error_rate):
                raise _too_many_errors(judge, items, results, failed, n, max_error_rate)
            done += 1
            if progress is not None:
                progress(done, n)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, n))]
    try:
        if workers:
            finished, pending = await asyncio.wait(workers, timeout=deadline,
                                                   return_when=asyncio.FIRST_EXCEPTION)
            for w in finished:
                if w.exception() is not None:
                    raise w.exception()  # type: ignore[misc]
            if pending:
                raise DeadlineError(
                    f"{judge.name}: judging passed the deadline of "
                    f"{stated_deadline or deadline:g} s with {done} of "
                    f"{n} rows judged; finished calls are cached, so a rerun resumes from there "
                    "(raise --deadline to give it longer)")
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return results  # type: ignore[return-value]


def _too_many_errors(judge: Judge, items: list[JudgeInput],
                     results: list[Judgment | JudgeError | None], failed: list[int], n: int,
                     max_error_rate: float) -> JudgeError:
    examples = "; ".join(f"row {items[i].row_id}: {results[i]}" for i in failed[:3])[:400]
    return JudgeError(
        f"judge {judge.name!r} gave no valid verdict on {len(failed)} of {n} rows, over the "
        f"{max_error_rate:.0%} allowed (--max-judge-error-rate); stopped early. {examples}")
