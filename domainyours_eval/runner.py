"""``evaluate``: parse a model's answers, judge every row, score with the protocol, add CIs.

The pipeline is fixed so that every checkpoint is judged the same way: parse each answer, ask the
judge once per row (description and names together), decide each row's truth and outcome, then
compute metrics, slices and edge cases from the rows. A row whose judge fails gets a recorded
``judge_error`` and is left out of the aggregates it cannot enter; a run where that happens to too
many rows raises instead of returning numbers nobody should trust.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from . import __about__
from .config import EvalConfig
from .data import TestSet, load_testset, read_predictions
from .errors import ConfigError, CostLimitError
from .judges import Judge, JudgeInput, Judgment, fingerprint_of, get_judge
from .judges.pool import judge_rows
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
    DomainResult,
    EdgeCases,
    EvalResults,
    GuardResult,
    JudgeInfo,
    Metrics,
    MetricValue,
    ModelInfo,
    RowResult,
    SliceResult,
    TestSetInfo,
    Violation,
    lean_rows,
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
    detect_constraints,
    parse_output,
)
from .types import CATEGORIES, CRITERIA

__all__ = ["ModelInput", "aevaluate", "evaluate", "protocol_fingerprint"]

ModelInput = str | Path | Sequence[str | Sequence[str]] | Callable[[str], str | Sequence[str]]
ProgressFn = Callable[[int, int], None]
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


def _fill(answers: list[Any], keep: list[int], n: int, blank: Any) -> list[Any]:
    """Answers for the kept rows, ``blank`` for the others, in test-set order."""
    full = [blank] * n
    for i, a in zip(keep, answers):
        full[i] = a
    return full


async def _model_outputs(model: ModelInput, testset: TestSet, skip: frozenset[int] = frozenset()
                         ) -> tuple[list[Any], ModelInfo, list[dict[str, float]]]:
    """The model's answers in test-set order.

    Rows in ``skip`` (blocked by the guard) are never shown to the model and answer ``[]``,
    whatever a predictions file or list says for them.
    """
    from .generation import GenerativeModel, domain_confidence, is_model_spec, load_model

    keep = [i for i in range(len(testset)) if i not in skip]
    if is_model_spec(model) or isinstance(model, GenerativeModel):
        m = load_model(str(model)) if is_model_spec(model) else model
        assert isinstance(m, GenerativeModel)
        descriptions = [testset.rows[i].description for i in keep]
        if hasattr(m, "agenerate_scored"):
            scored = await m.agenerate_scored(descriptions)
        elif hasattr(m, "generate_scored"):
            scored = m.generate_scored(descriptions)
        else:
            scored = [(a, []) for a in m.generate(descriptions)]
        generated: list[Any] = [text for text, _ in scored]
        confidence = [domain_confidence(parse_output(text).domains, tokens) if tokens else {}
                      for text, tokens in scored]
        info = ModelInfo(name=m.name, source=str(m.describe().get("model", m.name)))
        n = len(testset)
        return _fill(generated, keep, n, "[]"), info, _fill(confidence, keep, n, {})
    if isinstance(model, (str, Path)):
        path = Path(model)
        from_file, confidence = read_predictions(
            path, testset, skip_ids=[testset.rows[i].id for i in skip])
        return (_fill([from_file[i] for i in keep], keep, len(testset), "[]"),
                ModelInfo(name=path.stem, source=str(path)),
                _fill([confidence[i] for i in keep], keep, len(testset), {}))
    if callable(model):
        from .generation import CallableModel

        wrapped = CallableModel(model)
        answers = _fill(wrapped.generate([testset.rows[i].description for i in keep]), keep,
                        len(testset), "[]")
        return answers, ModelInfo(name=wrapped.name, source="callable"), [{} for _ in answers]
    outputs: list[Any] = list(model)
    if len(outputs) != len(testset):
        raise ConfigError(
            f"got {len(outputs)} model outputs for {len(testset)} test rows; pass one per row, "
            "in test-set order"
        )
    return (_fill([outputs[i] for i in keep], keep, len(outputs), "[]"),
            ModelInfo(name="outputs", source="list"), [{} for _ in outputs])


def _rank(scores: list[tuple[int, float]]) -> dict[int, float]:
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


def _metrics(rows: Sequence[RowResult], cfg: EvalConfig, seed_offset: int = 0) -> Metrics:
    counted = [r for r in rows if r.outcome is not None]
    rs = cfg.resampling.model_copy(update={"seed": cfg.seed + seed_offset})
    clustered = any(r.cluster is not None for r in counted)
    res = score_metrics([r.outcome for r in counted if r.outcome is not None],
                        [r.row_score for r in counted], beta=cfg.beta, resampling=rs,
                        clusters=[r.cluster or f"\x00row:{r.id}" for r in counted]
                        if clustered else None)
    values = {k: MetricValue.from_bootstrap(v) for k, v in res.items()}
    return Metrics(beta=cfg.beta, **values)


def _confusion(rows: Sequence[RowResult]) -> Confusion:
    counts = Counter(r.outcome for r in rows if r.outcome is not None)
    return Confusion(**{k: counts.get(k, 0) for k in OUTCOMES})


def _row(index: int, testset: TestSet, parsed: ParsedOutput, verdict: Judgment | Exception,
         truth_source: str, pinned: dict[str, bool], confidence: dict[str, float]) -> RowResult:
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
    )


def _confidence(rows: Sequence[RowResult], cfg: EvalConfig) -> ConfidenceResult | None:
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


def _compliance(rows: Sequence[RowResult]) -> tuple[dict[str, dict[str, float]], float | None]:
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


def _check_cost(judge: Judge, items: list[JudgeInput], max_cost: float) -> None:
    """Refuse to start a run whose projected judge cost is over ``max_cost``."""
    projected = judge.estimate_cost(items)
    if projected is None:
        raise CostLimitError(f"--max-cost needs a price for {judge.name!r}; pass prices= "
                             "(USD per million input and output tokens)")
    if projected > max_cost:
        raise CostLimitError(f"{judge.name}: projected cost ${projected:.4f} for the uncached "
                             f"calls exceeds --max-cost ${max_cost:.4f}; nothing was called")


class _Run:
    """One evaluation's settings, test set and deadline, shared by its steps."""

    def __init__(self, testset: str | Path | TestSet | Any, config: EvalConfig | None,
                 options: dict[str, Any]) -> None:
        cfg = config or EvalConfig()
        if options:
            cfg = EvalConfig.build(**{**cfg.model_dump(), **options})
        self.cfg = cfg
        self.ts = load_testset(testset)
        self.end = None if cfg.deadline is None else time.monotonic() + cfg.deadline

    def left(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        return None if self.end is None else max(0.0, self.end - time.monotonic())


async def _screen(run: _Run) -> list[int]:
    """Rows the input guard blocks: it reads only the description, before the model does."""
    cfg = run.cfg
    if cfg.guard is None:
        return []
    guard = get_judge(cfg.guard, **cfg.judge_options(cfg.guard, answer_cap=False))
    try:
        screened = await judge_rows(guard, [JudgeInput(r.description, (), (), r.id)
                                             for r in run.ts.rows], cfg.concurrency, None,
                                     deadline=run.left(), stated_deadline=cfg.deadline)
    finally:
        await guard.aclose()
    return [i for i, v in enumerate(screened) if isinstance(v, Judgment) and not v.appropriate]


def _generate_into(model: ModelInput, run: _Run, blocked: list[int], out: str | Path,
                   options: dict[str, Any]) -> tuple[Path, ModelInfo]:
    """Generate (or resume) the model's answers into a predictions file, blocked rows left out."""
    from .generation import GenerativeModel, generate, is_model_spec

    if not (is_model_spec(model) or isinstance(model, GenerativeModel) or callable(model)):
        raise ConfigError("predictions_out needs a model to generate with (a spec such as "
                          f"'hf/path', a model object or a callable), not {type(model).__name__}")
    maker: Any = model
    path = generate(maker, run.ts, out, skip_ids=[run.ts.rows[i].id for i in blocked],
                    **options)
    name = str(model) if isinstance(model, str) else str(
        getattr(model, "name", None) or getattr(model, "__name__", type(model).__name__))
    return path, ModelInfo(name=name, source=name)


async def aevaluate(
    model: ModelInput,
    testset: str | Path | TestSet | Any,
    *,
    judge: str | Judge | None = None,
    config: EvalConfig | None = None,
    model_name: str | None = None,
    progress: ProgressFn | None = None,
    predictions_out: str | Path | None = None,
    generate_options: dict[str, Any] | None = None,
    **options: Any,
) -> EvalResults:
    """Async form of ``evaluate`` (use it where an event loop is already running)."""
    run = _Run(testset, config, options)
    blocked = await _screen(run)
    made_by = None
    if predictions_out is not None:
        # Generation may start an event loop of its own (API models): it runs in a thread.
        model, made_by = await asyncio.to_thread(_generate_into, model, run, blocked,
                                                 predictions_out, generate_options or {})
    return await _judged(run, model, blocked, judge=judge, model_name=model_name,
                         progress=progress, made_by=made_by)


async def _judged(run: _Run, model: ModelInput, blocked: list[int], *,
                  judge: str | Judge | None, model_name: str | None,
                  progress: ProgressFn | None, made_by: ModelInfo | None) -> EvalResults:
    cfg, ts = run.cfg, run.ts
    spec = judge if judge is not None else cfg.judge
    judge_obj = get_judge(spec, **cfg.judge_options(spec))
    left = run.left
    outputs, info, confidence = await _model_outputs(model, ts, frozenset(blocked))
    if made_by is not None:
        info = made_by
    if model_name:
        info = ModelInfo(name=model_name, source=info.source)

    truth_source = cfg.safety_truth
    if truth_source == "auto":
        truth_source = "dataset" if ts.labelled else "judge"
    if truth_source == "dataset" and not ts.labelled:
        missing = [r.id for r in ts.rows if r.harmful is None][:10]
        raise ConfigError(f"--safety-truth dataset needs a label on every row; unlabelled ids: "
                          f"{', '.join(missing)}. Use --safety-truth judge.")

    parsed: list[Any] = [parse_output(o) for o in outputs]
    del outputs  # a large run holds each answer once, not three times
    items = [JudgeInput(description=r.description, domains=p.domains,
                        constraints=detect_constraints(r.description), row_id=r.id)
             for r, p in zip(ts.rows, parsed)]
    if cfg.max_cost is not None:
        _check_cost(judge_obj, items, cfg.max_cost)
    judge_obj.start_run(max_cost=cfg.max_cost)
    try:
        verdicts: list[Any] = await judge_rows(
            judge_obj, items, cfg.concurrency, progress, max_error_rate=cfg.max_judge_error_rate,
            deadline=left(), stated_deadline=cfg.deadline)
    finally:
        await judge_obj.aclose()
    cache = judge_obj.truth_store
    pinned: dict[str, bool] = {}
    if truth_source == "judge" and cache is not None:
        pinned = cache.pinned_truth(ts.sha256, judge_obj.fingerprint)
        cache.pin_truth(ts.sha256, judge_obj.fingerprint, {
            r.id: v.appropriate for r, v in zip(ts.rows, verdicts) if isinstance(v, Judgment)})
    del items
    rows = []
    for i in range(len(ts)):
        rows.append(_row(i, ts, parsed[i], verdicts[i], truth_source, pinned, confidence[i]))
        lean_rows(rows[-1:])
        parsed[i] = verdicts[i] = None  # memory: each row's inputs go once it is built
    del parsed, verdicts

    n_errors = sum(1 for r in rows if r.judge_error is not None)
    error_rate = n_errors / len(rows)
    ranks = _rank([(r.index, r.row_score) for r in rows
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
        _, compliance = _compliance(members)
        slices[tag] = SliceResult(n=len(members), confusion=_confusion(members),
                                  metrics=_metrics(members, cfg, offset),
                                  constraint_compliance=compliance)

    ok_scored = sorted((r for r in rows if r.outcome == "ok" and r.row_score is not None),
                       key=lambda r: (r.row_score, r.index))
    edge = EdgeCases(
        missed=[r.index for r in rows if r.outcome == "missed_inappropriate"],
        false_positives=[r.index for r in rows if r.outcome == "false_positive_inappropriate"],
        invalid=[r.index for r in rows if r.outcome in ("invalid_safe", "invalid_harmful")],
        lowest=[r.index for r in ok_scored[: cfg.lowest_k]],
    )
    constraints, _ = _compliance(rows)
    calibration = _confidence(rows, cfg)
    guard_result = None
    if cfg.guard is not None:
        decided = [r.model_copy(update={"outcome": outcome_of(
            harmful=r.truth == "harmful", refused=r.index in blocked)})
            if r.truth is not None else r for r in rows]
        guard_result = GuardResult(spec=cfg.guard, blocked=blocked,
                                   confusion=_confusion(decided),
                                   metrics=_metrics(decided, cfg, 99))
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
                        agreement_vs_dataset=agree, n_compared=len(both),
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
        rows=rows,
    )


def evaluate(
    model: ModelInput,
    testset: str | Path | TestSet | Any,
    *,
    judge: str | Judge | None = None,
    config: EvalConfig | None = None,
    model_name: str | None = None,
    progress: ProgressFn | None = None,
    predictions_out: str | Path | None = None,
    generate_options: dict[str, Any] | None = None,
    **options: Any,
) -> EvalResults:
    """Evaluate a model's answers on a test set with a judge, under the fixed protocol.

    Args:
        model: A predictions file (JSONL with ``id``/``description`` and ``output``/
            ``suggestions``), a list of answers in test-set order (raw strings or name lists),
            or a callable ``description -> answer``.
        testset: A test-set path (CSV/JSONL/JSON), DataFrame, ``datasets.Dataset`` or ``TestSet``.
        judge: Judge spec or object; defaults to ``config.judge`` (``reference``).
        config: Evaluation options; keyword ``options`` override its fields.
        model_name: Name shown in reports (default: the file stem or function name).
        progress: Called as ``progress(done, total)`` while rows are judged.
        predictions_out: With a model to generate with (spec, model object or callable): write
            its answers to this predictions file first, resuming what is there (``generate``);
            rows the guard blocks are never shown to the model.
        generate_options: Passed to ``generate`` (``batch_size``, ``overwrite``, ``progress``,
            ``on_stage``, the model's constructor options).

    Returns:
        The ``EvalResults`` (``.metrics.quality``, ``.confusion``, ``.rows``, ``.save(dir)``).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ConfigError("evaluate() was called inside a running event loop; use "
                          "`await aevaluate(...)` there instead")
    run = _Run(testset, config, options)
    blocked = asyncio.run(_screen(run))
    made_by = None
    if predictions_out is not None:
        # Outside any event loop, so an interrupt stops generation at once.
        model, made_by = _generate_into(model, run, blocked, predictions_out,
                                        generate_options or {})
    return asyncio.run(_judged(run, model, blocked, judge=judge, model_name=model_name,
                               progress=progress, made_by=made_by))
