"""From any model input to answers: the one place that knows the kinds of input.

``answers`` takes a spec, a model object, a predictions file, a list or a callable and returns the
answers in test-set order, with the rows to skip (blocked by the input guard) never shown to the
model and answered ``[]``. ``generate`` writes a model's answers to a predictions file one batch
at a time (a rerun generates only the rows still missing, so an interrupted run loses nothing);
``evaluate`` reads such a file back through ``answers``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..errors import ConfigError
from ..results import ModelInfo
from ..tasks.domain_suggestion import parse_output
from ..testsets import TestSet, load_testset
from .predictions import Prediction, domain_confidence, prompt_fingerprint, read_predictions, resumable
from .specs import CallableModel, GenerativeModel, is_model_spec, load_model

__all__ = ["Answers", "ModelInput", "answers", "as_model", "can_generate", "generate"]

ModelInput = str | Path | Sequence[str | Sequence[str]] | Callable[[str], str | Sequence[str]]
"""A spec, a model object, a predictions file, answers in test-set order, or a callable."""
Scored = list[tuple[str, list[tuple[str, float]]]]


@dataclass
class Answers:
    """A model's answers to a test set, in its row order."""

    outputs: list[str | list[str]]
    """Raw answers (or name lists); ``"[]"`` for rows never shown to the model."""
    info: ModelInfo
    """The model's name and where the answers came from."""
    confidence: list[dict[str, float]] = field(default_factory=list)
    """Each row's per-name confidence (empty where the model served none)."""


def can_generate(model: object) -> bool:
    """Whether ``model`` can be asked (a spec, a model object or a callable), not only read."""
    return is_model_spec(model) or isinstance(model, GenerativeModel) or (
        callable(model) and not isinstance(model, (str, Path)))


def as_model(model: Any, *, batched_callable: bool | None = None, **options: Any
             ) -> GenerativeModel:
    """A spec, a model object or a callable as a ``GenerativeModel``.

    Raises:
        ConfigError: ``model`` is none of those.
    """
    if isinstance(model, str):
        return load_model(model, **options)
    if isinstance(model, GenerativeModel):
        return model
    if callable(model) and not isinstance(model, (str, Path)):
        return CallableModel(model, batched_callable)
    raise ConfigError(f"cannot generate with {type(model).__name__}; pass a model spec (such as "
                      "'hf/path'), a model object or a callable")


async def _ask(m: GenerativeModel, descriptions: list[str]) -> Scored:
    agen = getattr(m, "agenerate_scored", None)
    if agen is not None:
        scored: Scored = await agen(descriptions)
        return scored
    return _ask_sync(m, descriptions)


def _ask_sync(m: GenerativeModel, descriptions: list[str]) -> Scored:
    scored_fn = getattr(m, "generate_scored", None)
    if scored_fn is not None:
        out: Scored = scored_fn(descriptions)
        return out
    return [(a, []) for a in m.generate(descriptions)]


def _fill(values: list[Any], keep: list[int], n: int, blank: Any) -> list[Any]:
    """Values for the kept rows, ``blank`` for the others, in test-set order."""
    full = [blank] * n
    for i, v in zip(keep, values):
        full[i] = v
    return full


async def answers(model: ModelInput, testset: TestSet, *, skip_ids: Collection[str] = ()
                  ) -> Answers:
    """The model's answers to every row of ``testset``, in its order.

    Rows in ``skip_ids`` are never shown to the model and answer ``[]``, whatever a predictions
    file or list says for them.

    Raises:
        ConfigError: A list of the wrong length, or an input of no known kind.
        DataError: A predictions file with problems (each named by line and field).
    """
    skip = set(skip_ids)
    n = len(testset)
    keep = [i for i, r in enumerate(testset.rows) if r.id not in skip]
    if can_generate(model):
        m = as_model(model)
        scored = await _ask(m, [testset.rows[i].description for i in keep])
        confidence = [domain_confidence(parse_output(text).domains, tokens) if tokens else {}
                      for text, tokens in scored]
        source = str(m.describe().get("model", m.name)) if not isinstance(m, CallableModel) \
            else "callable"
        return Answers(_fill([t for t, _ in scored], keep, n, "[]"),
                       ModelInfo(name=m.name, source=source), _fill(confidence, keep, n, {}))
    if isinstance(model, (str, Path)):
        path = Path(model)
        from_file, conf = read_predictions(path, testset, skip_ids=skip)
        return Answers(_fill([from_file[i] for i in keep], keep, n, "[]"),
                       ModelInfo(name=path.stem, source=str(path)),
                       _fill([conf[i] for i in keep], keep, n, {}))
    outputs: list[Any] = list(cast("Sequence[Any]", model))  # not callable, not a path
    if len(outputs) != n:
        raise ConfigError(f"got {len(outputs)} model outputs for {n} test rows; pass one per row, "
                          "in test-set order")
    return Answers(_fill([outputs[i] for i in keep], keep, n, "[]"),
                   ModelInfo(name="outputs", source="list"), [{} for _ in outputs])


