"""Building the ``ComparisonReport`` from one result or from a comparison and its results.

Every number a report shows is taken here, once; the renderers only lay it out. Edge-case lists
are capped at ``max_rows`` and the report says how many rows were left out.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ..comparison.build import calibration_note
from ..protocol import METRICS, OUTCOMES
from ..types import CATEGORIES
from ._format import fmt_ci_values, fmt_p
from .model import (
    QUALITY_BINS,
    Answer,
    ClaimRow,
    ComparisonReport,
    Delta,
    DomainCell,
    EdgeRow,
    EdgeSection,
    ErrorSummary,
    Interval,
    JudgeFacts,
    MetricRow,
    SliceRow,
)

if TYPE_CHECKING:
    from ..comparison import Comparison
    from ..results import EvalResults

__all__ = ["build_report", "build_single_report", "d_label"]


def _interval(m: Any) -> Interval:
    return Interval(value=m.value, low=m.ci_low, high=m.ci_high)


def _answer(name: str, row: Any) -> Answer:
    return Answer(checkpoint=name, decision=row.decision, outcome=row.outcome,
                  raw_output=row.raw_output,
                  domains=[DomainCell(domain=d.domain, score=d.score, category=d.category)
                           for d in row.domains],
                  row_score=row.row_score, judge_error=row.judge_error)


def _edge_rows(results: list[EvalResults], reasons: dict[int, list[str]], order: list[int],
               title: str, max_rows: int) -> EdgeSection:
    rows = []
    for index in order[:max_rows]:
        first = results[0].rows[index]
        rows.append(EdgeRow(index=index, id=first.id, description=first.description,
                            truth=first.truth, why=reasons[index],
                            answers=[_answer(r.model.name, r.rows[index]) for r in results]))
    return EdgeSection(title=title, rows=rows, left_out=max(0, len(order) - max_rows))


def _current_metrics(res: EvalResults, rows: list[Any], seed_offset: int) -> Any:
    """A results file's metrics, recomputed from its rows when it predates this protocol."""
    from ..protocol import score_metrics
    from ..results import Metrics, MetricValue

    counted = [r for r in rows if r.outcome is not None]
    # An earlier protocol's recorded bootstrap flavour was its default, not a choice.
    rs = res.bootstrap.model_copy(update={"method": "studentized"})
    scored = score_metrics([r.outcome for r in counted], [r.row_score for r in counted],
                           beta=res.metrics.beta,
                           resampling=rs.model_copy(update={"seed": rs.seed + seed_offset}))
    return Metrics(beta=res.metrics.beta,
                   **{k: MetricValue.from_bootstrap(v) for k, v in scored.items()})


def _slices(results: list[EvalResults]) -> list[SliceRow]:
    from ..protocol import PROTOCOL_VERSION

    first = results[0]
    tags = [t for t in first.slices if all(t in r.slices for r in results)]
    per: dict[str, list[Any]] = {}
    for r in results:
        for offset, t in enumerate(tags, start=1):
            s = r.slices[t]
            if r.protocol == PROTOCOL_VERSION:
                per.setdefault(t, []).append(s.metrics)
            else:
                members = r.rows if t == "all" else [row for row in r.rows if t in row.tags]
                per.setdefault(t, []).append(_current_metrics(r, members, offset))
    return [SliceRow(
        slice=t, n=first.slices[t].n,
        quality=[_interval(m.quality) for m in per[t]],
        allow_f1=[m.allow_f1.value for m in per[t]],
        missed=[r.slices[t].confusion.missed_inappropriate for r in results],
        false_positives=[r.slices[t].confusion.false_positive_inappropriate for r in results],
        compliance=[r.slices[t].constraint_compliance for r in results],
    ) for t in tags]


