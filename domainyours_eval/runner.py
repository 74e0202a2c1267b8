"""``evaluate``: parse a model's answers, judge every row, score with the protocol, add CIs.

The pipeline is fixed so that every checkpoint is judged the same way: parse each answer, ask the
judge once per row (description and names together), decide each row's truth and outcome, then
compute metrics, slices and edge cases from the rows. A row whose judge fails gets a recorded
``judge_error`` and is left out of the aggregates it cannot enter; a run where that happens to too
many rows raises instead of returning numbers nobody should trust.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ._rows import lean_rows
from .config import EvalConfig
from .data import TestSet, load_testset
from .errors import ConfigError, CostLimitError
from .judges import Judge, JudgeInput, Judgment, get_judge
from .judges.pool import judge_rows
from .models import ModelInput, answers, can_generate, generate
from .providers.batch import BatchJob, BatchSettings
from .results import EvalResults, ModelInfo
from .summary import build_row, protocol_fingerprint, summarise
from .tasks.domain_suggestion import (
    detect_constraints,
    parse_output,
)

__all__ = ["ModelInput", "aevaluate", "evaluate", "protocol_fingerprint"]

ProgressFn = Callable[[int, int], None]
BatchUpdate = Callable[[list[BatchJob], float], None]
Truth = Literal["safe", "harmful"]


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
        self.on_batch: BatchUpdate | None = None
        """Told of every batch job after each round of status checks."""

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
    if not can_generate(model):
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
    judge: str | list[str] | Judge | None = None,
    config: EvalConfig | None = None,
    model_name: str | None = None,
    progress: ProgressFn | None = None,
    predictions_out: str | Path | None = None,
    generate_options: dict[str, Any] | None = None,
    on_batch: BatchUpdate | None = None,
    **options: Any,
) -> EvalResults:
    """Async form of ``evaluate`` (use it where an event loop is already running)."""
    run = _Run(testset, config, options)
    run.on_batch = on_batch
    blocked = await _screen(run)
    made_by = None
    if predictions_out is not None:
        # Generation may start an event loop of its own (API models): it runs in a thread.
        model, made_by = await asyncio.to_thread(_generate_into, model, run, blocked,
                                                 predictions_out, generate_options or {})
    return await _judged(run, model, blocked, judge=judge, model_name=model_name,
                         progress=progress, made_by=made_by)


async def _judged(run: _Run, model: ModelInput, blocked: list[int], *,
                  judge: str | list[str] | Judge | None, model_name: str | None,
                  progress: ProgressFn | None, made_by: ModelInfo | None) -> EvalResults:
    """The steps after screening: answers, truth source, parse, judge, pin truth, rows, summary."""
    cfg, ts = run.cfg, run.ts
    judge_obj = _judge_for(cfg, judge if judge is not None else cfg.judge)
    given = await answers(model, ts, skip_ids=[ts.rows[i].id for i in blocked])
    info = _named(made_by or given.info, model_name)
    truth_source = _truth_source(cfg, ts)
    parsed: list[Any] = [parse_output(o) for o in given.outputs]
    given.outputs.clear()  # a large run holds each answer once, not three times
    verdicts = await _judge_all(run, judge_obj, parsed, progress)
    pinned = _pin_truth(judge_obj, ts, verdicts, truth_source)
    rows = _rows(ts, parsed, verdicts, truth_source, pinned, given.confidence)
    return summarise(rows, cfg=cfg, ts=ts, info=info, judge=judge_obj,
                     truth_source=truth_source, blocked=blocked)


def _judge_for(cfg: EvalConfig, spec: str | list[str] | Judge) -> Judge:
    """The run's judge; a list of specs is a panel, each member with its own options."""
    if cfg.judge_repeats > 1:
        from .judges.panel import repeated_judge

        if not isinstance(spec, str):
            raise ConfigError("judge repeats take one judge spec (a panel of distinct judges "
                              "already judges each row several times)")
        return repeated_judge(spec, cfg.judge_repeats, **cfg.judge_options(spec))
    if isinstance(spec, list):
        from .judges.panel import JudgePanel

        return JudgePanel([get_judge(s, **cfg.judge_options(s)) for s in spec])
    return get_judge(spec, **cfg.judge_options(spec))


def _named(info: ModelInfo, model_name: str | None) -> ModelInfo:
    """The model's record, under the name the caller chose for reports."""
    return ModelInfo(name=model_name, source=info.source) if model_name else info


