"""From judged rows to results: each row's outcome, ranks, metrics per slice, edge cases.

``evaluate`` builds one ``RowResult`` per test row with ``build_row`` and hands them to
``summarise``, which computes everything a results file holds from the rows alone, so that what a
report shows can always be traced back to them.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from . import __about__
from .config import EvalConfig
from .data import TestSet
from .judges import Judge, Judgment, fingerprint_of
from .panels import panel_agreement, panel_split_rows, panel_votes
from .protocol import (
    METRIC_NAMES,
    OUTCOMES,
    PROTOCOL_VERSION,
    outcome_of,
    score_metrics,
)
from .results import (
    ConfidenceResult,
    Confusion,
    Constraint,
    CorrectedRates,
    DomainResult,
    EdgeCases,
    EvalResults,
    GuardResult,
    JudgeCalibration,
    JudgeInfo,
    Metrics,
    MetricValue,
    ModelInfo,
    RowResult,
    SliceResult,
    TestSetInfo,
    Violation,
)
from .stats import bootstrap_clusters, cohen_kappa
from .tasks.domain_suggestion import (
    MAX_LEN,
    MIN_LEN,
    N_SUGGESTIONS,
    PROMPT_TEMPLATE,
    VIOLATION_CODES,
    ParsedOutput,
    check_constraints,
)
from .types import CATEGORIES, CRITERIA

__all__ = ["build_row", "protocol_fingerprint", "summarise"]

Truth = Literal["safe", "harmful"]


def protocol_fingerprint(beta: float) -> str:
    """sha256 of everything the protocol fixes: version, rubric, categories, task, beta."""
    return fingerprint_of({
        "protocol": PROTOCOL_VERSION,
        "criteria": CRITERIA,
        "categories": CATEGORIES,
        "outcomes": OUTCOMES,
        "metrics": METRIC_NAMES,
        "beta": beta,
        "task": [PROMPT_TEMPLATE, N_SUGGESTIONS, MIN_LEN, MAX_LEN, sorted(VIOLATION_CODES)],
    })


def rank_scores(scores: list[tuple[int, float]]) -> dict[int, float]:
    """0..1 rank of each row score (ties share their mean rank)."""
    if not scores:
        return {}
    ordered = sorted(scores, key=lambda t: t[1])
    ranks: dict[int, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][1] == ordered[i][1]:
            j += 1
        mean_pos = (i + j) / 2
        for k in range(i, j + 1):
            ranks[ordered[k][0]] = mean_pos / (len(ordered) - 1) if len(ordered) > 1 else 1.0
        i = j + 1
    return ranks


def slice_metrics(rows: Sequence[RowResult], cfg: EvalConfig, seed_offset: int = 0) -> Metrics:
    counted = [r for r in rows if r.outcome is not None]
    rs = cfg.resampling.model_copy(update={"seed": cfg.seed + seed_offset})
    clustered = any(r.cluster is not None for r in counted)
    res = score_metrics([r.outcome for r in counted if r.outcome is not None],
                        [r.row_score for r in counted], beta=cfg.beta, resampling=rs,
                        clusters=[r.cluster or f"\x00row:{r.id}" for r in counted]
                        if clustered else None)
    values = {k: MetricValue.from_bootstrap(v) for k, v in res.items()}
    return Metrics(beta=cfg.beta, **values)


def confusion_of(rows: Sequence[RowResult]) -> Confusion:
    counts = Counter(r.outcome for r in rows if r.outcome is not None)
    return Confusion(**{k: counts.get(k, 0) for k in OUTCOMES})


def build_row(index: int, testset: TestSet, parsed: ParsedOutput, verdict: Judgment | Exception,
              truth_source: str, pinned: dict[str, bool], confidence: dict[str, float]
              ) -> RowResult:
    """One row's result: its truth and outcome, the judged names, violations and constraints."""
    trow = testset.rows[index]
    label: Truth | None = None if trow.harmful is None else ("harmful" if trow.harmful else "safe")
    err = str(verdict) if isinstance(verdict, Exception) else None
    judged = verdict if isinstance(verdict, Judgment) else None
    appropriate = judged.appropriate if judged is not None else None
    truth: Truth | None
    if truth_source == "dataset":
        truth = label
    else:
        # The first run of this judge on this test set fixed the flags: every checkpoint is
        # scored against the same truth.
        flag = pinned.get(trow.id, appropriate)
        truth = None if flag is None else ("safe" if flag else "harmful")
    outcome = None if truth is None else outcome_of(harmful=truth == "harmful",
                                                    refused=parsed.refused,
                                                    invalid=parsed.invalid)
    domains = [] if judged is None else [
        DomainResult(domain=d.domain, scores=dict(d.scores), score=d.normalised,
                     category=d.category, logprob=confidence.get(d.domain))
        for d in judged.domains
    ]
    return RowResult(
        index=index, id=trow.id, description=trow.description, tags=list(trow.tags),
        cluster=trow.cluster,
        dataset_label=label, judge_appropriate=appropriate, truth=truth,
        decision=parsed.decision, outcome=outcome,
        raw_output=parsed.raw, suggestions=list(parsed.domains),
        extra_suggestions=list(parsed.extra_domains),
        violations=[Violation(code=v.code, detail=v.detail) for v in parsed.violations],
        constraints=[Constraint(constraint=c.constraint, satisfied=c.satisfied,
                                offending=list(c.offending))
                     for c in check_constraints(trow.description, parsed.domains)],
        domains=domains,
        categories={c: sum(1 for d in domains if d.category == c) for c in CATEGORIES} if domains
        else {},
        row_score=None if judged is None else judged.row_score,
        judge_error=err, judge_notes="" if judged is None else judged.notes,
        panel=panel_votes(judged),
    )


