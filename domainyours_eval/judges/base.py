"""The judge interface and the checks every verdict passes before it counts.

A judge is any object that follows the ``Judge`` protocol: a ``name``, a ``fingerprint``, an
``async judge(item)`` method and the run session around it (``start_run`` with the run's cost
limit, ``estimate_cost``, ``aclose``, ``info``, the ``truth_store`` that pins its flags, and
``use_batches`` for provider batch jobs).
``JudgeBase`` gives the session's do-nothing defaults to a judge that makes no paid calls; a
third-party judge with only the first three members is completed by ``as_judge``. A verdict
that breaks the rubric (a score out of range, an unknown category, names that do not match the
input) raises ``JudgeResponseError``; it is never clamped or guessed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from ..errors import ConfigError, JudgeResponseError
from ..types import CATEGORIES, CRITERIA, SCORE_MAX, SCORE_MIN, JudgeInput, Judgment

if TYPE_CHECKING:
    from ..providers.batch import BatchSettings

__all__ = ["Judge", "JudgeBase", "TruthStore", "as_judge", "fingerprint_of", "judge_sync",
           "validate_judgment"]

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

    def start_run(self, *, max_cost: float | None = None) -> None:
        """Begin a run: reset its counters and stop calling once it spends over ``max_cost``."""
        ...

    def estimate_cost(self, items: Sequence[JudgeInput]) -> float | None:
        """Projected USD cost of judging ``items``.

        0 for a judge that pays nothing; ``None`` when a paid judge's price is unknown.
        """
        ...

    async def aclose(self) -> None:
        """Release what the run held (connections, clients)."""
        ...

    def info(self) -> dict[str, Any]:
        """Run facts for results: calls, cache hits, tokens, cost, details."""
        ...

    @property
    def truth_store(self) -> TruthStore | None:
        """Where the judge's appropriateness flags are pinned per test set (``None``: nowhere)."""
        ...

    def use_batches(self, settings: BatchSettings | None) -> None:
        """Send this run's uncached calls as provider batch jobs (``None``: directly).

        Raises:
            ConfigError: The judge cannot use batch jobs.
        """
        ...


class TruthStore(Protocol):
    """Pinned flags per (test set, judge fingerprint) and each judge's calibration.

    The first run of a judge on a test set fixes its flags; a calibration is its agreement with
    people's labels, kept under its fingerprint.
    """

    def pinned_truth(self, testset: str, judge: str) -> dict[str, bool]:
        """The flags already fixed."""
        ...

    def pin_truth(self, testset: str, judge: str, flags: dict[str, bool]) -> None:
        """Fix the flags not fixed yet."""
        ...

    def record_calibration(self, judge: str, labels: str, *, n: int, flag_kappa: float | None,
                           score_kappa: float | None,
                           flags: tuple[int, int, int, int] | None = None) -> None:
        """Keep a judge's measured agreement with people's labels (and flag accuracy counts)."""
        ...

    def calibration(self, judge: str) -> dict[str, Any] | None:
        """The judge's latest calibration (labels, n, kappas, flag accuracy counts), or ``None``."""
        ...


class JudgeBase:
    """The run session of a judge that makes no paid calls and pins nothing."""

    def start_run(self, *, max_cost: float | None = None) -> None:
        """Nothing to reset."""

    def estimate_cost(self, items: Sequence[JudgeInput]) -> float | None:
        """Nothing is paid."""
        return 0.0

    async def aclose(self) -> None:
        """Nothing is held."""

    def info(self) -> dict[str, Any]:
        """No calls, no cost."""
        return {}

    @property
    def truth_store(self) -> TruthStore | None:
        """Flags are not pinned."""
        return None

    def use_batches(self, settings: BatchSettings | None) -> None:
        """Only judges that call a batch-capable provider can batch."""
        if settings is not None:
            raise ConfigError(f"the judge {getattr(self, 'name', type(self).__name__)!r} makes "
                              "no provider calls to batch; drop --batch")


class _Completed(JudgeBase):
    """A judge with only some of the session, given the defaults for the rest."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = str(inner.name)
        # Whatever part of the session the judge has is its own.
        for member in ("start_run", "estimate_cost", "aclose", "info", "use_batches"):
            if callable(getattr(inner, member, None)):
                setattr(self, member, getattr(inner, member))

    @property
    def truth_store(self) -> TruthStore | None:
        """The judge's own store, if it has one."""
        store: TruthStore | None = getattr(self._inner, "truth_store", None)
        return store

    @property
    def fingerprint(self) -> str:
        return str(self._inner.fingerprint)

    async def judge(self, item: JudgeInput) -> Judgment:
        result: Judgment = await self._inner.judge(item)
        return result


def as_judge(obj: Any) -> Judge:
    """``obj`` as a full ``Judge``: as it is, or with the default session when it has none.

    Raises:
        TypeError: ``obj`` has no ``name``, ``fingerprint`` or ``judge``.
    """
    if isinstance(obj, Judge):
        return obj
    if all(hasattr(obj, member) for member in ("name", "fingerprint", "judge")):
        return _Completed(obj)
    raise TypeError(f"{type(obj).__name__} is not a judge: it needs name, fingerprint and an "
                    "async judge(item) method")


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
