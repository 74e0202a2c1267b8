"""``compare``: check the results agree, build each pair's claims and deltas, decide."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, IncompatibleResultsError
from ..judges import Judge
from ..policy import DecisionPolicy
from ..protocol import (
    METRIC_BY_NAME,
    PROTOCOL_VERSION,
    Resampling,
    score_metrics,
)
from ..results import EvalResults, Metrics, MetricValue
from .claims import adjust_levels, pair_claims, pair_status, pair_verdict, recommend
from .deltas import pair_deltas
from .records import COMPARISON_VERSION, CheckpointSummary, Claim, Comparison, PairComparison
from .rows import CheckpointRows


def calibration_note(res: EvalResults) -> str:
    """Whether the judge behind these results was measured against people's labels, in words."""
    cal, spec = res.judge.calibration, res.judge.spec
    if cal is None:
        return (f"The judge {spec} has not been measured against people's labels "
                "(`judge-agreement --labels`).")
    kappa = "n/a" if cal.score_kappa is None else f"{cal.score_kappa:.2f}"
    state = "calibrated" if cal.calibrated else "below the bar"
    return (f"The judge {spec} is {state}: weighted kappa {kappa} on the scores against people's "
            f"labels on {cal.n} rows (labels {cal.labels[:12]}; the bar is {cal.threshold:g}).")


def judge_noise_note(claims: list[list[Claim]], panel: bool) -> str:
    """How the quality claims took judge noise into account, when a panel judged (else "")."""
    from ..stats.two_level import METHODS

    methods = {c.method for cs in claims for c in cs if c.name == "quality"}
    if METHODS["crossed"] in methods:
        return ("Quality claims resample the panel's judges as well as the rows (a two-level "
                "bootstrap: rows and judges drawn independently, Owen's pigeonhole bootstrap), so "
                "their intervals include how much another panel of such judges could differ; "
                "it errs on the wide side.")
    if METHODS["nested"] in methods:
        return ("Quality claims rest on repeated judgings of each row: rows are resampled with "
                "their samplings, which carries the judge's sampling noise into the intervals.")
    if panel and methods:
        return ("A judge panel scored these rows, but the quality claims use the paired t test "
                "over rows (fewer than 1,000 resamples, more than 7 judges, or panels that "
                "differ), so how much another panel could differ is not in their intervals.")
    return ""


def unvalidated_judge(res: EvalResults) -> str:
    """The sentence a verdict gains when its judge is not validated against people (else "")."""
    cal = res.judge.calibration
    if cal is not None and cal.calibrated:
        return ""
    why = ("has not been measured against people's labels" if cal is None else
           "agrees with people's labels below the bar")
    return f" Its quality claims rest on an unvalidated judge ({res.judge.spec} {why})."


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
    if first.protocol != PROTOCOL_VERSION:
        notes.append(f"These results were scored under {first.protocol}; every statistic here is "
                     f"recomputed from their rows under {PROTOCOL_VERSION} (the outcomes are "
                     "defined the same way).")
    return notes



def _checkpoint(res: EvalResults, rows: CheckpointRows, policy: DecisionPolicy, rs: Resampling
                ) -> CheckpointSummary:
    from ..stats import binomial_function_interval

    scored = score_metrics(rows.outcomes, rows.scores, beta=res.metrics.beta, resampling=rs,
                           clusters=rows.clusters)
    metrics = Metrics(beta=res.metrics.beta,
                      **{k: MetricValue.from_bootstrap(v) for k, v in scored.items()})
    n = len(rows.outcomes)
    n_harm = sum(rows.harmful)
    n_safe = n - n_harm
    # Wrong decisions by class: an invalid answer costs what its class's failure costs.
    fp = sum(1 for w, h in zip(rows.wrong, rows.harmful) if w and not h)
    miss = sum(1 for w, h in zip(rows.wrong, rows.harmful) if w and h)

    def cost_of(f: Any, m: Any) -> Any:
        return (policy.cost_false_refusal * n_safe * f + policy.cost_missed * n_harm * m) / n

    d_safe = d_harm = 1.0
    if rows.clusters is not None:
        from ..stats import design_effect

        for harmful in (False, True):
            idx = [i for i, h in enumerate(rows.harmful) if h == harmful]
            if len(idx) >= 2:
                d = design_effect([float(rows.wrong[i]) for i in idx],
                                  [rows.clusters[i] for i in idx])
                d_safe, d_harm = (d, d_harm) if not harmful else (d_safe, d)
    cost = binomial_function_interval(
        lambda f, m: cost_of(f if n_safe else 0 * f, m if n_harm else 0 * m),
        [(fp / d_safe, n_safe / d_safe), (miss / d_harm, n_harm / d_harm)],
        n_draws=max(rs.n_resamples, 1), seed=rs.seed, confidence=rs.confidence)
    return CheckpointSummary(
        name=res.model.name, source=res.model.source, metrics=metrics,
        safety_cost=MetricValue.from_bootstrap(cost), confusion=res.confusion,
        judge_errors=res.judge.n_errors, protocol=res.protocol)


