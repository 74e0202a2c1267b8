"""Judge validation: how far a judge agrees with the dataset's labels and with another judge.

The seed report's judge "must be the same for all iterations"; before trusting one, measure it.
Every judge scores the same rows (the test set's reference names, or a checkpoint's answers), and
we report Cohen's kappa of its appropriateness flags against the labels, and between two judges:
kappa on appropriateness, quadratic-weighted kappa on the 1-5 rubric scores, Spearman on each
name's normalised score, and agreement on categories. CIs resample rows, keeping a row's names
together. A weak judge shows up as low agreement, stated plainly.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .config import EvalConfig
from .data import TestSet, load_predictions, load_testset
from .errors import ConfigError, JudgeError
from .judges import Judge, JudgeInput, Judgment, get_judge
from .judges.pool import judge_rows
from .results import MetricValue
from .stats import bootstrap_clusters, cohen_kappa, weighted_kappa
from .tasks.domain_suggestion import detect_constraints, parse_output
from .types import CRITERIA, SCORE_MAX, SCORE_MIN

__all__ = ["AgreementReport", "agreement_with_people", "judge_agreement"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JudgeVsLabels(_Model):
    """One judge's appropriateness flags against the dataset labels."""

    judge: str
    fingerprint: str
    n: int
    judge_errors: int
    kappa: MetricValue
    accuracy: MetricValue


class JudgeVsJudge(_Model):
    """Two judges on the same rows and names."""

    a: str
    b: str
    n_rows: int
    n_names: int
    appropriate_kappa: MetricValue
    score_weighted_kappa: MetricValue
    """Quadratic-weighted kappa over every (name, criterion) score pair."""
    score_spearman: MetricValue
    """Spearman correlation of the names' normalised scores."""
    category_agreement: MetricValue
    category_kappa: MetricValue


class JudgeVsPeople(_Model):
    """A judge against people's labels, on all three jobs."""

    judge: str
    fingerprint: str
    labels: str
    """sha256 of the labels."""
    measures: JudgeVsJudge
    """Flag kappa, weighted kappa and Spearman on scores, category agreement and kappa."""
    score_mae: MetricValue
    """Mean absolute difference of the 1-5 scores (judge minus people, in points)."""
    sensitivity: MetricValue
    """Share of the rows people flagged harmful that the judge flagged too (Wilson interval)."""
    specificity: MetricValue
    """Share of the rows people found appropriate that the judge passed (Wilson interval)."""


class AgreementReport(_Model):
    """The judge-agreement report."""

    testset: str
    source: str
    """Whose names were judged: ``reference suggestions`` or a predictions file."""
    vs_labels: list[JudgeVsLabels]
    between: list[JudgeVsJudge]
    vs_people: list[JudgeVsPeople] = []
    """Each judge against people's labels (``--labels``)."""

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        t = Table(title=Text(f"Judge vs dataset labels ({self.testset}, names: {self.source})"))
        for col in ("judge", "rows", "errors", "kappa [CI]", "accuracy [CI]"):
            t.add_column(col)
        for v in self.vs_labels:
            t.add_row(Text(v.judge), str(v.n), str(v.judge_errors), str(v.kappa), str(v.accuracy))
        parts: list[Any] = [t] if self.vs_labels else []
        for pv in self.vs_people:
            pt = Table(title=f"{pv.judge} vs people ({pv.measures.n_rows} rows, "
                             f"{pv.measures.n_names} names)")
            pt.add_column("measure")
            pt.add_column(Text("value [CI]"))
            for name in ("appropriate_kappa", "score_weighted_kappa", "score_spearman",
                         "category_agreement", "category_kappa"):
                pt.add_row(name, str(getattr(pv.measures, name)))
            for name in ("score_mae", "sensitivity", "specificity"):
                pt.add_row(name, str(getattr(pv, name)))
            parts.append(pt)
        for b in self.between:
            bt = Table(title=f"{b.a} vs {b.b} ({b.n_rows} rows, {b.n_names} names)")
            bt.add_column("measure")
            bt.add_column(Text("value [CI]"))
            for name in ("appropriate_kappa", "score_weighted_kappa", "score_spearman",
                         "category_agreement", "category_kappa"):
                bt.add_row(name, str(getattr(b, name)))
            parts.append(bt)
        return Group(*parts)


async def _judge_all(judge: Judge, items: list[JudgeInput], concurrency: int
                     ) -> list[Judgment | None]:
    try:
        out = await judge_rows(judge, items, concurrency, None)
    finally:
        await judge.aclose()
    if items and not any(isinstance(v, Judgment) for v in out):
        # Every figure would read n/a: say why instead of reporting nothing.
        reasons = "; ".join(dict.fromkeys(str(v) for v in out))[:500]
        raise JudgeError(f"judge {judge.name!r} gave no valid verdict on any of the {len(items)} "
                         f"rows, so there is no agreement to measure: {reasons}")
    return [v if isinstance(v, Judgment) else None for v in out]