def generate(
    model: str | GenerativeModel | Callable[..., Any],
    testset: str | Path | TestSet | Any,
    out: str | Path,
    *,
    batch_size: int = 16,
    batched_callable: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    overwrite: bool = False,
    skip_ids: Collection[str] = (),
    **model_options: Any,
) -> Path:
    """Generate (or finish generating) predictions for every test row into ``out`` (JSONL).

    Args:
        model: A spec (``hf/...``), a ``GenerativeModel``, or a callable
            ``description -> answer`` (``list[str] -> list[answer]`` with ``batched_callable``).
        testset: The test set.
        out: The predictions file; rows already in it are kept and not generated again.
        batch_size: Rows per ``generate`` call (and per write).
        batched_callable: The callable takes a list of descriptions (default: read from its
            first parameter's annotation).
        progress: Called as ``progress(done, total)`` at the start and after each batch.
        on_stage: Called with one line for each stage: rows kept and to do, model loading (and
            how long it took), the prompts' shared prefix.
        skip_ids: Rows never shown to the model (an input guard blocked them); they are not
            written, and ``read_predictions(..., skip_ids=...)`` reads the file without them.
        overwrite: Discard what ``out`` holds and generate every row again. Without it, rows
            already there are reused only when the same model, adapter, prompt and generation
            parameters produced them; a file written otherwise is an error that says what
            differs.
        **model_options: Passed to the model's constructor when ``model`` is a spec.

    Raises:
        ConfigError: ``out`` holds another model's (or other settings') predictions.
    """
    ts = load_testset(testset)
    m = as_model(model, batched_callable=batched_callable, **model_options)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = m.describe()
    prompt = prompt_fingerprint()
    if overwrite and path.exists():
        path.unlink()
    done = resumable(path, ts, {**params, "prompt": prompt})
    skip = set(skip_ids)
    todo = [r for r in ts.rows if r.id not in done and r.id not in skip]
    wanted = sum(1 for r in ts.rows if r.id not in skip)
    kept = wanted - len(todo)
    say = on_stage or (lambda _line: None)
    blocked = f" ({len(skip)} blocked by the guard are never shown to the model)" if skip else ""
    if kept:
        say(f"resuming {path}: {kept} of {wanted} rows kept, {len(todo)} to generate{blocked}")
    else:
        say(f"{len(todo)} rows to generate into {path}{blocked}")
    if progress:
        progress(kept, wanted)
    load = getattr(m, "load", None)
    if todo and callable(load):
        label = params.get("model") or type(m).__name__
        say(f"loading {label}")
        t0 = time.perf_counter()
        load()
        say(f"loaded {label} in {time.perf_counter() - t0:.1f} s")
    told_prefix = False
    with path.open("a", encoding="utf-8") as fh:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            t0 = time.perf_counter()
            pairs = _ask_sync(m, [r.description for r in batch])
            elapsed = (time.perf_counter() - t0) / max(1, len(batch))
            for row, (answer, tokens) in zip(batch, pairs):
                parsed = parse_output(answer)
                record = Prediction(
                    id=row.id, description=row.description, output=answer,
                    parsed=list(parsed.domains), refused=parsed.refused, decision=parsed.decision,
                    model=params, prompt=prompt, seconds=round(elapsed, 4),
                    confidence=domain_confidence(parsed.domains, tokens) if tokens else None)
                fh.write(record.line() + "\n")
            fh.flush()  # each finished batch is on disk before the next one starts
            shared = getattr(m, "shared_prefix_tokens", 0)
            if shared and not told_prefix:
                say(f"prompts share a {shared}-token prefix: prefilled once per batch")
                told_prefix = True
            if progress:
                progress(kept + start + len(batch), wanted)
    return path
