"""The domain-suggestion task: prompt, output parser, constraints, slices and shipped data."""

from importlib import resources
from pathlib import Path

from .domain_suggestion import (
    N_SUGGESTIONS,
    PROMPT_TEMPLATE,
    VIOLATION_CODES,
    ParsedOutput,
    Violation,
    check_constraints,
    detect_constraints,
    format_prompt,
    parse_output,
)
from .slices import AUTO_SLICES, auto_tags

__all__ = [
    "AUTO_SLICES",
    "N_SUGGESTIONS",
    "PROMPT_TEMPLATE",
    "VIOLATION_CODES",
    "ParsedOutput",
    "Violation",
    "auto_tags",
    "check_constraints",
    "data_path",
    "lm_eval_include_path",
    "detect_constraints",
    "format_prompt",
    "parse_output",
]

SHIPPED = ("dataset_v1.csv", "dataset_v2_augment.csv", "test_set.csv",
           "predictions_v1.jsonl", "predictions_v2.jsonl", "maintainer_labels.csv",
           "maintainer_labels.jsonl")


def data_path(name: str) -> Path:
    """Path of a data file shipped with the package (see ``SHIPPED``)."""
    if name not in SHIPPED:
        raise KeyError(f"no shipped data file {name!r}; shipped: {', '.join(SHIPPED)}")
    return Path(str(resources.files(__name__).joinpath("data", name)))


def lm_eval_include_path(testset: str | Path | None = None, *, directory: str | Path | None = None
                         ) -> Path:
    """Write the lm-eval ``domainyours`` task and return its folder (``harness.py`` does it)."""
    from ..harness import lm_eval_include_path as write_task

    return write_task(testset, directory=directory)
