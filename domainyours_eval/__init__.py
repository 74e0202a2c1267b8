"""domainyours-eval: evaluate domain-name-suggestion models under a fixed, versioned protocol.

    from domainyours_eval import evaluate, compare, load_testset
    res = evaluate("predictions.jsonl", "test_set.csv", judge="reference")
    print(res.metrics.quality, res.metrics.allow_f1)

Importing this package is light: numpy, scipy, pydantic and the judge backends load only when a
code path needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .__about__ import __version__

if TYPE_CHECKING:
    from .comparison import Comparison, compare
    from .config import EvalConfig
    from .data import TestRow, TestSet, lint_rows, load_predictions, load_testset
    from .errors import (
        ConfigError,
        CostLimitError,
        DataError,
        DomainyoursError,
        IncompatibleResultsError,
        JudgeAuthError,
        JudgeError,
        JudgeFatalError,
        JudgeResponseError,
        MissingDependencyError,
        SpecDeprecationWarning,
        UnknownJudgeError,
    )
    from .judges import Judge, get_judge, list_judges, register_judge
    from .protocol import PROTOCOL_VERSION
    from .results import EvalResults
    from .runner import aevaluate, evaluate
    from .stats import bootstrap_ci
    from .tasks.domain_suggestion import ParsedOutput, parse_output
    from .types import DomainVerdict, JudgeInput, Judgment

# Public name -> module; loaded on first use so `import domainyours_eval` stays light.
_LAZY = {
    "Comparison": ".comparison",
    "compare": ".comparison",
    "EvalConfig": ".config",
    "TestRow": ".data",
    "TestSet": ".data",
    "lint_rows": ".data",
    "load_predictions": ".data",
    "load_testset": ".data",
    "ConfigError": ".errors",
    "SpecDeprecationWarning": ".errors",
    "CostLimitError": ".errors",
    "JudgeAuthError": ".errors",
    "JudgeFatalError": ".errors",
    "DataError": ".errors",
    "DomainyoursError": ".errors",
    "IncompatibleResultsError": ".errors",
    "JudgeError": ".errors",
    "JudgeResponseError": ".errors",
    "MissingDependencyError": ".errors",
    "UnknownJudgeError": ".errors",
    "Judge": ".judges",
    "get_judge": ".judges",
    "list_judges": ".judges",
    "register_judge": ".judges",
    "EvalResults": ".results",
    "aevaluate": ".runner",
    "evaluate": ".runner",
    "PROTOCOL_VERSION": ".protocol",
    "bootstrap_ci": ".stats",
    "ParsedOutput": ".tasks.domain_suggestion",
    "parse_output": ".tasks.domain_suggestion",
    "DomainVerdict": ".types",
    "JudgeInput": ".types",
    "Judgment": ".types",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'domainyours_eval' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "PROTOCOL_VERSION",
    "Comparison",
    "ConfigError",
    "CostLimitError",
    "DataError",
    "DomainVerdict",
    "DomainyoursError",
    "EvalConfig",
    "EvalResults",
    "IncompatibleResultsError",
    "Judge",
    "JudgeAuthError",
    "JudgeError",
    "JudgeFatalError",
    "JudgeInput",
    "JudgeResponseError",
    "Judgment",
    "MissingDependencyError",
    "SpecDeprecationWarning",
    "ParsedOutput",
    "TestRow",
    "TestSet",
    "UnknownJudgeError",
    "__version__",
    "aevaluate",
    "bootstrap_ci",
    "compare",
    "evaluate",
    "get_judge",
    "lint_rows",
    "list_judges",
    "load_predictions",
    "load_testset",
    "parse_output",
    "register_judge",
]
