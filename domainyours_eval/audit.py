"""Bias audits of a judge: does its verdict depend on name order, on name length, on kinship?

Order: every row is judged a second time with its names shown in the reverse order; the audit
reports the share of names whose category changes and the mean absolute change of their 1-5
scores (percentile bootstrap over rows, a row's names kept together), and the share of rows whose
flag changes (Wilson interval). An order-blind judge scores 0 on all three. Length: within each
category, Spearman's correlation of a name's length with its normalised score (bootstrap over
rows); a judge that prefers long names shows a positive one everywhere. Kinship: a warning when
the judge's model family is the one that wrote the answers (judges tend to favour their own).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .audit_record import AuditReport
from .config import EvalConfig
from .errors import ConfigError
from .judges import Judge, JudgeInput, Judgment, get_judge
from .judges.pool import judge_rows
from .models import load_predictions
from .results import MetricValue
from .stats import bootstrap_clusters, wilson_interval
from .tasks.constraints import detect_constraints
from .tasks.domain_suggestion import parse_output
from .testsets import TestSet, load_testset
from .types import CATEGORIES, CRITERIA

__all__ = ["AuditReport", "attach_audit", "judge_audit", "model_family"]

MIN_NAMES_FOR_LENGTH = 5
"""Fewest names a category needs before its length correlation is reported."""


def model_family(spec: str) -> str:
    """The family of a model spec: its model name's leading letters (gpt, claude, llama...)."""
    name = spec.rsplit("/", 1)[-1].lower()
    found = re.match(r"[a-z]+", name)
    return found.group(0) if found else name


def _made_by(predictions: str | Path) -> str | None:
    """The model spec a predictions file records on its first line, if any."""
    try:
        with Path(predictions).open(encoding="utf-8") as fh:
            first = json.loads(fh.readline() or "{}")
    except (OSError, ValueError):
        return None
    model = first.get("model") if isinstance(first, dict) else None
    spec = model.get("model") if isinstance(model, dict) else model
    return spec if isinstance(spec, str) else None


async def _judge(judge: Judge, items: list[JudgeInput], concurrency: int
                 ) -> list[Judgment | None]:
    judge.start_run()
    try:
        out = await judge_rows(judge, items, concurrency, None)
    finally:
        await judge.aclose()
    return [v if isinstance(v, Judgment) else None for v in out]


