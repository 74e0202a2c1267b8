"""lm-evaluation-harness glue, in one place: the ``domainyours`` task folder and its samples.

``lm_eval_include_path`` writes the task (YAML wired to ``tasks/lm_eval/utils.py``, which
delegates to our parser and protocol) for ``lm_eval --include_path``. ``import_lm_eval_samples``
reads an lm-eval ``--log_samples`` file back: each document and the model's generation become a
test set and a predictions list, judged under the protocol (by any judge) and saved as
``results.json``, so an lm-eval checkpoint can be compared with CIs and paired tests like any
other.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from .config import EvalConfig
from .data import read_jsonl
from .errors import DataError, DataProblem
from .results import EvalResults
from .runner import evaluate
from .tasks import data_path

__all__ = ["import_lm_eval_samples", "lm_eval_include_path"]


def _read(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    if not path.is_file():
        raise DataError([DataProblem(str(path), None, None, "no such file")],
                        summary="Cannot import lm-eval samples")
    docs: list[tuple[int, dict[str, Any], str]] = []
    problems: list[DataProblem] = []
    for line, rec in read_jsonl(path, problems):
        n = line or 0
        doc = rec.get("doc")
        resp = rec.get("filtered_resps") or [r[0] for r in rec.get("resps", []) if r]
        if not isinstance(doc, dict) or "description" not in doc or "suggestions" not in doc:
            problems.append(DataProblem(str(path), n, "doc", "needs the domainyours task's doc "
                                        "(description, suggestions); was this the domainyours "
                                        "task?"))
            continue
        if not resp or not isinstance(resp[0], str):
            problems.append(DataProblem(str(path), n, "filtered_resps", "no generated text"))
            continue
        docs.append((int(rec.get("doc_id", n)), doc, resp[0]))
    if problems:
        raise DataError(problems, summary=f"Cannot import {path}")
    docs.sort(key=lambda t: t[0])
    rows = [{"id": str(d.get("id", i)), "description": d["description"],
             "suggestions": list(d["suggestions"])} for i, d, _ in docs]
    return rows, [out for _, _, out in docs]


def import_lm_eval_samples(samples: str | Path, out: str | Path | None = None, *,
                           config: EvalConfig | None = None, name: str | None = None
                           ) -> EvalResults:
    """Judge an lm-eval ``samples_domainyours_*.jsonl`` file; save ``results.json`` to ``out``."""
    path = Path(samples)
    rows, outputs = _read(path)
    res = evaluate(outputs, rows, config=config, model_name=name or path.stem)
    if out is not None:
        res.save(out)
    return res


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

    from .cache import default_cache_dir
    from .data import load_testset

    ts = load_testset(testset if testset is not None else data_path("test_set.csv"))
    folder = Path(directory) if directory is not None else (
        default_cache_dir() / "lm_eval_task" / f"{_safe(ts.name)}-{ts.sha256[:12]}")
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "domainyours_test.jsonl"
    data.write_text("".join(json.dumps({"id": r.id, "description": r.description,
                                        "suggestions": list(r.suggestions or [])},
                                       ensure_ascii=False) + "\n" for r in ts.rows),
                    encoding="utf-8")
    src = resources.files("domainyours_eval.tasks").joinpath("lm_eval")
    template = src.joinpath("domainyours.yaml.in").read_text(encoding="utf-8")
    from .protocol import METRICS

    # Every protocol metric, from its one table, aggregated by the protocol's own function.
    metrics = "".join(f"  - metric: {m.name}\n    aggregation: !function utils.agg_{m.name}\n"
                      f"    higher_is_better: {'true' if m.direction > 0 else 'false'}\n"
                      for m in METRICS)
    text = template.replace("@DATA@", str(data.resolve())).replace("@METRICS@", metrics)
    (folder / "domainyours.yaml").write_text(text, encoding="utf-8")
    (folder / "utils.py").write_text(src.joinpath("utils.py").read_text(encoding="utf-8"),
                                     encoding="utf-8")
    return folder