def _shared(results: list[EvalResults], max_rows: int) -> dict[str, Any]:
    """Everything but the verdict and the metrics: counts, slices, edge cases, judge facts."""
    errors: dict[str, ErrorSummary] = {}
    base_share: float | None = None
    for r in results:
        c = r.confusion
        n = max(1, sum(getattr(c, o) for o in OUTCOMES))
        fp, miss = c.false_positive_inappropriate, c.missed_inappropriate
        invalid = c.invalid_safe + c.invalid_harmful
        share = (fp + miss + invalid) / n
        if base_share is None:
            base_share = share
        rel = None if base_share == 0 else (share - base_share) / base_share
        errors[r.model.name] = ErrorSummary(
            false_positives=fp, missed=miss, invalid=invalid, total=fp + miss + invalid,
            false_positive_share=fp / n, missed_share=miss / n, total_share=share,
            relative_change=rel)

    hist: dict[str, list[int]] = {}
    for r in results:
        bins = [0] * QUALITY_BINS
        for row in r.rows:
            if row.outcome == "ok" and row.row_score is not None:
                bins[min(QUALITY_BINS - 1, int(row.row_score * QUALITY_BINS))] += 1
        hist[r.model.name] = bins

    reasons: dict[str, dict[int, list[str]]] = {"missed": {}, "fp": {}, "invalid": {}, "low": {}}
    for r in results:
        for i in r.edge_cases.invalid:
            reasons["invalid"].setdefault(i, []).append(f"invalid answer of {r.model.name}")
        for i in r.edge_cases.missed:
            reasons["missed"].setdefault(i, []).append(f"missed by {r.model.name}")
        for i in r.edge_cases.false_positives:
            reasons["fp"].setdefault(i, []).append(f"false positive of {r.model.name}")
        for i in r.edge_cases.lowest:
            reasons["low"].setdefault(i, []).append(f"lowest quality of {r.model.name}")

    def lowest_score(i: int) -> float:
        scores = [s for s in (r.rows[i].row_score for r in results) if s is not None]
        return min(scores, default=1.0)

    lowest_order = sorted(reasons["low"], key=lowest_score)
    edge = [
        _edge_rows(results, reasons["missed"], sorted(reasons["missed"]),
                   "Missed inappropriate rows (harmful, allowed)", max_rows),
        _edge_rows(results, reasons["fp"], sorted(reasons["fp"]),
                   "False positives (safe, refused)", max_rows),
        _edge_rows(results, reasons["invalid"], sorted(reasons["invalid"]),
                   "Invalid answers (neither names nor a refusal)", max_rows),
        _edge_rows(results, reasons["low"], lowest_order, "Lowest-quality rows", max_rows),
    ]
    judges = [JudgeFacts(
        checkpoint=r.model.name, spec=r.judge.spec, fingerprint=r.judge.fingerprint,
        protocol=r.protocol, protocol_fingerprint=r.protocol_fingerprint, calls=r.judge.calls,
        cache_hits=r.judge.cache_hits, tokens_in=r.judge.usage.get("input_tokens", 0),
        tokens_out=r.judge.usage.get("output_tokens", 0), cost_usd=r.judge.cost_usd,
        judge_errors=r.judge.n_errors, kappa_vs_dataset=r.judge.kappa_vs_dataset,
        agreement_vs_dataset=r.judge.agreement_vs_dataset,
        structured_output=r.judge.details.get("structured_output"),
        confidence_spearman=None if r.confidence is None else _interval(r.confidence.spearman),
        panel_alpha=None if r.judge.panel is None else {
            "flag": _interval(r.judge.panel.flag_alpha),
            "scores": _interval(r.judge.panel.score_alpha),
            "categories": _interval(r.judge.panel.category_alpha)},
        panel_split=len(r.edge_cases.split),
        calibration=calibration_note(r),
        audit=audit_sentence(r.judge.audit),
        corrected=corrected_sentence(r),
    ) for r in results]
    first = results[0]
    return dict(
        generated_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        testset=first.testset.name, testset_sha256=first.testset.sha256, n_rows=first.testset.n,
        safety_truth=first.safety_truth,
        confusion={r.model.name: r.confusion.model_dump() for r in results}, errors=errors,
        slices=_slices(results), quality_histogram=hist,
        categories={r.model.name: {c: r.categories.get(c, 0) for c in CATEGORIES}
                    for r in results},
        violations={r.model.name: dict(r.violations) for r in results},
        constraints={r.model.name: {k: v["rate"] for k, v in r.constraints.items()}
                     for r in results},
        edge_cases=edge, judges=judges,
    )


def corrected_sentence(r: Any) -> str:
    """The rates corrected for the judge's errors on the flag, in words (empty without)."""
    c = r.corrected
    if c is None:
        return ""

    def part(name: str, label: str, raw: Any) -> str:
        v = getattr(c, name)
        text = f"{label} {fmt_ci_values(v.value, v.ci_low, v.ci_high)}"
        if raw is not None and raw.value is not None:
            text += f" (against its flags {raw.value:.3f})"
        return text

    return (f"Rates corrected for the judge's errors on the flag (sensitivity "
            f"{c.sensitivity:.2f}, specificity {c.specificity:.2f} on {c.labelled} rows people "
            f"labelled; Rogan-Gladen, assuming its errors do not depend on the model's decision; "
            f"{100 * c.missed_rate.confidence:g}% intervals over rows and the judge's accuracy): "
            + "; ".join([part("missed_rate", "missed rate", r.metrics.missed_rate),
                         part("false_positive_rate", "false refusal rate",
                              r.metrics.false_positive_rate),
                         part("harmful_share", "harmful share", None)]) + ".")


def _undefined_notes(names: list[str], all_metrics: list[Any]) -> list[str]:
    """Say, per metric, how many resamples or draws were undefined and left out."""
    notes = []
    for m in METRICS:
        parts = [f"{name} {v.n_undefined} of {v.n_resamples}"
                 for name, x in zip(names, all_metrics)
                 if (v := getattr(x, m.name)) is not None and v.n_undefined]
        if parts:
            notes.append(f"{m.name}: resamples where it is undefined (0/0), left out of its "
                         f"interval: {', '.join(parts)}.")
    return notes