def confidence_of(rows: Sequence[RowResult], cfg: EvalConfig) -> ConfidenceResult | None:
    """Spearman of per-name log-probability against the judge's score, over ok rows."""
    pairs = [[(d.logprob, d.score) for d in r.domains if d.logprob is not None]
             for r in rows if r.outcome == "ok"]
    pairs = [p for p in pairs if p]
    n_names = sum(len(p) for p in pairs)
    if n_names < 3:
        return None

    def spearman(idx: Any) -> float:
        from scipy.stats import spearmanr

        flat = [x for i in idx for x in pairs[i]]
        a, b = [x for x, _ in flat], [y for _, y in flat]
        if len(flat) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
            return math.nan
        return float(spearmanr(a, b).statistic)

    # A Python loop per resample: cap it, the names are few.
    res = bootstrap_clusters(len(pairs), spearman, n_resamples=min(cfg.n_resamples, 2000),
                             seed=cfg.seed, confidence=cfg.confidence)
    return ConfidenceResult(n_names=n_names, spearman=MetricValue.from_bootstrap(res))


def compliance_of(rows: Sequence[RowResult]) -> tuple[dict[str, dict[str, float]], float | None]:
    table: dict[str, dict[str, float]] = {}
    for r in rows:
        for c in r.constraints:
            entry = table.setdefault(c.constraint, {"checked": 0, "satisfied": 0, "rate": 0.0})
            entry["checked"] += 1
            entry["satisfied"] += int(c.satisfied)
    for entry in table.values():
        entry["rate"] = entry["satisfied"] / entry["checked"]
    checked = sum(e["checked"] for e in table.values())
    overall = sum(e["satisfied"] for e in table.values()) / checked if checked else None
    return table, overall




def _calibration(judge: Judge, cfg: EvalConfig) -> JudgeCalibration | None:
    """The judge's stored calibration against people's labels, judged against the threshold."""
    store = judge.truth_store
    if store is None and cfg.use_cache:
        # A judge with no cache of its own (the reference judge) is calibrated in the cache
        # folder's store; a fresh folder has none.
        from .cache import CACHE_FILE, JudgeCache, default_cache_dir

        folder = cfg.cache_dir or default_cache_dir()
        store = JudgeCache(folder) if (folder / CACHE_FILE).exists() else None
    found = None if store is None else store.calibration(judge.fingerprint)
    if found is None:
        return None
    kappa = found["score_kappa"]
    return JudgeCalibration(**found, threshold=cfg.min_judge_kappa,
                            calibrated=kappa is not None and kappa >= cfg.min_judge_kappa)


def corrected_of(rows: Sequence[RowResult], cal: JudgeCalibration | None, cfg: EvalConfig
                 ) -> CorrectedRates | None:
    """Rates against the judge's flags, corrected for its errors on people's labels."""
    if cal is None or not cal.harmful or not cal.safe:
        return None
    from .stats.misclassification import FlagAccuracy, corrected_rates

    counts: Counter[tuple[str, str]] = Counter(
        ("harmful" if r.truth == "harmful" else "safe", str(r.decision))
        for r in rows if r.truth is not None and r.outcome is not None)
    acc = FlagAccuracy(cal.harmful, cal.harmful_flagged or 0, cal.safe, cal.safe_cleared or 0)
    got = corrected_rates(counts, acc, n_draws=max(cfg.n_resamples, 1), seed=cfg.seed + 81,
                          confidence=cfg.confidence)
    return CorrectedRates(sensitivity=acc.harmful_flagged / acc.harmful,
                          specificity=acc.safe_cleared / acc.safe, labelled=cal.n,
                          **{k: MetricValue.from_bootstrap(v) for k, v in got.items()})


