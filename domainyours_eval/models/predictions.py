"""Predictions files: one model's answers to a test set, written, resumed and read here.

``Prediction`` is the line ``generate`` writes (raw output, parsed names, the model's settings,
the prompt's fingerprint, timing, confidence). Resuming keeps a line only when the same model and
settings wrote it. Reading accepts hand-written files too (``id`` or ``description``; ``output``
or ``suggestions``) and collects every problem (file, line, field) before one ``DataError``:
broken lines, answers of the wrong type, ids or descriptions that match no row, second answers,
rows with none, and lines written by another model or with other settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ConfigError, DataError, DataProblem
from ..tasks.domain_suggestion import N_SUGGESTIONS, PROMPT_TEMPLATE
from ..testsets import TestSet, normalise_description, read_json, read_jsonl
from .specs import canonical_model_spec

__all__ = ["Prediction", "domain_confidence", "load_predictions", "prompt_fingerprint",
           "read_predictions", "resumable"]


class Prediction(BaseModel):
    """One line of a predictions file as ``generate`` writes it."""

    # Lines from older versions may carry fields since dropped, or lack later ones.
    model_config = ConfigDict(extra="allow")

    id: str
    """The test row's id."""
    description: str
    """The description the model answered."""
    output: str
    """The model's raw answer."""
    parsed: list[str] | None = None
    """Names the parser kept."""
    refused: bool | None = None
    """The parser read a refusal."""
    decision: str | None = None
    """``answered``, ``refused`` or ``invalid``."""
    model: dict[str, Any]
    """The model spec and generation parameters."""
    prompt: str
    """Fingerprint of the task prompt (``prompt_fingerprint``)."""
    seconds: float | None = None
    """Generation time per row in its batch."""
    confidence: dict[str, float] | None = None
    """Mean token log-probability of each name, where the model served them."""

    def line(self) -> str:
        """The JSONL line (no newline)."""
        return json.dumps(self.model_dump(exclude_none=True), ensure_ascii=False)


def prompt_fingerprint() -> str:
    """sha256 (16 hex digits) of the task prompt every prediction was generated from."""
    return hashlib.sha256(f"{PROMPT_TEMPLATE}\x00{N_SUGGESTIONS}".encode()).hexdigest()[:16]


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


def resumable(path: Path, testset: TestSet, settings: dict[str, Any]) -> dict[str, Prediction]:
    """The lines of ``path`` to keep, by row id, refusing a file another model or setting wrote.

    A line is reused only when the same model spec, adapter, prompt and generation parameters
    produced it; anything else would put one model's answers under another's name.
    """
    if not path.is_file():
        return {}
    done: dict[str, Prediction] = {}
    problems = []
    ids = {r.id for r in testset.rows}
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError):
            # A line cut short by a crash: drop it, it will be generated again.
            if n == len(lines):
                continue
            problems.append(DataProblem(str(path), n, None, "broken JSON line"))
            continue
        if not isinstance(rec, dict) or rec.get("id") not in ids:
            continue
        stored = rec.get("model")
        if isinstance(stored, dict):
            stored = {**stored, "prompt": rec.get("prompt")}
        diff = _differences(stored, settings)
        if diff:
            raise ConfigError(
                f"{path}:{n} was generated by another model or with other settings "
                f"({'; '.join(diff)}); write to a new file, or pass --overwrite "
                "(overwrite=True) to discard it and generate every row again")
        try:
            done[rec["id"]] = Prediction.model_validate(rec)
        except ValidationError as err:
            first = err.errors()[0]
            problems.append(DataProblem(str(path), n, ".".join(map(str, first["loc"])) or None,
                                        first["msg"]))
    if problems:
        raise DataError(problems, summary=f"Cannot resume from {path}")
    return done