def _rows(ts: TestSet, parsed: list[Any], verdicts: list[Any], truth_source: str,
          pinned: dict[str, bool], confidence: list[dict[str, float]]) -> list[Any]:
    """One result row per test row, each row's inputs let go as soon as it is built."""
    rows = []
    for i in range(len(ts)):
        rows.append(build_row(i, ts, parsed[i], verdicts[i], truth_source, pinned, confidence[i]))
        lean_rows(rows[-1:])
        parsed[i] = verdicts[i] = None  # memory: a 100k-row run never holds both at once
    return rows


def _truth_source(cfg: EvalConfig, ts: TestSet) -> str:
    """``dataset`` or ``judge``: ``auto`` takes the labels when every row has one."""
    if cfg.safety_truth == "auto":
        return "dataset" if ts.labelled else "judge"
    if cfg.safety_truth == "dataset" and not ts.labelled:
        missing = [r.id for r in ts.rows if r.harmful is None][:10]
        raise ConfigError(f"--safety-truth dataset needs a label on every row; unlabelled ids: "
                          f"{', '.join(missing)}. Use --safety-truth judge.")
    return cfg.safety_truth


async def _judge_all(run: _Run, judge: Judge, parsed: list[Any], progress: ProgressFn | None
                     ) -> list[Any]:
    """One verdict (or judge error) per row, inside the judge's run session."""
    cfg = run.cfg
    items = [JudgeInput(description=r.description, domains=p.domains,
                        constraints=detect_constraints(r.description), row_id=r.id)
             for r, p in zip(run.ts.rows, parsed)]
    judge.use_batches(BatchSettings(poll=cfg.batch_poll, on_update=run.on_batch)
                      if cfg.batch else None)
    if cfg.max_cost is not None:
        _check_cost(judge, items, cfg.max_cost)
    judge.start_run(max_cost=cfg.max_cost)
    # Batch jobs take every uncached row at once; direct calls go a few at a time.
    concurrency = max(1, len(items)) if cfg.batch else cfg.concurrency
    try:
        return await judge_rows(judge, items, concurrency, progress,
                                max_error_rate=cfg.max_judge_error_rate, deadline=run.left(),
                                stated_deadline=cfg.deadline)
    finally:
        await judge.aclose()


def _pin_truth(judge: Judge, ts: TestSet, verdicts: list[Any], truth_source: str
               ) -> dict[str, bool]:
    """The judge's flags fixed by its first run on this test set (judge truth only)."""
    store = judge.truth_store
    if truth_source != "judge" or store is None:
        return {}
    pinned = store.pinned_truth(ts.sha256, judge.fingerprint)
    store.pin_truth(ts.sha256, judge.fingerprint, {
        r.id: v.appropriate for r, v in zip(ts.rows, verdicts) if isinstance(v, Judgment)})
    return pinned

def evaluate(
    model: ModelInput,
    testset: str | Path | TestSet | Any,
    *,
    judge: str | list[str] | Judge | None = None,
    config: EvalConfig | None = None,
    model_name: str | None = None,
    progress: ProgressFn | None = None,
    predictions_out: str | Path | None = None,
    generate_options: dict[str, Any] | None = None,
    on_batch: BatchUpdate | None = None,
    **options: Any,
) -> EvalResults:
    """Evaluate a model's answers on a test set with a judge, under the fixed protocol.

    Args:
        model: A predictions file (JSONL with ``id``/``description`` and ``output``/
            ``suggestions``), a list of answers in test-set order (raw strings or name lists),
            or a callable ``description -> answer``.
        testset: A test-set path (CSV/JSONL/JSON), DataFrame, ``datasets.Dataset`` or ``TestSet``.
        judge: Judge spec or object, or a list of specs for a panel; defaults to
            ``config.judge`` (``reference``).
        config: Evaluation options; keyword ``options`` override its fields.
        model_name: Name shown in reports (default: the file stem or function name).
        progress: Called as ``progress(done, total)`` while rows are judged.
        predictions_out: With a model to generate with (spec, model object or callable): write
            its answers to this predictions file first, resuming what is there (``generate``);
            rows the guard blocks are never shown to the model.
        generate_options: Passed to ``generate`` (``batch_size``, ``overwrite``, ``progress``,
            ``on_stage``, the model's constructor options).
        on_batch: With ``batch=True``, called as ``on_batch(jobs, seconds)`` after each round of
            status checks on the judge's batch jobs.

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
    run.on_batch = on_batch
    blocked = asyncio.run(_screen(run))
    made_by = None
    if predictions_out is not None:
        # Outside any event loop, so an interrupt stops generation at once.
        model, made_by = _generate_into(model, run, blocked, predictions_out,
                                        generate_options or {})
    return asyncio.run(_judged(run, model, blocked, judge=judge, model_name=model_name,
                               progress=progress, made_by=made_by))