def _results_path(given: str | Path) -> Path:
    p = Path(given)
    return (p / "results.json" if p.is_dir() else p).resolve()


def results_of(cmp: Comparison, given: Sequence[EvalResults] | None) -> list[EvalResults]:
    """The results behind ``cmp``: ``given``, or the files it names, checked against it.

    Raises:
        IncompatibleResultsError: A checkpoint compared from memory with no results given, or
            results that are not the ones compared (the fingerprint differs).
    """
    if given is None:
        missing = [c.name for c in cmp.checkpoints if c.results_file is None]
        if missing:
            raise IncompatibleResultsError(
                f"checkpoint(s) {', '.join(missing)} were compared from results in memory, so "
                "this comparison cannot reload them: pass report(results=[...]) in checkpoint "
                "order, or compare results files")
        given = [EvalResults.load(c.results_file) for c in cmp.checkpoints
                 if c.results_file is not None]
    if len(given) != len(cmp.checkpoints):
        raise IncompatibleResultsError(f"{len(given)} results for {len(cmp.checkpoints)} "
                                       "compared checkpoints")
    named = [r.model_copy(update={"model": r.model.model_copy(update={"name": c.name})})
             for r, c in zip(given, cmp.checkpoints)]
    if _fingerprint(named, cmp.policy, cmp.resampling, cmp.incumbent) != cmp.fingerprint:
        raise IncompatibleResultsError(
            "these results are not the ones this comparison was made from (its fingerprint "
            "differs): a results file changed since, or they are in another order")
    return named


