"""The judge interface and the checks every verdict passes before it counts.

A judge is any object with a ``name``, a ``fingerprint`` and an ``async judge(item)`` method
(a ``Protocol``, not a base class): backends share functions, not inheritance. A verdict that
breaks the rubric (a score out of range, an unknown category, names that do not match the input)
raises ``JudgeResponseError``; it is never clamped or guessed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..errors import JudgeResponseError
from ..types import CATEGORIES, CRITERIA, SCORE_MAX, SCORE_MIN, JudgeInput, Judgment

__all__ = ["Judge", "fingerprint_of", "judge_sync", "validate_judgment"]

T = TypeVar("T")


@runtime_checkable
class Judge(Protocol):
    """What every judge provides."""

    name: str
    """The judge spec, e.g. ``reference`` or ``anthropic/claude-sonnet-4-5``."""

    @property
    def fingerprint(self) -> str:
        """sha256 over everything that changes verdicts (prompt, model, parameters, version)."""
        ...

    async def judge(self, item: JudgeInput) -> Judgment:
        """Judge one row; raise ``JudgeResponseError`` when no valid verdict can be had."""
        ...


def fingerprint_of(payload: dict[str, Any]) -> str:
    """sha256 of a canonical JSON rendering of ``payload``."""
    canon = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode()).hexdigest()


def validate_judgment(judgment: Judgment, item: JudgeInput, *, raw: str = "") -> Judgment:
    """Check a verdict against the rubric and the input; return it unchanged or raise.

    Raises:
        JudgeResponseError: A score outside the scale, a missing or unknown criterion or category,
            or names that differ from the ones judged.
    """
    got = sorted(d.domain for d in judgment.domains)
    if got != sorted(item.domains):
        raise JudgeResponseError(
            f"verdict names {got} do not match the judged names {sorted(item.domains)}", raw=raw
        )
    for d in judgment.domains:
        if set(d.scores) != set(CRITERIA):
            raise JudgeResponseError(
                f"{d.domain!r}: criteria {sorted(d.scores)} differ from the rubric's "
                f"{sorted(CRITERIA)}", raw=raw)
        for crit, score in d.scores.items():
            if isinstance(score, bool) or not isinstance(score, int) or not (
                SCORE_MIN <= score <= SCORE_MAX
            ):
                raise JudgeResponseError(
                    f"{d.domain!r}: {crit} score {score!r} is outside {SCORE_MIN}..{SCORE_MAX}",
                    raw=raw)
        if d.category not in CATEGORIES:
            raise JudgeResponseError(
                f"{d.domain!r}: unknown category {d.category!r}; allowed: "
                f"{', '.join(CATEGORIES)}", raw=raw)
    return judgment


def judge_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a judge coroutine from synchronous code (not from inside a running event loop)."""
    return asyncio.run(coro)
