"""inspect_ai logs in: a run of the ``domainyours`` inspect task, judged under the protocol.

inspect keeps one answer per sample and epoch and no paired statistics. ``import_inspect_log``
reads a log through inspect's own reader (``.eval`` or ``.json``), rebuilds the test set from the
rows each sample carries (``tasks.inspect_task.ROW_KEY``; in dataset order, so the test set hashes
as it does from its file) and judges the answers with any judge, as ``evaluate`` does for our own
runs; the saved ``results.json`` then goes into ``compare`` and ``report`` like any other. A log
that is not of this task, incomplete, or holds samples that failed is refused with every problem
named, never imported in part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._deps import require
from .config import EvalConfig
from .errors import DataError, DataProblem
from .results import EvalResults
from .runner import evaluate
from .testsets import TestSet, load_testset

__all__ = ["import_inspect_log"]

def _refuse(path: Path, field: str | None, message: str) -> DataError:
    return DataError([DataProblem(str(path), None, field, message)],
                     summary="Cannot import the inspect log")


def _read_log(path: Path) -> Any:
    require("inspect_ai", extra="inspect", feature="Importing an inspect log")
    from inspect_ai.log import read_eval_log

    if not path.is_file():
        raise _refuse(path, None, "no such file")
    try:
        return read_eval_log(str(path))
    except Exception as err:  # inspect raises what its zip/JSON readers raise
        raise _refuse(path, None, f"not a readable inspect log ({type(err).__name__}: {err})"
                      ) from err


def _pick_epoch(path: Path, samples: list[Any], epoch: int | None) -> list[Any]:
    epochs = sorted({s.epoch for s in samples})
    if epoch is None:
        if len(epochs) > 1:
            raise _refuse(path, "epoch", f"the log holds {len(epochs)} epochs; choose one "
                          "(--epoch N) to import")
        epoch = epochs[0]
    if epoch not in epochs:
        raise _refuse(path, "epoch", f"no epoch {epoch} in the log "
                      f"(it holds {', '.join(map(str, epochs))})")
    return [s for s in samples if s.epoch == epoch]


def _rows(path: Path, samples: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    from .tasks.inspect_task import ROW_KEY  # imports inspect_ai, which reading needs anyway

    problems: list[DataProblem] = []
    found: list[tuple[int, dict[str, Any], str]] = []
    for s in samples:
        where = f"samples[id={s.id}, epoch={s.epoch}]"
        row = (s.metadata or {}).get(ROW_KEY)
        if not isinstance(row, dict) or not {"index", "id", "description"} <= row.keys():
            problems.append(DataProblem(str(path), None, f"{where}.metadata.{ROW_KEY}",
                                        "missing: was this log made by the domainyours_eval/"
                                        "domainyours task?"))
            continue
        bad = _row_fault(row)
        if bad:
            problems.append(DataProblem(str(path), None, f"{where}.metadata.{ROW_KEY}.{bad[0]}",
                                        bad[1]))
            continue
        if s.error is not None:
            problems.append(DataProblem(str(path), None, f"{where}.error",
                                        f"the sample failed in inspect: {s.error.message}; "
                                        "rerun it (inspect eval-retry) before importing"))
            continue
        completion = s.output.completion if s.output is not None else ""
        found.append((int(row["index"]), row, completion))
    found.sort(key=lambda t: t[0])
    indices = [i for i, _, _ in found]
    if not problems and indices != list(range(len(indices))):
        missing = sorted(set(range(max(indices, default=-1) + 1)) - set(indices))
        problems.append(DataProblem(
            str(path), None, "samples", "the rows do not make one whole test set "
            f"(missing row indices {missing[:10]}, repeated {len(indices) - len(set(indices))})"))
    if problems:
        raise DataError(problems, summary=f"Cannot import {path}")
    rows = [{"id": str(r["id"]), "description": r["description"],
             "suggestions": r.get("suggestions"),
             **({"cluster": r["cluster"]} if r.get("cluster") is not None else {})}
            for _, r, _ in found]
    return rows, [c for _, _, c in found]


def _row_fault(row: dict[str, Any]) -> tuple[str, str] | None:
    """The first field of a sample's row that is not what the task writes, and why."""
    if not isinstance(row["index"], int) or isinstance(row["index"], bool) or row["index"] < 0:
        return "index", f"not a row position: {row['index']!r}"
    if not isinstance(row["description"], str) or not row["description"].strip():
        return "description", "not a non-empty text"
    names = row.get("suggestions")
    if names is not None and (not isinstance(names, list)
                              or not all(isinstance(n, str) for n in names)):
        return "suggestions", "not a list of names (or null for an unlabelled row)"
    return None


def _expected(log: Any) -> dict[str, Any]:
    meta = getattr(log.eval, "metadata", None) or {}
    return meta.get("domainyours_testset") or {}


def import_inspect_log(log: str | Path, out: str | Path | None = None, *,
                       config: EvalConfig | None = None, name: str | None = None,
                       epoch: int | None = None, testset: str | Path | None = None
                       ) -> EvalResults:
    """Judge the answers in an inspect log of the ``domainyours`` task; save to ``out``.

    Args:
        log: An inspect ``.eval`` or ``.json`` log.
        out: Folder for ``results.json`` (nothing is saved when ``None``).
        config: Judge, resampling and policy settings, as for ``evaluate``.
        name: The checkpoint's name in reports (default: the log's model).
        epoch: Which epoch to import when the run had several.
        testset: The test set the run should have used; refused unless the log's rows are
            exactly its rows (ids, descriptions, references, order).

    Raises:
        DataError: With every problem found (the file, the sample and the field).
        MissingDependencyError: inspect-ai is not installed.
    """
    path = Path(log)
    record = _read_log(path)
    samples = list(record.samples or [])
    if not samples:
        raise _refuse(path, "samples", f"the log holds no samples (status {record.status}; "
                      "was it run with --no-log-samples?)")
    rows, outputs = _rows(path, _pick_epoch(path, samples, epoch))
    expected = _expected(record)
    if expected.get("n") not in (None, len(rows)):
        raise _refuse(path, "samples", f"{len(rows)} of the task's {expected['n']} rows were "
                      f"run (log status {record.status}); finish the run first")
    ts = load_testset(rows, name=expected.get("name") or "inspect")
    if testset is not None:
        ts = _same_testset(path, ts, load_testset(testset))
    res = evaluate(outputs, ts, config=config, model_name=name or str(record.eval.model))
    if out is not None:
        res.save(out)
    return res


def _same_testset(path: Path, found: TestSet, given: TestSet) -> TestSet:
    if found.sha256 != given.sha256:
        raise DataError([DataProblem(str(path), None, "samples",
                                     f"the run used other rows than {given.source} "
                                     f"({found.sha256[:12]} != {given.sha256[:12]}, "
                                     f"{len(found)} vs {len(given)} rows)")],
                        summary="The log is not a run of the given test set")
    return given