def _mv(r: Any) -> MetricValue:
    return MetricValue.from_bootstrap(r)


def judge_agreement(
    testset: str | Path | TestSet | Any,
    judges: Sequence[str | Judge],
    *,
    predictions: str | Path | None = None,
    config: EvalConfig | None = None,
    n_resamples: int = 2_000,
) -> AgreementReport:
    """Measure judges against the dataset labels and (with two) against each other.

    Args:
        testset: The test set (its labels are the reference for appropriateness).
        judges: One or two judge specs or objects.
        predictions: Judge a checkpoint's answers instead of the test set's reference names.
        config: Seed, cache and concurrency settings.
        n_resamples: Bootstrap resamples for the CIs.
    """
    cfg = config or EvalConfig()
    if not 1 <= len(judges) <= 2:
        raise ConfigError(f"judge-agreement takes one or two judges, got {len(judges)}")
    ts = load_testset(testset)
    if predictions is not None:
        answers: list[Any] = load_predictions(predictions, ts)
        source = str(predictions)
    else:
        answers = [list(r.suggestions or []) for r in ts.rows]
        source = "reference suggestions"
    items = [JudgeInput(r.description, parse_output(a).domains,
                        detect_constraints(r.description), r.id)
             for r, a in zip(ts.rows, answers)]
    built = [get_judge(j, **cfg.judge_options(j)) for j in judges]

    async def run_all() -> list[list[Judgment | None]]:
        return [await _judge_all(j, items, cfg.concurrency) for j in built]

    verdicts = asyncio.run(run_all())
    labels = [r.harmful for r in ts.rows]

    vs_labels = []
    for judge, vs in zip(built, verdicts):
        rows = [i for i, (v, lab) in enumerate(zip(vs, labels)) if v is not None and lab is not None]
        truth = [not labels[i] for i in rows]
        flags = [vs[i].appropriate for i in rows]  # type: ignore[union-attr]

        def kappa(idx: Any, t: list[bool] = truth, f: list[bool] = flags) -> float:
            return cohen_kappa([t[i] for i in idx], [f[i] for i in idx])

        def accuracy(idx: Any, t: list[bool] = truth, f: list[bool] = flags) -> float:
            return sum(t[i] == f[i] for i in idx) / len(idx) if len(idx) else math.nan

        boot = partial(bootstrap_clusters, n_resamples=n_resamples, seed=cfg.seed,
                       confidence=cfg.confidence)
        vs_labels.append(JudgeVsLabels(
            judge=judge.name, fingerprint=judge.fingerprint, n=len(rows),
            judge_errors=sum(v is None for v in vs),
            kappa=_mv(boot(len(rows), kappa)),
            accuracy=_mv(boot(len(rows), accuracy))))

    between = []
    if len(built) == 2:
        between.append(_between(built, verdicts, cfg, n_resamples))
    return AgreementReport(testset=ts.name, source=source, vs_labels=vs_labels, between=between)


def agreement_with_people(labels: str | Path, judges: Sequence[str | Judge], *,
                          config: EvalConfig | None = None, n_resamples: int = 2_000
                          ) -> AgreementReport:
    """Measure judges against people's labels (a file ``label import`` wrote).

    Each judge scores exactly the rows and names the people labelled; rows and names a judge
    could not judge are left out of its figures (and counted).
    """
    from .labels import PeopleJudge, load_labels
    from .stats import wilson_interval

    cfg = config or EvalConfig()
    rows = load_labels(labels)
    people = PeopleJudge(rows, source=Path(labels).name)
    items = people.items()
    built = [get_judge(j, **cfg.judge_options(j)) for j in judges]

    async def run_all() -> tuple[list[list[Judgment | None]], list[Judgment | None]]:
        return ([await _judge_all(j, items, cfg.concurrency) for j in built],
                await _judge_all(people, items, cfg.concurrency))

    verdicts, truth = asyncio.run(run_all())
    out = []
    for judge, vs in zip(built, verdicts):
        measures = _between([judge, people], [vs, truth], cfg, n_resamples)
        both = [i for i in range(len(items)) if vs[i] is not None and truth[i] is not None]
        diffs = [[abs(d.scores[c] - p.scores[c]) for d in vs[i].domains  # type: ignore[union-attr]
                  for p in truth[i].domains if p.domain == d.domain  # type: ignore[union-attr]
                  for c in CRITERIA] for i in both]

        def mae(idx: Any, diffs: list[list[int]] = diffs) -> float:
            flat = [x for i in idx for x in diffs[i]]
            return sum(flat) / len(flat) if flat else math.nan

        def share(hit: int, n: int) -> MetricValue:
            lo, hi = wilson_interval(hit, n, confidence=cfg.confidence) if n else (None, None)
            return MetricValue(value=hit / n if n else None, ci_low=lo, ci_high=hi, n=n,
                               n_resamples=0, seed=cfg.seed, method="wilson",
                               confidence=cfg.confidence)

        harmful = [i for i in both if not truth[i].appropriate]  # type: ignore[union-attr]
        safe = [i for i in both if truth[i].appropriate]  # type: ignore[union-attr]
        flagged = sum(not vs[i].appropriate for i in harmful)  # type: ignore[union-attr]
        cleared = sum(vs[i].appropriate for i in safe)  # type: ignore[union-attr]
        _record(judge, people.fingerprint, measures, cfg,
                (len(harmful), flagged, len(safe), cleared))
        out.append(JudgeVsPeople(
            judge=judge.name, fingerprint=judge.fingerprint, labels=people.fingerprint,
            measures=measures,
            score_mae=_mv(bootstrap_clusters(len(both), mae, n_resamples=n_resamples,
                                             seed=cfg.seed, confidence=cfg.confidence)),
            sensitivity=share(flagged, len(harmful)), specificity=share(cleared, len(safe))))
    return AgreementReport(testset=people.name, source=str(labels), vs_labels=[], between=[],
                           vs_people=out)


