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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from .config import EvalConfig
from .data import TestSet, load_testset, read_predictions
from .errors import ConfigError, CostLimitError
from .judges import Judge, JudgeInput, Judgment, get_judge
from .judges.pool import judge_rows
from .results import (
    EvalResults,
    ModelInfo,
    lean_rows,
)
from .summary import build_row, protocol_fingerprint, summarise
from .tasks.domain_suggestion import (
    detect_constraints,
    parse_output,
)

__all__ = ["ModelInput", "aevaluate", "evaluate", "protocol_fingerprint"]

ModelInput = str | Path | Sequence[str | Sequence[str]] | Callable[[str], str | Sequence[str]]
ProgressFn = Callable[[int, int], None]
Truth = Literal["safe", "harmful"]




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
    """The steps after screening: answers, truth source, parse, judge, pin truth, rows, summary."""
    cfg, ts = run.cfg, run.ts
    spec = judge if judge is not None else cfg.judge
    judge_obj = get_judge(spec, **cfg.judge_options(spec))
    outputs, info, confidence = await _model_outputs(model, ts, frozenset(blocked))
    info = made_by or info
    if model_name:
        info = ModelInfo(name=model_name, source=info.source)
    truth_source = _truth_source(cfg, ts)
    parsed: list[Any] = [parse_output(o) for o in outputs]
    del outputs  # a large run holds each answer once, not three times
    verdicts = await _judge_all(run, judge_obj, parsed, progress)
    pinned = _pin_truth(judge_obj, ts, verdicts, truth_source)
    rows = []
    for i in range(len(ts)):
        rows.append(build_row(i, ts, parsed[i], verdicts[i], truth_source, pinned, confidence[i]))
        lean_rows(rows[-1:])
        parsed[i] = verdicts[i] = None  # memory: each row's inputs go once it is built
    return summarise(rows, cfg=cfg, ts=ts, info=info, judge=judge_obj,
                     truth_source=truth_source, blocked=blocked)


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
    if cfg.max_cost is not None:
        _check_cost(judge, items, cfg.max_cost)
    judge.start_run(max_cost=cfg.max_cost)
    try:
        return await judge_rows(judge, items, cfg.concurrency, progress,
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
