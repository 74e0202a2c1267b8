"""Models under test: turn a model spec into answers, saved as a resumable predictions file.

A model is a spec string (``hf/<path-or-id>``, a ``.gguf`` path after ``hf/``), a model object
with ``generate(descriptions) -> answers`` (``HFModel``), or a Python callable taking one
description (or a list of them). ``generate`` writes one JSONL line per row as soon as its batch
is done (raw output, parsed names, model spec, generation parameters, timing); a rerun reads the
file first and generates only the rows still missing, so an interrupted run loses nothing.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .data import TestSet, load_testset
from .errors import ConfigError, DataError, DataProblem, SpecDeprecationWarning
from .tasks.domain_suggestion import parse_output

__all__ = ["MODEL_BACKENDS", "MODEL_PREFIXES", "CallableModel", "GenerativeModel",
           "canonical_model_spec", "domain_confidence", "generate", "is_batched", "is_model_spec",
           "load_model", "split_model_spec"]

MODEL_BACKENDS = ("hf", "openai", "anthropic")
"""Backends of a model under test: ``hf/<folder, hub id or .gguf>``, ``openai/<model>``,
``anthropic/<model>`` (the judges' spec syntax)."""
MODEL_PREFIXES = ("hf:", "openai:", "anthropic:")
"""The former spec prefixes, still read with a ``SpecDeprecationWarning``."""
"""Spec prefixes that name a model to run (anything else given as a string is a file)."""


@runtime_checkable
class GenerativeModel(Protocol):
    """A model under test: answers a batch of descriptions."""

    name: str

    def describe(self) -> dict[str, Any]:
        """The model spec and generation parameters, stored with every prediction."""
        ...

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """One raw answer per description."""
        ...


def split_model_spec(spec: str, *, warn: bool = True) -> tuple[str, str] | None:
    """``(backend, model)`` of a model spec, or ``None`` when ``spec`` names no model backend.

    ``backend/model`` is the spec, as for judges; the former ``backend:model`` still reads, with a
    ``SpecDeprecationWarning`` when ``warn``.
    """
    for backend in MODEL_BACKENDS:
        for sep in ("/", ":"):
            head = backend + sep
            if spec.startswith(head) and len(spec) > len(head):
                if sep == ":" and warn:
                    warnings.warn(f"model spec {spec!r}: write {backend}/{spec[len(head):]} (the "
                                  f"'{head}' form will go)", SpecDeprecationWarning, stacklevel=3)
                return backend, spec[len(head):]
    return None


def canonical_model_spec(spec: str) -> str:
    """``backend/model`` for a spec in either form (anything else unchanged)."""
    parts = split_model_spec(spec, warn=False)
    return spec if parts is None else f"{parts[0]}/{parts[1]}"


def is_model_spec(value: object) -> bool:
    """True for strings like ``hf/path`` that name a model rather than a predictions file.

    A string that is also an existing file's path (``openai/run.jsonl``) is the file.
    """
    if not isinstance(value, str):
        return False
    if value.startswith(MODEL_PREFIXES):
        return True
    return split_model_spec(value, warn=False) is not None and not Path(value).is_file()


def load_model(spec: str, **options: Any) -> GenerativeModel:
    """Build a model under test from a spec string (``hf/...``, ``openai/...``, ``anthropic/...``).

    Raises:
        ConfigError: An unknown backend, with the known ones and the fix.
    """
    parts = split_model_spec(spec)
    if parts is None:
        raise ConfigError(f"Unknown model spec {spec!r}; use one of: "
                          f"{', '.join(b + '/<model>' for b in MODEL_BACKENDS)}, a predictions "
                          "file, or a Python callable")
    backend, name = parts
    if backend == "hf":
        from ._deps import require

        require("torch", extra="hf", feature="Hugging Face models under test")
        require("transformers", extra="hf", feature="Hugging Face models under test")
        from .models_hf import HFModel

        return HFModel(name, **options)
    from .models_api import APIModel

    return APIModel(f"{backend}/{name}", **options)


def is_batched(fn: Callable[..., Any]) -> bool:
    """Whether a callable takes a list of descriptions (its first parameter is annotated so)."""
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params or params[0].annotation is inspect.Parameter.empty:
        return False
    note = str(params[0].annotation).lower()
    return any(word in note for word in ("list", "sequence", "iterable"))


class CallableModel:
    """A Python callable as the model under test (``description -> answer``, or batched)."""


    def __init__(self, fn: Callable[..., Any], batched: bool | None = None) -> None:
        self.fn = fn
        self.batched = is_batched(fn) if batched is None else batched
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def describe(self) -> dict[str, Any]:
        """The callable's name."""
        return {"model": f"callable:{self.name}"}

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """Call it once per description, or once per batch when it takes a list."""
        answers = self.fn(list(descriptions)) if self.batched else [self.fn(d) for d in descriptions]
        if len(answers) != len(descriptions):
            raise ConfigError(f"{self.name} returned {len(answers)} answers for "
                              f"{len(descriptions)} descriptions")
        return [a if isinstance(a, str) else json.dumps(list(a)) for a in answers]


def domain_confidence(domains: Sequence[str], tokens: Sequence[tuple[str, float]]
                      ) -> dict[str, float]:
    """Mean log-probability of the tokens that spell each name in the answer.

    Token texts laid end to end give character offsets; each name is found in that lowercased
    text (after the previous name) and takes the mean over the tokens overlapping it. A name that
    does not appear verbatim (normalised from "Roast Lab", say) gets no value.
    """
    spans = []
    pos = 0
    for tok, logp in tokens:
        spans.append((pos, pos + len(tok), logp))
        pos += len(tok)
    joined = "".join(t for t, _ in tokens).lower()
    out: dict[str, float] = {}
    cursor = 0
    for name in domains:
        at = joined.find(name, cursor)
        if at < 0:
            continue
        end = at + len(name)
        logps = [lp for s, e, lp in spans if s < end and e > at]
        if logps:
            out[name] = sum(logps) / len(logps)
        cursor = end
    return out


def prompt_fingerprint() -> str:
    """sha256 (16 hex digits) of the task prompt every prediction was generated from."""
    import hashlib

    from .tasks.domain_suggestion import N_SUGGESTIONS, PROMPT_TEMPLATE

    return hashlib.sha256(f"{PROMPT_TEMPLATE}\x00{N_SUGGESTIONS}".encode()).hexdigest()[:16]


def _differences(stored: Any, wanted: dict[str, Any]) -> list[str]:
    """What differs between a stored prediction's settings and this run's, in words."""
    if not isinstance(stored, dict):
        return ["no model settings recorded (written by an older version)"]
    if isinstance(stored.get("model"), str):
        # Files written before specs became backend/model say hf:..., openai:...
        stored = {**stored, "model": canonical_model_spec(stored["model"])}
    keys = sorted(set(stored) | set(wanted))
    return [f"{k} {stored.get(k)!r} there, {wanted.get(k)!r} now" for k in keys
            if stored.get(k) != wanted.get(k)]


def _existing(path: Path, testset: TestSet, settings: dict[str, Any]
              ) -> dict[str, dict[str, Any]]:
    """The rows of ``path`` to keep, refusing a file another model or setting wrote.

    A row is reused only when the same model spec, adapter, prompt and generation parameters
    produced it; anything else would put one model's answers under another's name.
    """
    if not path.is_file():
        return {}
    done: dict[str, dict[str, Any]] = {}
    problems = []
    ids = {r.id for r in testset.rows}
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            # A line cut short by a crash: drop it, it will be generated again.
            if n == len(lines):
                continue
            problems.append(DataProblem(str(path), n, None, "broken JSON line"))
            continue
        if rec.get("id") in ids:
            stored = rec.get("model")
            if isinstance(stored, dict):
                stored = {**stored, "prompt": rec.get("prompt")}
            diff = _differences(stored, settings)
            if diff:
                raise ConfigError(
                    f"{path}:{n} was generated by another model or with other settings "
                    f"({'; '.join(diff)}); write to a new file, or pass --overwrite "
                    "(overwrite=True) to discard it and generate every row again")
            done[rec["id"]] = rec
    if problems:
        raise DataError(problems, summary=f"Cannot resume from {path}")
    return done


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
    if isinstance(model, str):
        m: GenerativeModel = load_model(model, **model_options)
    elif isinstance(model, GenerativeModel):
        m = model
    elif callable(model):
        m = CallableModel(model, batched_callable)
    else:
        raise ConfigError(f"cannot generate with {type(model).__name__}; pass a model spec, a "
                          "model object or a callable")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = m.describe()
    prompt = prompt_fingerprint()
    if overwrite and path.exists():
        path.unlink()
    done = _existing(path, ts, {**params, "prompt": prompt})
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
        say(f"loading {params.get('model') or type(m).__name__}")
        t0 = time.perf_counter()
        load()
        say(f"loaded {params.get('model') or type(m).__name__} in {time.perf_counter() - t0:.1f} s")
    told_prefix = False
    with path.open("a", encoding="utf-8") as fh:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            t0 = time.perf_counter()
            scored = getattr(m, "generate_scored", None)
            if scored is not None:
                pairs = scored([r.description for r in batch])
            else:
                pairs = [(a, []) for a in m.generate([r.description for r in batch])]
            elapsed = (time.perf_counter() - t0) / max(1, len(batch))
            for row, (answer, tokens) in zip(batch, pairs):
                parsed = parse_output(answer)
                record = {
                    "id": row.id, "description": row.description, "output": answer,
                    "parsed": list(parsed.domains), "refused": parsed.refused,
                    "decision": parsed.decision,
                    "model": params, "prompt": prompt, "seconds": round(elapsed, 4),
                }
                if tokens:
                    record["confidence"] = domain_confidence(parsed.domains, tokens)
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()  # each finished batch is on disk before the next one starts
            shared = getattr(m, "shared_prefix_tokens", 0)
            if shared and not told_prefix:
                say(f"prompts share a {shared}-token prefix: prefilled once per batch")
                told_prefix = True
            if progress:
                progress(kept + start + len(batch), wanted)
    return path