def _record(judge: Judge, labels: str, measures: JudgeVsJudge, cfg: EvalConfig,
            flags: tuple[int, int, int, int]) -> None:
    """Keep the judge's calibration under its fingerprint, for every later run to show."""
    store = judge.truth_store
    if store is None and cfg.use_cache:
        from .cache import JudgeCache

        store = JudgeCache(cfg.cache_dir)
    if store is not None:
        store.record_calibration(judge.fingerprint, labels, n=measures.n_rows,
                                 flag_kappa=measures.appropriate_kappa.value,
                                 score_kappa=measures.score_weighted_kappa.value, flags=flags)


def _between(built: list[Judge], verdicts: list[list[Judgment | None]], cfg: EvalConfig,
             n_resamples: int) -> JudgeVsJudge:
    va, vb = verdicts
    rows = [i for i in range(len(va)) if va[i] is not None and vb[i] is not None]
    flags_a = [va[i].appropriate for i in rows]  # type: ignore[union-attr]
    flags_b = [vb[i].appropriate for i in rows]  # type: ignore[union-attr]
    # Per row: the name-level pairs, so a resample keeps a row's names together.
    pairs: list[list[tuple[Any, Any]]] = []
    for i in rows:
        da = {d.domain: d for d in va[i].domains}  # type: ignore[union-attr]
        db = {d.domain: d for d in vb[i].domains}  # type: ignore[union-attr]
        pairs.append([(da[n], db[n]) for n in da if n in db])
    scale = list(range(SCORE_MIN, SCORE_MAX + 1))

    def flat(idx: Any) -> list[tuple[Any, Any]]:
        return [p for i in idx for p in pairs[i]]

    def appropriate_kappa(idx: Any) -> float:
        return cohen_kappa([flags_a[i] for i in idx], [flags_b[i] for i in idx])

    def score_kappa(idx: Any) -> float:
        ps = flat(idx)
        return weighted_kappa([x.scores[c] for x, _ in ps for c in CRITERIA],
                              [y.scores[c] for _, y in ps for c in CRITERIA], labels=scale)

    def spearman(idx: Any) -> float:
        from scipy.stats import spearmanr

        ps = flat(idx)
        a = [x.normalised for x, _ in ps]
        b = [y.normalised for _, y in ps]
        if len(ps) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
            return math.nan
        return float(spearmanr(a, b).statistic)

    def category_agreement(idx: Any) -> float:
        ps = flat(idx)
        return sum(x.category == y.category for x, y in ps) / len(ps) if ps else math.nan

    def category_kappa(idx: Any) -> float:
        ps = flat(idx)
        return cohen_kappa([x.category for x, _ in ps], [y.category for _, y in ps])

    boot = partial(bootstrap_clusters, n_resamples=n_resamples, seed=cfg.seed,
                   confidence=cfg.confidence)
    n = len(rows)
    return JudgeVsJudge(
        a=built[0].name, b=built[1].name, n_rows=n, n_names=sum(len(p) for p in pairs),
        appropriate_kappa=_mv(boot(n, appropriate_kappa)),
        score_weighted_kappa=_mv(boot(n, score_kappa)),
        score_spearman=_mv(boot(n, spearman)),
        category_agreement=_mv(boot(n, category_agreement)),
        category_kappa=_mv(boot(n, category_kappa)),
    )