def load_predictions(path: str | Path, testset: TestSet) -> list[str | list[str]]:
    """Read a predictions JSONL file and align it with the test set's rows.

    Each line is an object with ``id`` or ``description`` and either ``output`` (the raw model
    text) or ``suggestions`` (an already-split list). Every test row needs exactly one prediction
    and every prediction must match a row; anything else is an error.
    """
    return read_predictions(path, testset)[0]


def read_predictions(path: str | Path, testset: TestSet, *, skip_ids: Collection[str] = ()
                     ) -> tuple[list[str | list[str]], list[dict[str, float]]]:
    """``load_predictions`` plus each row's per-name confidence (mean token log-probability).

    Rows in ``skip_ids`` (never shown to the model) may be missing; they read as ``[]``.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError([DataProblem(str(p), None, None, "no such file")],
                        summary=f"Cannot load predictions {str(p)!r}")
    problems: list[DataProblem] = []
    records = read_jsonl(p, problems) if p.suffix.lower() != ".json" else read_json(p, problems)
    by_id = {r.id: i for i, r in enumerate(testset.rows)}
    by_desc: dict[str, int] = {}
    for i, r in enumerate(testset.rows):
        by_desc.setdefault(normalise_description(r.description), i)
    found: dict[int, str | list[str]] = {}
    confidence: dict[int, dict[str, float]] = {}
    first_model: tuple[Any, Any, Any] | None = None
    for n, (line, rec) in enumerate(records):
        line = line if line is not None else n
        if "model" in rec or "prompt" in rec:
            # One file, one model: rows generated by different models or settings are refused.
            made_by = (rec.get("model"), rec.get("prompt"), line)
            if first_model is None:
                first_model = made_by
            elif made_by[:2] != first_model[:2]:
                problems.append(DataProblem(
                    str(p), line, "model",
                    f"generated by {made_by[0]!r} (prompt {made_by[1]}), but line "
                    f"{first_model[2]} by {first_model[0]!r} (prompt {first_model[1]}): one "
                    "predictions file holds one model's answers"))
                continue
        if "output" in rec:
            value: Any = rec["output"]
            fld = "output"
            ok = isinstance(value, str) or value is None
        elif "suggestions" in rec:
            value = rec["suggestions"]
            fld = "suggestions"
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            problems.append(DataProblem(str(p), line, "output",
                                        "needs 'output' (raw model text) or 'suggestions'"))
            continue
        if not ok:
            problems.append(DataProblem(str(p), line, fld, f"wrong type: {value!r:.60}"))
            continue
        if rec.get("id") is not None:
            idx = by_id.get(str(rec["id"]))
            key = f"id {rec['id']!r}"
            kfield = "id"
        elif isinstance(rec.get("description"), str):
            idx = by_desc.get(normalise_description(rec["description"]))
            key = f"description {rec['description'][:50]!r}"
            kfield = "description"
        else:
            problems.append(DataProblem(str(p), line, "id", "needs 'id' or 'description'"))
            continue
        if idx is None:
            problems.append(DataProblem(str(p), line, kfield,
                                        f"{key} matches no row of test set {testset.name!r}"))
            continue
        if idx in found:
            problems.append(DataProblem(str(p), line, kfield, f"second prediction for {key}"))
            continue
        found[idx] = value if value is not None else ""
        conf = rec.get("confidence")
        if isinstance(conf, dict):
            confidence[idx] = {str(k): float(v) for k, v in conf.items()
                               if isinstance(v, (int, float))}
    skip = set(skip_ids)
    for i, r in enumerate(testset.rows):
        if r.id in skip:
            found[i] = "[]"
    missing = [testset.rows[i].id for i in range(len(testset.rows)) if i not in found]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        problems.append(DataProblem(str(p), None, None,
                                    f"no prediction for {len(missing)} test row(s): ids {shown}"))
    if problems:
        raise DataError(problems, summary=f"Cannot load predictions {p}: "
                        f"{len(problems)} problem(s)")
    n = len(testset.rows)
    return [found[i] for i in range(n)], [confidence.get(i, {}) for i in range(n)]
