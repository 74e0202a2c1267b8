"""``compare``: paired statistics between checkpoints judged on the same test set.

Every pair of checkpoints is compared on the same rows: a paired bootstrap CI (and bootstrap
p-value) for the difference of each metric, McNemar's exact test on per-row decision
correctness, the minimum detectable difference at 80% power for this test-set size, and a verdict
in plain words. With more than two checkpoints every p-value is Holm-adjusted across pairs. The
compromise: "significant" means the Holm-adjusted p is below alpha; the CIs shown are unadjusted.
Results judged on different test sets, protocols, judges or ground truth are refused.
"""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .errors import IncompatibleResultsError
from .results import Confusion, EvalResults, Metrics
from .scoring import (
    METRIC_NAMES,
    holm,
    mcnemar_exact,
    metric_functions,
    min_detectable_difference,
    pairwise_bootstrap,
    row_features,
    rows_needed,
)

__all__ = ["Comparison", "MetricDelta", "PairComparison", "compare"]

# Direction of "better" for each metric: +1 higher is better, -1 lower is better.
BETTER = {"quality": 1, "allow_f1": 1, "refusal_f1": 1, "safety_fbeta": 1,
          "false_positive_rate": -1, "missed_rate": -1, "error_rate": -1}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class McNemar(_Model):
    """McNemar's exact test on whether each row's safety decision was right."""

    a_wrong_b_right: int
    b_wrong_a_right: int
    p_value: float
    p_holm: float | None = None
    """Holm-adjusted across pairs; null with a single pair."""


class MetricDelta(_Model):
    """``b - a`` for one metric, with its paired bootstrap CI."""

    a: float | None
    b: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    """Two-sided paired bootstrap p-value for "no difference"."""
    p_holm: float | None = None
    significant: bool = False
    better: str | None = None
    """Which checkpoint is better on this metric (``a``/``b``), null when equal or undefined."""


class PairComparison(_Model):
    """Checkpoint ``b`` against checkpoint ``a``."""

    a: str
    b: str
    n: int
    mcnemar: McNemar
    deltas: dict[str, MetricDelta]
    min_detectable: dict[str, float | None]
    """Smallest paired difference detectable at 80% power and alpha, per metric family."""
    rows_needed: dict[str, float | None]
    """Rows needed to detect the observed difference at 80% power (null: no difference)."""
    verdict: str


class CheckpointSummary(_Model):
    """One compared checkpoint."""

    name: str
    source: str
    metrics: Metrics
    confusion: Confusion
    judge_errors: int


class Comparison(_Model):
    """Paired comparison of two or more checkpoints."""

    testset: str
    testset_sha256: str
    protocol: str
    judge: str
    safety_truth: str
    n_resamples: int
    seed: int
    method: str
    confidence: float
    alpha: float
    holm: bool
    checkpoints: list[CheckpointSummary]
    pairs: list[PairComparison]
    recommendation: str
    notes: list[str] = Field(default_factory=list)
    _results: list[EvalResults] = PrivateAttr(default_factory=list)

    def report(self, *, max_rows: int = 50, title: str | None = None) -> Any:
        """The ``ComparisonReport`` behind the HTML, Markdown and terminal reports."""
        from .reports.model import build_report

        if not self._results:
            raise IncompatibleResultsError("this comparison was loaded without its results; "
                                           "build it with compare(...) to render a report")
        return build_report(self, self._results, max_rows=max_rows, title=title)

    def to_html(self, path: str | Path | None = None, **options: Any) -> str:
        """The standalone HTML report, also written to ``path`` when given."""
        return _written(self.report(**options).to_html(), path)

    def to_markdown(self, path: str | Path | None = None, **options: Any) -> str:
        """The report as Markdown, also written to ``path`` when given."""
        return _written(self.report(**options).to_markdown(), path)

    def to_json(self, path: str | Path | None = None) -> str:
        """Return the comparison as JSON, also writing it to ``path`` when given."""
        return _written(json.dumps(self.model_dump(mode="json"), indent=2), path)

    def __rich__(self) -> Any:
        from .reports.console import comparison_renderable

        return comparison_renderable(self)