def _fingerprint(results: list[EvalResults], policy: DecisionPolicy, rs: Resampling,
                 incumbent: str) -> str:
    payload = {
        "comparison": COMPARISON_VERSION,
        "protocol": PROTOCOL_VERSION,
        "results": [[r.model.name, r.testset.sha256, r.protocol_fingerprint, r.judge.fingerprint,
                     hashlib.sha256(json.dumps([[x.outcome, x.row_score] for x in r.rows])
                                    .encode()).hexdigest()] for r in results],
        "policy": policy.model_dump(mode="json"),
        "incumbent": incumbent,
        "resampling": rs.model_dump(mode="json"),
    }
    canon = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def compare(
    *results: EvalResults | str | Path,
    names: list[str] | None = None,
    resampling: Resampling | None = None,
    n_resamples: int | None = None,
    seed: int | None = None,
    method: str | None = None,
    confidence: float | None = None,
    alpha: float | None = None,
    policy: DecisionPolicy | None = None,
    incumbent: str | None = None,
    cost_ratio: float | None = None,
    allow_different_judges: bool = False,
    pairs: Literal["all", "adjacent", "baseline"] = "all",
    pairwise_judge: str | Judge | None = None,
    pairwise_options: dict[str, Any] | None = None,
) -> Comparison:
    """Compare checkpoints evaluated on the same test set under a stated decision policy.

    Args:
        *results: Two or more ``EvalResults`` (or paths to ``results.json`` / their folders).
        names: Display names replacing the results' model names.
        resampling: The resampling settings (default: those the first result recorded); the
            four options below override single fields.
        n_resamples: Resamples and posterior draws (default: those of the first result).
        seed: Resampling seed (default: that of the first result).
        method: Bootstrap flavour of quality intervals: ``studentized``, ``percentile``, ``bca``.
        confidence: Level of the descriptive intervals (default: that of the first result).
        alpha: Familywise significance level of the verdict's claims (policy's, default 0.05).
        policy: The decision policy (default: ``DecisionPolicy()``, safety first, 4 : 1).
        incumbent: Name of the checkpoint in production (default: the first).
        cost_ratio: Cost of a miss relative to a false refusal (default 4).
        allow_different_judges: Compare results judged by different judges, with a note.
        pairs: Descriptive pairs besides the incumbent's: ``all``, ``adjacent`` (each against
            the one before) or ``baseline`` (only the incumbent's).
        pairwise_judge: Also judge each candidate's names against the incumbent's side by
            side, in both orders, with this judge (wins, ties, losses, an exact sign test).
        pairwise_options: Options for that judge (``cache_dir``, a ``client``...).

    Raises:
        IncompatibleResultsError: Different test sets, protocols, judges or ground truth.
        ConfigError: An incumbent that is not among the checkpoints, or a bad option.
    """
    loaded = [r if isinstance(r, EvalResults) else EvalResults.load(r) for r in results]
    files = [None if isinstance(r, EvalResults) else str(_results_path(r)) for r in results]
    if len(loaded) < 2:
        raise IncompatibleResultsError("compare needs at least two results")
    if names is not None:
        if len(names) != len(loaded):
            raise IncompatibleResultsError(f"{len(names)} names for {len(loaded)} results")
        loaded = [r.model_copy(update={"model": r.model.model_copy(update={"name": nm})})
                  for r, nm in zip(loaded, names)]
    notes = _check_compatible(loaded, allow_different_judges)
    pol = policy or DecisionPolicy()
    updates: dict[str, Any] = {}
    if incumbent is not None:
        updates["incumbent"] = incumbent
    if alpha is not None:
        updates["alpha"] = alpha
    if cost_ratio is not None:
        updates["cost_missed"] = cost_ratio * pol.cost_false_refusal
    if updates:
        try:
            pol = DecisionPolicy.model_validate({**pol.model_dump(), **updates})
        except ValueError as err:
            raise ConfigError(f"invalid policy option(s): {err}") from err
    names_now = [r.model.name for r in loaded]
    inc_name = pol.incumbent or names_now[0]
    if inc_name not in names_now:
        raise ConfigError(f"incumbent {inc_name!r} is not among the compared checkpoints: "
                          f"{', '.join(names_now)}")
    inc = names_now.index(inc_name)
    first = loaded[0]
    boot = resampling if resampling is not None else first.bootstrap.model_copy(update={
        # A file from an earlier protocol recorded that protocol's default, not a choice.
        "method": first.bootstrap.method if first.protocol == PROTOCOL_VERSION
        else "studentized"})
    rs = Resampling(
        n_resamples=boot.n_resamples if n_resamples is None else n_resamples,
        seed=boot.seed if seed is None else seed,
        method=boot.method if method is None else method,
        confidence=boot.confidence if confidence is None else confidence,
        clusters=boot.clusters,
    )
    keep = [i for i in range(first.testset.n)
            if all(r.rows[i].outcome is not None for r in loaded)]
    views = [CheckpointRows.of(r, keep) for r in loaded]
    summaries = [_checkpoint(r, v, pol, rs).model_copy(update={"results_file": f})
                 for r, v, f in zip(loaded, views, files)]
    metric_maps = [{**{k: getattr(s.metrics, k) for k in METRIC_BY_NAME},
                    "safety_cost": s.safety_cost} for s in summaries]

    candidates = [i for i in range(len(loaded)) if i != inc]
    raw = [pair_claims(views[inc], views[i], pol, rs=rs) for i in candidates]
    adjusted = adjust_levels(raw, [(views[inc], views[i]) for i in candidates], pol, rs)

    if pairs == "adjacent":
        extra = [(i, i + 1) for i in range(len(loaded) - 1)]
    elif pairs == "baseline":
        extra = []
    elif pairs == "all":
        extra = list(combinations(range(len(loaded)), 2))
    else:
        raise ConfigError(f"pairs must be all, adjacent or baseline, got {pairs!r}")
    index_pairs = [(inc, i) for i in candidates] + [
        p for p in extra if inc not in p]
    beta = first.metrics.beta
    pair_results: list[PairComparison] = []
    for k, (ia, ib) in enumerate(index_pairs):
        deltas = pair_deltas(views[ia], views[ib], metric_maps[ia], metric_maps[ib], pol, rs, beta)
        if k < len(candidates):
            claims = adjusted[k]
            status = pair_status(claims)
            verdict = pair_verdict(names_now[ia], names_now[ib], status, claims)
        else:
            claims, status = [], None
            verdict = (f"{names_now[ib]} against {names_now[ia]}: descriptive only (neither is the "
                       "incumbent), unadjusted intervals, no test.")
        pair_results.append(PairComparison(a=names_now[ia], b=names_now[ib], n=len(keep),
                                           claims=claims, status=status, deltas=deltas,
                                           verdict=verdict))
    costs = {s.name: s.safety_cost for s in summaries}
    decision, deploy, text = recommend(inc_name, pair_results[:len(candidates)], costs,
                                        len(keep))
    text += unvalidated_judge(first)
    notes.append(calibration_note(first))
    noise = judge_noise_note(adjusted, all(r.judge.panel is not None for r in loaded))
    if noise:
        notes.append(noise)
    cmp = Comparison(
        fingerprint=_fingerprint(loaded, pol, rs, inc_name),
        testset=first.testset.name, testset_sha256=first.testset.sha256,
        protocol=PROTOCOL_VERSION, judge=first.judge.spec, safety_truth=first.safety_truth,
        resampling=rs, policy=pol, policy_summary=pol.summary(inc_name), incumbent=inc_name,
        checkpoints=summaries, pairs=pair_results, decision=decision, deploy=deploy,
        recommendation=text, notes=notes,
    )
    if pairwise_judge is not None:
        from .pairwise import pairwise

        cmp.pairwise = pairwise(loaded, [(inc, i) for i in candidates], pairwise_judge,
                                alpha=pol.alpha, judge_options=pairwise_options)
        cmp.schema_version = "domainyours-comparison/3"
    cmp._results = loaded
    return cmp
