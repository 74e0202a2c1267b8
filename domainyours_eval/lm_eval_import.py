"""Read lm-evaluation-harness ``--log_samples`` output back into our results.

An lm-eval run of the ``domainyours`` task logs each document and the model's generation; here
they become a predictions list and a test set, judged under the protocol (by any judge) and saved
as ``results.json``, so an lm-eval checkpoint can be compared with CIs and paired tests like any
other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import EvalConfig
from .data import read_jsonl
from .errors import DataError, DataProblem
from .results import EvalResults
from .runner import evaluate

__all__ = ["import_lm_eval_samples"]


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