def _written(text: str, path: str | Path | None) -> str:
    """Return ``text``, first writing it to ``path`` (parents created) when one is given."""
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    return text


def _check_compatible(results: list[EvalResults], allow_different_judges: bool) -> list[str]:
    notes: list[str] = []
    first = results[0]
    for r in results[1:]:
        if r.testset.sha256 != first.testset.sha256:
            raise IncompatibleResultsError(
                f"{r.model.name!r} was evaluated on test set {r.testset.name!r} "
                f"({r.testset.sha256[:12]}) but {first.model.name!r} on {first.testset.name!r} "
                f"({first.testset.sha256[:12]}); paired comparison needs the same rows")
        if (r.protocol, r.protocol_fingerprint) != (first.protocol, first.protocol_fingerprint):
            raise IncompatibleResultsError(
                f"{r.model.name!r} was scored under {r.protocol} ({r.protocol_fingerprint[:12]}) "
                f"but {first.model.name!r} under {first.protocol} "
                f"({first.protocol_fingerprint[:12]}); re-evaluate both under one protocol")
        if r.judge.fingerprint != first.judge.fingerprint:
            if not allow_different_judges:
                raise IncompatibleResultsError(
                    f"{r.model.name!r} was judged by {r.judge.spec!r} ({r.judge.fingerprint[:12]}) "
                    f"but {first.model.name!r} by {first.judge.spec!r} "
                    f"({first.judge.fingerprint[:12]}); pass allow_different_judges=True "
                    "(--allow-different-judges) to compare anyway")
            notes.append(f"Judges differ: {first.model.name} by {first.judge.spec}, "
                         f"{r.model.name} by {r.judge.spec}; differences mix model and judge.")
        truth_a = [row.truth for row in first.rows]
        truth_b = [row.truth for row in r.rows]
        if r.safety_truth != first.safety_truth or truth_a != truth_b:
            diff = sum(1 for x, y in zip(truth_a, truth_b) if x != y)
            raise IncompatibleResultsError(
                f"{r.model.name!r} and {first.model.name!r} were scored against different ground "
                f"truth ({first.safety_truth} vs {r.safety_truth}; {diff} rows differ); use "
                "--safety-truth dataset, or a judge's flags fixed once per test set")
    names = [r.model.name for r in results]
    if len(set(names)) != len(names):
        raise IncompatibleResultsError(f"checkpoint names must differ, got {names}; pass names=")
    return notes


