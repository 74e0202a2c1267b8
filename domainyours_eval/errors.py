"""The exceptions domainyours-eval raises, one hierarchy.

Expected failures (bad input files, unknown names, a missing optional package) derive from
``DomainyoursError``; the CLI prints their message without a traceback and exits non-zero.
Each also subclasses the builtin a caller would naturally catch (``ValueError``, ``KeyError``,
``ImportError``), so ``except ValueError`` keeps working.

    DomainyoursError
    ├── ConfigError(ValueError)            bad option or configuration value
    ├── DataError(ValueError)              a dataset or predictions file has problems
    ├── MissingDependencyError(ImportError) an optional extra is not installed
    ├── UnknownJudgeError(KeyError)        judge spec names no registered backend
    ├── IncompatibleResultsError(ValueError) results cannot be compared
    ├── GenerationError                    a model under test could not answer
    └── JudgeError                         a judge failed on a row (recorded, not scored)
        ├── JudgeResponseError             its answer could not be parsed or validated
        ├── TransientJudgeError            a provider call worth retrying (429, 5xx, timeout)
        ├── JudgeRequestError              the provider rejected the request (400, 404, 422)
        └── JudgeFatalError                the whole run must stop
            ├── JudgeAuthError             credentials refused (401/403)
            └── CostLimitError             projected or actual cost over --max-cost
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "DataError",
    "DataProblem",
    "DeadlineError",
    "DomainyoursError",
    "GenerationError",
    "IncompatibleResultsError",
    "CostLimitError",
    "JudgeAuthError",
    "JudgeError",
    "JudgeFatalError",
    "JudgeRequestError",
    "JudgeResponseError",
    "MissingDependencyError",
    "SpecDeprecationWarning",
    "TransientJudgeError",
    "UnknownJudgeError",
]


class DomainyoursError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(DomainyoursError, ValueError):
    """An option or configuration value is not allowed."""


@dataclass(frozen=True)
class DataProblem:
    """One problem found in an input file: where it is and what is wrong."""

    source: str
    """File path (or ``<DataFrame>`` / ``<list>``) the problem was found in."""
    line: int | None
    """1-based line number in the file (row number for in-memory data), when known."""
    field: str | None
    """Column or key the problem concerns, when it concerns one."""
    message: str
    """What is wrong and, where possible, how to fix it."""

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class DataError(DomainyoursError, ValueError):
    """A dataset or predictions file could not be loaded; carries every problem found."""

    def __init__(self, problems: list[DataProblem], *, summary: str | None = None) -> None:
        self.problems = list(problems)
        head = summary or f"{len(self.problems)} problem(s) found"
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{head}:\n{shown}{tail}")


class MissingDependencyError(DomainyoursError, ImportError):
    """An optional dependency needed for the requested feature is not installed."""


class UnknownJudgeError(DomainyoursError, KeyError):
    """A judge spec names a backend that is not registered."""

    def __str__(self) -> str:
        # KeyError would repr() the message; show it as written.
        return str(self.args[0]) if self.args else ""


class IncompatibleResultsError(DomainyoursError, ValueError):
    """Results cannot be compared: different test sets, protocols or ground truth."""


class JudgeError(DomainyoursError):
    """A judge failed to produce a verdict."""


class JudgeResponseError(JudgeError):
    """A judge answer could not be parsed or failed validation; ``raw`` keeps the answer."""

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


class TransientJudgeError(JudgeError):
    """A provider call worth retrying: 408, 409, 429, 5xx, a connection error or a timeout."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 timed_out: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.timed_out = timed_out


class JudgeRequestError(JudgeError):
    """The provider rejected the request itself (400, 404, 422): not retried."""


class JudgeFatalError(JudgeError):
    """A judge failure that stops the whole run instead of one row."""


class JudgeAuthError(JudgeFatalError):
    """The provider refused the credentials (401/403)."""


class CostLimitError(JudgeFatalError):
    """The run's projected or actual judge cost exceeds ``max_cost``."""


class DeadlineError(JudgeFatalError):
    """Judging passed the run's deadline; finished calls are cached, so a rerun resumes."""


class SpecDeprecationWarning(FutureWarning):
    """A spec written in a form that still works but will go (``hf:x`` for ``hf/x``)."""


class GenerationError(DomainyoursError):
    """A model under test could not produce its answers (unreachable server, bad key...)."""