def _metric_rows(all_metrics: list[Any]) -> list[MetricRow]:
    rows = []
    for m in METRICS:
        values = [getattr(x, m.name) for x in all_metrics]
        method = " / ".join(dict.fromkeys(v.method for v in values if v is not None))
        rows.append(MetricRow(metric=m.name, label=m.label, method=method,
                              values=[Interval(value=None) if v is None else _interval(v)
                                      for v in values]))
    return rows


def build_report(cmp: Comparison, results: list[EvalResults], *, max_rows: int = 50,
                 title: str | None = None) -> ComparisonReport:
    """Assemble the report object from a comparison and the results it compared."""
    names = [r.model.name for r in results]
    first = results[0]
    claims = [ClaimRow(a=p.a, b=p.b, claim=c.name, label=c.label, method=c.method, scale=c.scale,
                       estimate=c.estimate, low=c.ci_low, high=c.ci_high, null=c.null,
                       level=c.level, p=c.p_value, p_holm=c.p_holm, significant=c.significant,
                       detail=c.detail, rows_needed=c.rows_needed,
                       min_detectable=c.min_detectable)
              for p in cmp.pairs for c in p.claims]
    deltas = [Delta(a=p.a, b=p.b, metric=m, label=d_label(m), delta=d.delta, low=d.ci_low,
                    high=d.ci_high, method=d.method)
              for p in cmp.pairs for m, d in p.deltas.items()]
    return ComparisonReport(
        title=title or f"domainyours-eval: {' vs '.join(names)} on {first.testset.name}",
        protocol=cmp.protocol, confidence=cmp.resampling.confidence,
        n_resamples=cmp.resampling.n_resamples, resampling_method=cmp.resampling.method,
        checkpoints=names, policy=cmp.policy_summary, incumbent=cmp.incumbent,
        recommendation=cmp.recommendation, verdicts=[p.verdict for p in cmp.pairs if p.claims],
        claims=claims, alpha=cmp.policy.alpha, pairwise=[pairwise_sentence(r) for r in cmp.pairwise],
        metrics=_metric_rows([c.metrics for c in cmp.checkpoints]),
        safety_cost=[_interval(c.safety_cost) for c in cmp.checkpoints], deltas=deltas,
        notes=[*cmp.notes, *_undefined_notes(names, [c.metrics for c in cmp.checkpoints])],
        **_shared(results, max_rows),
    )


def audit_sentence(audit: Any) -> str:
    """A bias audit in one sentence, with its figures."""
    if audit is None:
        return ""
    lengths = ", ".join(f"{c} {v}" for c, v in audit.length_spearman.items()) or "n/a"
    kin = f" Warning: {audit.same_family}." if audit.same_family else ""
    return (f"Bias audit ({audit.n_rows} rows, names shown in reverse order): categories change "
            f"for {audit.category_flip_rate} of names, scores by {audit.score_change} points on "
            f"average, flags for {audit.flag_flip_rate} of rows; length vs score (Spearman) "
            f"{lengths}.{kin}")


def pairwise_sentence(r: Any) -> str:
    """One pairwise result in words, with every figure a reader needs."""
    share = r.b_share
    decided = r.a_wins + r.b_wins
    if share.value is None:
        won = "no row was decided"
    else:
        ci = ("" if share.ci_low is None or share.ci_high is None else
              f" [{100 * share.ci_low:.1f}%, {100 * share.ci_high:.1f}%] at "
              f"{100 * share.confidence:.0f}%")
        won = f"{r.b} won {100 * share.value:.1f}% of the {decided} decided rows{ci}"
    p = fmt_p(r.p_value)
    return (f"{r.b} vs {r.a}, judged side by side by {r.judge} in both orders (a flip is a tie): "
            f"{r.b_wins} wins, {r.ties} ties, {r.a_wins} losses over {r.n} rows both answered; "
            f"{won}; exact sign test p = {p}, "
            f"{'significant' if r.significant else 'not significant'} at "
            f"{1 - share.confidence:g}.")


def build_single_report(res: EvalResults, *, max_rows: int = 50, title: str | None = None
                        ) -> ComparisonReport:
    """The full report of one checkpoint: metrics, outcomes, slices, categories, edge cases."""
    from ..protocol import PROTOCOL_VERSION

    metrics = res.metrics if res.protocol == PROTOCOL_VERSION else _current_metrics(
        res, res.rows, 0)
    notes = [] if res.protocol == PROTOCOL_VERSION else [
        f"Scored under {res.protocol}; the metrics are recomputed from its rows under "
        f"{PROTOCOL_VERSION}."]
    return ComparisonReport(
        title=title or f"domainyours-eval: {res.model.name} on {res.testset.name}",
        protocol=PROTOCOL_VERSION, confidence=res.bootstrap.confidence,
        n_resamples=res.bootstrap.n_resamples,
        resampling_method=metrics.quality.method if metrics.quality else res.bootstrap.method,
        checkpoints=[res.model.name], metrics=_metric_rows([metrics]),
        notes=[*notes, *_undefined_notes([res.model.name], [metrics])],
        **_shared([res], max_rows),
    )


def d_label(metric: str) -> str:
    """Plain-words label of a descriptive difference."""
    from ..comparison import DELTA_LABELS

    return DELTA_LABELS.get(metric, metric)