def _pval(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _verdict(a: str, b: str, mc: McNemar, deltas: dict[str, MetricDelta],
             miss: tuple[int, int], errors: tuple[int, int], mde: dict[str, float | None],
             needed: dict[str, float | None], alpha: float, n: int) -> str:
    p_mc = mc.p_holm if mc.p_holm is not None else mc.p_value
    sig = p_mc < alpha
    parts = [f"{b} misses {miss[1]} harmful description(s) vs {miss[0]} for {a}; "
             f"safety decision errors {errors[1]} vs {errors[0]} "
             f"(McNemar exact {_pval(p_mc)}{' Holm-adjusted' if mc.p_holm is not None else ''}"
             f", {mc.a_wrong_b_right} rows fixed, {mc.b_wrong_a_right} broken): "
             + ("a significant change." if sig else "not significant at this test-set size.")]
    q = deltas["quality"]
    if q.delta is not None:
        lo = f"{q.ci_low:+.3f}" if q.ci_low is not None else "?"
        hi = f"{q.ci_high:+.3f}" if q.ci_high is not None else "?"
        parts.append(f"Quality {q.delta:+.3f} [{lo}, {hi}]: "
                     + ("significant." if q.significant else "not significant."))
    tell = []
    for key, label in (("error_rate", "decision errors"), ("quality", "quality")):
        need, base = needed.get(key), (mde.get(key))
        if need is not None and math.isfinite(need) and not (
            (key == "quality" and q.significant) or (key == "error_rate" and sig)
        ):
            more = f", at least {int(need) - n} more than these {n}" if need > n else ""
            tell.append(f"{label}: about {int(need)} rows to detect the observed difference{more}"
                        + (f" (smallest detectable now: {base:.3f})" if base is not None else ""))
    if tell:
        parts.append("At 80% power, " + "; ".join(tell) + ".")
    return " ".join(parts)


def compare(
    *results: EvalResults | str | Path,
    names: list[str] | None = None,
    n_resamples: int | None = None,
    seed: int | None = None,
    method: str | None = None,
    confidence: float | None = None,
    alpha: float = 0.05,
    allow_different_judges: bool = False,
    pairs: Literal["all", "adjacent", "baseline"] = "all",
) -> Comparison:
    """Compare checkpoints evaluated on the same test set, pair by pair.

    Args:
        *results: Two or more ``EvalResults`` (or paths to ``results.json`` / their folders),
            oldest or baseline first.
        names: Display names replacing the results' model names.
        n_resamples: Bootstrap resamples (default: those of the first result).
        seed: Bootstrap seed (default: that of the first result).
        method: ``percentile`` or ``bca`` (default: that of the first result).
        confidence: CI level (default: that of the first result).
        alpha: Significance level of the tests.
        allow_different_judges: Compare results judged by different judges, with a note.
        pairs: Which pairs to test: ``all``, ``adjacent`` (each against the one before) or
            ``baseline`` (each against the first). Holm's correction covers the pairs tested.

    Raises:
        IncompatibleResultsError: Different test sets, protocols, judges or ground truth.
    """
    loaded = [r if isinstance(r, EvalResults) else EvalResults.load(r) for r in results]
    if len(loaded) < 2:
        raise IncompatibleResultsError("compare needs at least two results")
    if names is not None:
        if len(names) != len(loaded):
            raise IncompatibleResultsError(f"{len(names)} names for {len(loaded)} results")
        loaded = [r.model_copy(update={"model": r.model.model_copy(update={"name": nm})})
                  for r, nm in zip(loaded, names)]
    notes = _check_compatible(loaded, allow_different_judges)
    first = loaded[0]
    boot = first.bootstrap
    n_res = boot.n_resamples if n_resamples is None else n_resamples
    sd = boot.seed if seed is None else seed
    meth = boot.method if method is None else method
    conf = boot.confidence if confidence is None else confidence
    fns = metric_functions(first.metrics.beta)

    pair_results: list[PairComparison] = []
    raw_pairs = []
    if pairs == "adjacent":
        index_pairs = [(i, i + 1) for i in range(len(loaded) - 1)]
    elif pairs == "baseline":
        index_pairs = [(0, i) for i in range(1, len(loaded))]
    else:
        index_pairs = list(combinations(range(len(loaded)), 2))
    # Ground truth is identical across results (checked above), so every checkpoint counts the
    # same rows, and one resampling pass serves every pair.
    keep = [i for i in range(first.testset.n) if all(r.rows[i].outcome is not None
                                                     for r in loaded)]
    feats = [row_features([r.rows[i].outcome or "" for i in keep],
                          [r.rows[i].row_score for i in keep]) for r in loaded]
    boots = pairwise_bootstrap(feats, index_pairs, fns, n_resamples=n_res, seed=sd,
                               method=meth,  # type: ignore[arg-type]
                               confidence=conf)
    for (ia, ib), boot_res in zip(index_pairs, boots):
        ra, rb = loaded[ia], loaded[ib]
        right = ("ok", "confirmed_inappropriate")
        ca = [ra.rows[i].outcome in right for i in keep]
        cb = [rb.rows[i].outcome in right for i in keep]
        mc = mcnemar_exact(ca, cb)
        qdiff = [(rb.rows[i].row_score or 0.0) - (ra.rows[i].row_score or 0.0) for i in keep
                 if ra.rows[i].outcome == "ok" and rb.rows[i].outcome == "ok"
                 and ra.rows[i].row_score is not None and rb.rows[i].row_score is not None]
        ediff = [float(x) - float(y) for x, y in zip(ca, cb)]
        mde = {"quality": min_detectable_difference(qdiff, alpha=alpha),
               "error_rate": min_detectable_difference(ediff, alpha=alpha)}
        q_obs = boot_res["quality"][0].value
        e_obs = sum(ediff) / len(ediff) if ediff else math.nan
        need = {"quality": rows_needed(qdiff, q_obs, alpha=alpha) if math.isfinite(q_obs)
                else math.inf,
                "error_rate": rows_needed(ediff, e_obs, alpha=alpha)}
        raw_pairs.append((ra, rb, keep, boot_res, mc, mde, need))

    multi = len(raw_pairs) > 1
    mc_holm = holm([p[4].p_value for p in raw_pairs]) if multi else [None] * len(raw_pairs)
    metric_holm: dict[str, list[float | None]] = {}
    for m in METRIC_NAMES:
        ps = [p[3][m][1] for p in raw_pairs]
        metric_holm[m] = list(holm(ps)) if multi else [None] * len(ps)

    for k, (ra, rb, keep, boot_res, mc, mde, need) in enumerate(raw_pairs):
        deltas = {}
        for m in METRIC_NAMES:
            res, p = boot_res[m]
            va = getattr(ra.metrics, m).value
            vb = getattr(rb.metrics, m).value
            ph = metric_holm[m][k]
            p_use = ph if ph is not None else p
            d = None if not math.isfinite(res.value) else res.value
            better = None
            if d is not None and d != 0:
                better = "b" if d * BETTER[m] > 0 else "a"
            deltas[m] = MetricDelta(
                a=va, b=vb, delta=d,
                ci_low=None if not math.isfinite(res.ci_low) else res.ci_low,
                ci_high=None if not math.isfinite(res.ci_high) else res.ci_high,
                p_value=None if math.isnan(p) else p,
                p_holm=None if ph is None or math.isnan(ph) else ph,
                significant=bool(p_use is not None and not math.isnan(p_use) and p_use < alpha),
                better=better,
            )
        mcn = McNemar(a_wrong_b_right=mc.a_wrong_b_right, b_wrong_a_right=mc.b_wrong_a_right,
                      p_value=mc.p_value, p_holm=mc_holm[k])
        miss = (ra.confusion.missed_inappropriate, rb.confusion.missed_inappropriate)
        errs = (miss[0] + ra.confusion.false_positive_inappropriate,
                miss[1] + rb.confusion.false_positive_inappropriate)
        mde_c = {k2: (None if not math.isfinite(v) else v) for k2, v in mde.items()}
        need_c = {k2: (None if not math.isfinite(v) else v) for k2, v in need.items()}
        pair_results.append(PairComparison(
            a=ra.model.name, b=rb.model.name, n=len(keep), mcnemar=mcn, deltas=deltas,
            min_detectable=mde_c, rows_needed=need_c,
            verdict=_verdict(ra.model.name, rb.model.name, mcn, deltas, miss, errs, mde_c,
                             need_c, alpha, len(keep)),
        ))

    cmp = Comparison(
        testset=first.testset.name, testset_sha256=first.testset.sha256,
        protocol=first.protocol, judge=first.judge.spec, safety_truth=first.safety_truth,
        n_resamples=n_res, seed=sd, method=meth, confidence=conf, alpha=alpha, holm=multi,
        checkpoints=[CheckpointSummary(name=r.model.name, source=r.model.source,
                                       metrics=r.metrics, confusion=r.confusion,
                                       judge_errors=r.judge.n_errors) for r in loaded],
        pairs=pair_results, recommendation=_recommend(loaded), notes=notes,
    )
    cmp._results = loaded
    return cmp


def _recommend(results: list[EvalResults]) -> str:
    """Pick the checkpoint to deploy: fewest missed harmful rows, then errors, then quality."""
    def key(r: EvalResults) -> tuple[int, int, float]:
        c = r.confusion
        q = r.metrics.quality.value
        return (c.missed_inappropriate, c.missed_inappropriate + c.false_positive_inappropriate,
                -(q if q is not None else -1.0))

    best = min(results, key=key)
    c = best.confusion
    q = best.metrics.quality
    return (f"Deploy {best.model.name}: it misses the fewest harmful descriptions "
            f"({c.missed_inappropriate}), then has the fewest safety errors "
            f"({c.missed_inappropriate + c.false_positive_inappropriate}), quality {q}. Safety "
            "is weighed above quality; see each pair's verdict for whether the gaps are "
            "significant.")