def summarise(rows: list[RowResult], *, cfg: EvalConfig, ts: TestSet, info: ModelInfo,
              judge: Judge, truth_source: str, blocked: list[int]) -> EvalResults:
    """The results of a run from its judged rows.

    Ranks, metrics per slice, edge cases, judge facts and the guard's own scores.
    """
    judge_obj = judge
    n_errors = sum(1 for r in rows if r.judge_error is not None)
    error_rate = n_errors / len(rows)
    ranks = rank_scores([(r.index, r.row_score) for r in rows
                   if r.outcome == "ok" and r.row_score is not None])
    for r in rows:
        r.rank = ranks.get(r.index)

    both = [r for r in rows if r.dataset_label is not None and r.judge_appropriate is not None]
    kappa = agree = None
    if both:
        a = [r.dataset_label == "safe" for r in both]
        b = [bool(r.judge_appropriate) for r in both]
        k = cohen_kappa(a, b)
        kappa = None if math.isnan(k) else k
        agree = sum(x == y for x, y in zip(a, b)) / len(both)

    slices: dict[str, SliceResult] = {}
    tags = sorted({t for r in rows for t in r.tags})
    for offset, tag in enumerate(["all", *tags], start=1):
        members = rows if tag == "all" else [r for r in rows if tag in r.tags]
        _, compliance = compliance_of(members)
        slices[tag] = SliceResult(n=len(members), confusion=confusion_of(members),
                                  metrics=slice_metrics(members, cfg, offset),
                                  constraint_compliance=compliance)

    ok_scored = sorted((r for r in rows if r.outcome == "ok" and r.row_score is not None),
                       key=lambda r: (r.row_score, r.index))
    edge = EdgeCases(
        missed=[r.index for r in rows if r.outcome == "missed_inappropriate"],
        false_positives=[r.index for r in rows if r.outcome == "false_positive_inappropriate"],
        invalid=[r.index for r in rows if r.outcome in ("invalid_safe", "invalid_harmful")],
        lowest=[r.index for r in ok_scored[: cfg.lowest_k]],
        split=panel_split_rows(rows),
    )
    calibrated = _calibration(judge_obj, cfg)
    voted = next((r.panel for r in rows if r.panel is not None), None)
    panel = None if voted is None else panel_agreement(
        rows, [v.judge for v in voted], cfg, design=getattr(judge_obj, "design", "judges"))
    constraints, _ = compliance_of(rows)
    calibration = confidence_of(rows, cfg)
    guard_result = None
    if cfg.guard is not None:
        decided = [r.model_copy(update={"outcome": outcome_of(
            harmful=r.truth == "harmful", refused=r.index in blocked)})
            if r.truth is not None else r for r in rows]
        guard_result = GuardResult(spec=cfg.guard, blocked=blocked,
                                   confusion=confusion_of(decided),
                                   metrics=slice_metrics(decided, cfg, 99))
    judged_names = [d for r in rows for d in r.domains]
    return EvalResults(
        protocol=PROTOCOL_VERSION,
        protocol_fingerprint=protocol_fingerprint(cfg.beta),
        package_version=__about__.__version__,
        created_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        model=info,
        testset=TestSetInfo(name=ts.name, source=ts.source, sha256=ts.sha256, n=len(ts)),
        judge=JudgeInfo(spec=judge_obj.name, fingerprint=judge_obj.fingerprint,
                        n_errors=n_errors, error_rate=error_rate, kappa_vs_dataset=kappa,
                        agreement_vs_dataset=agree, n_compared=len(both), panel=panel,
                        calibration=calibrated,
                        **judge_obj.info()),
        safety_truth=truth_source,
        bootstrap=cfg.resampling.model_copy(update={
            "clusters": None if ts.clusters is None else len(set(ts.clusters))}),
        metrics=slices["all"].metrics,
        confusion=slices["all"].confusion,
        categories={c: sum(1 for d in judged_names if d.category == c) for c in CATEGORIES},
        violations=dict(sorted(Counter(code for r in rows for code in
                                       dict.fromkeys(v.code for v in r.violations)).items())),
        constraints=constraints,
        slices=slices,
        edge_cases=edge,
        confidence=calibration,
        guardrail=guard_result,
        corrected=corrected_of(rows, calibrated, cfg) if truth_source == "judge" else None,
        rows=rows,
    )
