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
           "predictions_v1.jsonl", "predictions_v2.jsonl")


def data_path(name: str) -> Path:
    """Path of a data file shipped with the package (see ``SHIPPED``)."""
    if name not in SHIPPED:
        raise KeyError(f"no shipped data file {name!r}; shipped: {', '.join(SHIPPED)}")
    return Path(str(resources.files(__name__).joinpath("data", name)))


def _safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40] or "testset"


def lm_eval_include_path(testset: str | Path | None = None, *, directory: str | Path | None = None
                         ) -> Path:
    """Write the lm-eval ``domainyours`` task and return its folder, for ``--include_path``.

    lm-eval resolves a task's relative data path against the current directory, so the task is
    written with an absolute path to a JSONL copy of ``testset`` (default: the shipped test set).
    By default each test set gets its own folder under the package cache directory, named by its
    content hash, so writing the task for one test set never replaces another's.
    """
    import json

    from ..cache import default_cache_dir
    from ..data import load_testset

    ts = load_testset(testset if testset is not None else data_path("test_set.csv"))
    folder = Path(directory) if directory is not None else (
        default_cache_dir() / "lm_eval_task" / f"{_safe(ts.name)}-{ts.sha256[:12]}")
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "domainyours_test.jsonl"
    data.write_text("".join(json.dumps({"id": r.id, "description": r.description,
                                        "suggestions": list(r.suggestions or [])},
                                       ensure_ascii=False) + "\n" for r in ts.rows),
                    encoding="utf-8")
    src = resources.files(__name__).joinpath("lm_eval")
    template = src.joinpath("domainyours.yaml.in").read_text(encoding="utf-8")
    from ..protocol import METRICS

    # Every protocol metric, from its one table, aggregated by the protocol's own function.
    metrics = "".join(f"  - metric: {m.name}\n    aggregation: !function utils.agg_{m.name}\n"
                      f"    higher_is_better: {'true' if m.direction > 0 else 'false'}\n"
                      for m in METRICS)
    text = template.replace("@DATA@", str(data.resolve())).replace("@METRICS@", metrics)
    (folder / "domainyours.yaml").write_text(text, encoding="utf-8")
    (folder / "utils.py").write_text(src.joinpath("utils.py").read_text(encoding="utf-8"),
                                     encoding="utf-8")
    return folder