def judge_audit(judge: str, testset: str | Path | TestSet | Any, *,
                predictions: str | Path | None = None, config: EvalConfig | None = None,
                n_resamples: int = 2_000, judge_options: dict[str, Any] | None = None
                ) -> AuditReport:
    """Audit an LLM judge (``backend/model``) for order and length bias on a checkpoint's names.

    ``judge_options`` go to ``get_judge`` on top of the config's (a ``client``, ``prices``...).

    Raises:
        ConfigError: The judge is not an LLM judge (its order cannot be reversed).
    """
    cfg = config or EvalConfig()
    ts = load_testset(testset)
    answers: Sequence[Any] = (load_predictions(predictions, ts) if predictions is not None
                              else [list(r.suggestions or []) for r in ts.rows])
    items = [JudgeInput(r.description, parse_output(a).domains, detect_constraints(r.description),
                        r.id) for r, a in zip(ts.rows, answers)]
    options = {**cfg.judge_options(judge), **(judge_options or {})}
    usual = get_judge(judge, **options)
    try:
        reversed_ = get_judge(judge, reverse_order=True, **options)
    except TypeError as err:
        raise ConfigError(f"the order audit reverses the names an LLM judge is shown; {judge!r} "
                          "is not one ('backend/model')") from err

    async def both() -> tuple[list[Judgment | None], list[Judgment | None]]:
        return (await _judge(usual, items, cfg.concurrency),
                await _judge(reversed_, items, cfg.concurrency))

    first, second = asyncio.run(both())
    rows = [i for i in range(len(items)) if first[i] is not None and second[i] is not None]
    pairs = [[(d, next(e for e in second[i].domains if e.domain == d.domain))  # type: ignore[union-attr]
              for d in first[i].domains] for i in rows]  # type: ignore[union-attr]
    boot: dict[str, Any] = {"n_resamples": n_resamples, "seed": cfg.seed,
                            "confidence": cfg.confidence}

    def flips(idx: Any) -> float:
        ps = [p for i in idx for p in pairs[i]]
        return sum(a.category != b.category for a, b in ps) / len(ps) if ps else math.nan

    def change(idx: Any) -> float:
        ds = [abs(a.scores[c] - b.scores[c]) for i in idx for a, b in pairs[i] for c in CRITERIA]
        return sum(ds) / len(ds) if ds else math.nan

    flipped = sum(first[i].appropriate != second[i].appropriate for i in rows)  # type: ignore[union-attr]
    lo, hi = wilson_interval(flipped, len(rows), confidence=cfg.confidence) if rows else (
        None, None)
    spec = _made_by(predictions) if predictions is not None else None
    warning = None
    if spec and model_family(spec) == model_family(usual.name):
        warning = (f"the judge {usual.name!r} and the model under test {spec!r} are both of the "
                   f"{model_family(spec)!r} family; judges tend to favour their own family's "
                   "writing, so prefer a judge from another")
    return AuditReport(
        judge=usual.name, fingerprint=usual.fingerprint, n_rows=len(rows),
        n_names=sum(len(p) for p in pairs),
        category_flip_rate=MetricValue.from_bootstrap(bootstrap_clusters(len(rows), flips, **boot)),
        score_change=MetricValue.from_bootstrap(bootstrap_clusters(len(rows), change, **boot)),
        flag_flip_rate=MetricValue(value=flipped / len(rows) if rows else None, ci_low=lo,
                                   ci_high=hi, n=len(rows), n_resamples=0, seed=cfg.seed,
                                   method="wilson", confidence=cfg.confidence),
        length_spearman=_length(first, rows, boot), same_family=warning)


def _length(verdicts: list[Judgment | None], rows: list[int], boot: dict[str, Any]
            ) -> dict[str, MetricValue]:
    out = {}
    for category in CATEGORIES:
        per_row = [[(len(d.domain), d.normalised) for d in verdicts[i].domains  # type: ignore[union-attr]
                    if d.category == category] for i in rows]
        if sum(len(p) for p in per_row) < MIN_NAMES_FOR_LENGTH:
            continue

        def spearman(idx: Any, per_row: list[list[tuple[int, float]]] = per_row) -> float:
            from scipy.stats import spearmanr

            xs = [p for i in idx for p in per_row[i]]
            if len(xs) < 3 or len({x for x, _ in xs}) < 2 or len({y for _, y in xs}) < 2:
                return math.nan
            return float(spearmanr([x for x, _ in xs], [y for _, y in xs]).statistic)

        out[category] = MetricValue.from_bootstrap(bootstrap_clusters(len(rows), spearman, **boot))
    return out


def attach_audit(results: str | Path, audit: AuditReport, testset: str | Path | TestSet | Any
                 ) -> Path:
    """Keep ``audit`` in a run's ``results.json``; it must be that run's test set and judge.

    Raises:
        ConfigError: Another test set or another judge (fingerprints differ).
    """
    from .results import EvalResults

    res = EvalResults.load(results)
    if load_testset(testset).sha256 != res.testset.sha256:
        raise ConfigError(f"{results} was evaluated on another test set than the audit")
    if res.judge.fingerprint != audit.fingerprint:
        raise ConfigError(f"{results} was judged by {res.judge.spec!r} "
                          f"({res.judge.fingerprint[:12]}), the audit is of {audit.judge!r} "
                          f"({audit.fingerprint[:12]}): audit the run's own judge")
    res.judge.audit = audit
    folder = Path(results)
    return res.save(folder if folder.is_dir() else folder.parent)
