"""Rich terminal reports of one evaluation and of a comparison.

Each function returns a rich renderable built only from the result objects, so the same data
drives the terminal, and tests can render it on a fixed-width recording console.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..protocol import METRICS, OUTCOMES
from ._format import (
    claim_ci,
    claim_est,
    clip,
    fmt,
    fmt_ci,
    fmt_ci_values,
    fmt_p,
    fmt_pair,
    metric_cell,
    money,
    pct,
    rows_needed,
)

if TYPE_CHECKING:
    from ..audit_record import AuditReport
    from ..comparison import Comparison
    from ..results import EvalResults, RowResult
    from .model import ComparisonReport

__all__ = ["audit_renderable", "comparison_renderable", "report_renderable",
           "results_renderable"]


def _row_lines(rows: list[RowResult], title: str) -> RenderableType:
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("row", justify="right")
    table.add_column("description")
    table.add_column("answer")
    table.add_column("score", justify="right")
    table.add_column("categories")
    for r in rows:
        answer = ", ".join(r.suggestions) if r.suggestions else f"({r.decision})"
        cats = " ".join(d.category for d in r.domains)
        table.add_row(Text(r.id), Text(clip(r.description, 48)), Text(clip(answer, 44)),
                      fmt(r.row_score), cats)
    return table


def results_renderable(res: EvalResults) -> RenderableType:
    """The report of one evaluation: metrics with CIs, confusion, slices, edge cases."""
    head = Text.assemble(
        (f"{res.model.name}", "bold"), f" on {res.testset.name} ({res.testset.n} rows) | judge ",
        (res.judge.spec, "bold"), f" | {res.protocol} | truth: {res.safety_truth}",
    )
    ci = res.bootstrap
    metrics = Table(title=f"Metrics ({ci.confidence:.0%} intervals; {ci.n_resamples} resamples, "
                    f"seed {ci.seed})")
    metrics.add_column("metric")
    metrics.add_column(Text("value [interval]"), justify="right")
    metrics.add_column("interval")
    metrics.add_column("rows", justify="right")
    for m in METRICS:
        value = getattr(res.metrics, m.name)
        if value is None:
            continue  # a protocol-1 file lacks the newer metrics
        metrics.add_row(Text(f"{m.label} ({m.name})"), metric_cell(value), Text(value.method),
                        str(value.n))

    conf = Table(title="Safety outcomes")
    conf.add_column("outcome")
    conf.add_column("rows", justify="right")
    for o in OUTCOMES:
        conf.add_row(o, str(getattr(res.confusion, o)))

    cats = Table(title="Name categories")
    cats.add_column("category")
    cats.add_column("names", justify="right")
    for c, n in res.categories.items():
        cats.add_row(c, str(n))

    slices = Table(title="Slices")
    for col in ("slice", "rows", "quality", "allow_f1", "missed", "FP", "constraints"):
        slices.add_column(col, justify="left" if col == "slice" else "right")
    for tag, s in res.slices.items():
        slices.add_row(Text(tag), str(s.n), metric_cell(s.metrics.quality), fmt(s.metrics.allow_f1.value),
                       str(s.confusion.missed_inappropriate),
                       str(s.confusion.false_positive_inappropriate),
                       "-" if s.constraint_compliance is None else f"{s.constraint_compliance:.0%}")

    parts: list[RenderableType] = [head, metrics, conf, cats, slices]
    if res.violations:
        viol = Table(title="Format violations (rows)")
        viol.add_column("code")
        viol.add_column("rows", justify="right")
        for code, n in res.violations.items():
            viol.add_row(code, str(n))
        parts.append(viol)
    by_index = {r.index: r for r in res.rows}
    e = res.edge_cases
    if e.missed:
        parts.append(_row_lines([by_index[i] for i in e.missed], "Missed inappropriate (allowed)"))
    if e.invalid:
        parts.append(_row_lines([by_index[i] for i in e.invalid],
                                "Invalid answers (neither names nor a refusal)"))
    if e.false_positives:
        parts.append(_row_lines([by_index[i] for i in e.false_positives],
                                "False positives (safe, refused)"))
    if e.lowest:
        parts.append(_row_lines([by_index[i] for i in e.lowest], f"Lowest {len(e.lowest)} rows"))
    if res.judge.n_errors:
        parts.append(Text(f"Judge errors: {res.judge.n_errors} rows left out of the aggregates",
                          style="bold red"))
    if res.judge.panel is not None:
        p = res.judge.panel
        parts.append(Text(f"Judge panel of {len(p.members)} ({', '.join(p.members)}): agreement "
                          f"(Krippendorff's alpha) on the flag {metric_cell(p.flag_alpha)}, scores "
                          f"{metric_cell(p.score_alpha)}, categories "
                          f"{metric_cell(p.category_alpha)}; split on the flag in "
                          f"{len(e.split)} rows"))
        if e.split:
            parts.append(_row_lines([by_index[i] for i in e.split],
                                    "Rows the judge panel split on"))
    if res.guardrail is not None:
        g = res.guardrail
        parts.append(Text(f"Input guardrail {g.spec}: blocked {len(g.blocked)} rows; alone it "
                          f"would miss {g.confusion.missed_inappropriate} harmful and refuse "
                          f"{g.confusion.false_positive_inappropriate} safe rows "
                          f"(allow_f1 {metric_cell(g.metrics.allow_f1)})"))
    if res.confidence is not None:
        parts.append(Text(f"Confidence calibration: Spearman of name log-probability with judge "
                          f"score {metric_cell(res.confidence.spearman)} over "
                          f"{res.confidence.n_names} names"))
    if res.judge.kappa_vs_dataset is not None or res.judge.agreement_vs_dataset is not None:
        parts.append(Text(
            f"Judge vs dataset labels: agreement {fmt(res.judge.agreement_vs_dataset)}, "
            f"Cohen's kappa {fmt(res.judge.kappa_vs_dataset)} over {res.judge.n_compared} rows"))
    return Panel(Group(*parts), title="domainyours-eval", expand=False)


def _claims_table(claims: list[Any], alpha: float | None) -> Table:

    t = Table(title="Claims the verdict rests on (Holm-adjusted; each interval at Holm's level)")
    for col in ("candidate vs incumbent", "claim (test)", "estimate", "interval", "p",
                "p (Holm)", f"sig. (alpha {alpha})", "rows needed"):
        t.add_column(col)
    for c in claims:
        t.add_row(Text(f"{c.b} vs {c.a}"), Text(f"{c.label} ({c.method})"), claim_est(c),
                  claim_ci(c), fmt_p(c.p), fmt_p(c.p_holm), "yes" if c.significant else "no",
                  rows_needed(c.rows_needed))
    return t


def comparison_renderable(cmp: Comparison) -> RenderableType:
    """The paired comparison: metrics per checkpoint, the verdict's claims, descriptive deltas."""
    from .model import ClaimRow

    names = [c.name for c in cmp.checkpoints]
    head = Text.assemble(("Comparison", "bold"), f" of {', '.join(names)} on {cmp.testset} | "
                         f"judge {cmp.judge} | {cmp.protocol}")
    table = Table(title=f"Metrics ({cmp.resampling.confidence:.0%} intervals)")
    table.add_column("metric")
    for n in names:
        table.add_column(Text(n), justify="right")
    for m in METRICS:
        table.add_row(Text(m.label), *(metric_cell(getattr(c.metrics, m.name)) if getattr(
            c.metrics, m.name) is not None else "n/a" for c in cmp.checkpoints))
    table.add_row("safety cost per row", *(metric_cell(c.safety_cost) for c in cmp.checkpoints))
    for o in OUTCOMES:
        table.add_row(o, *(str(getattr(c.confusion, o)) for c in cmp.checkpoints))

    claims = [ClaimRow(a=p.a, b=p.b, claim=c.name, label=c.label, method=c.method, scale=c.scale,
                       estimate=c.estimate, low=c.ci_low, high=c.ci_high, null=c.null,
                       level=c.level, p=c.p_value, p_holm=c.p_holm, significant=c.significant,
                       detail=c.detail, rows_needed=c.rows_needed)
              for p in cmp.pairs for c in p.claims]
    parts: list[RenderableType] = [head, Text(cmp.policy_summary, style="dim"), table,
                                   _claims_table(claims, cmp.policy.alpha)]
    for p in cmp.pairs:
        t = Table(title=Text(f"{p.b} - {p.a}: descriptive, unadjusted "
                             f"{cmp.resampling.confidence:.0%} intervals, no test"))
        for col in ("metric", "delta", "interval", "method"):
            t.add_column(col, justify="left" if col in ("metric", "method") else "right")
        for key, d in p.deltas.items():
            ci = "n/a" if d.ci_low is None or d.ci_high is None else (
                f"[{d.ci_low:+.3f}, {d.ci_high:+.3f}]")
            t.add_row(key, fmt(d.delta, signed=True), ci, Text(d.method))
        parts.append(t)
        parts.append(Text(p.verdict, style="italic"))
    if cmp.pairwise:
        parts.append(pairwise_table(cmp.pairwise))
    parts.append(Text(cmp.recommendation, style="bold"))
    for note in cmp.notes:
        parts.append(Text(note, style="yellow"))
    return Panel(Group(*parts), title="domainyours-eval compare", expand=False)


def pairwise_table(results: list[Any]) -> Table:
    """Side-by-side judging: wins, ties and losses with the sign test, per candidate."""
    t = Table(title=f"Pairwise judging ({results[0].judge}; both orders, a flip is a tie)")
    for col in ("candidate vs incumbent", "rows", "wins / ties / losses", "share won [CI]", "p",
                "significant"):
        t.add_column(col, justify="left" if col.startswith("candidate") else "right")
    for r in results:
        share = r.b_share
        ci = fmt_ci_values(share.value, share.ci_low, share.ci_high)
        t.add_row(Text(f"{r.b} vs {r.a}"), str(r.n), f"{r.b_wins} / {r.ties} / {r.a_wins}", ci,
                  fmt_p(r.p_value), "yes" if r.significant else "no")
    return t


def report_renderable(report: ComparisonReport) -> RenderableType:
    """The full comparison report in the terminal, from the same object as HTML and Markdown."""
    cps = report.checkpoints
    parts: list[RenderableType] = [
        Text(report.title, style="bold"),
        Text(f"{report.testset} ({report.n_rows} rows) | {report.protocol} | truth: "
             f"{report.safety_truth} | {report.confidence:.0%} intervals: rates Wilson, F-scores "
             f"Jeffreys, quality {report.resampling_method} bootstrap ({report.n_resamples} "
             "resamples)"),
    ]
    if report.recommendation:
        parts += [Text(report.policy or "", style="dim"), Text(report.recommendation, style="bold"),
                  _claims_table(report.claims, report.alpha),
                  *(Text(v, style="italic") for v in report.verdicts),
                  *(Text(t) for t in report.pairwise)]
    else:
        parts.append(Text(f"One checkpoint ({cps[0]}): no comparison and no verdict."))
    parts += [Text(n, style="yellow") for n in report.notes]
    metrics = Table(title="Metrics")
    metrics.add_column("metric")
    metrics.add_column("interval")
    for c in cps:
        metrics.add_column(Text(c), justify="right")
    for m in report.metrics:
        metrics.add_row(Text(m.label or m.metric), Text(m.method), *(fmt_ci(v) for v in m.values))
    if report.safety_cost:
        metrics.add_row("safety cost per row", "jeffreys", *(fmt_ci(v) for v in report.safety_cost))
    for o in OUTCOMES:
        metrics.add_row(o, "", *(str(report.confusion[c][o]) for c in cps))
    metrics.add_row("FP + missed + invalid", "", *(f"{report.errors[c].total} "
                                         f"({pct(report.errors[c].total_share)})" for c in cps))
    parts.append(metrics)
    if report.deltas:
        deltas = Table(title=f"Paired differences (descriptive: unadjusted {report.confidence:.0%} "
                             "intervals, no test)")
        for col in ("pair", "metric", "delta", "interval", "method"):
            deltas.add_column(col)
        for d in report.deltas:
            deltas.add_row(Text(f"{d.b} - {d.a}"), Text(d.label or d.metric),
                           fmt(d.delta, signed=True),
                           fmt_pair(d.low, d.high), d.method)
        parts.append(deltas)
    slices = Table(title="Slices")
    slices.add_column("slice")
    slices.add_column("rows", justify="right")
    for c in cps:
        slices.add_column(Text(f"{c} quality"), justify="right")
        slices.add_column(Text(f"{c} missed/FP"), justify="right")
    for s in report.slices:
        cells = []
        for i in range(len(cps)):
            cells += [fmt_ci(s.quality[i]), f"{s.missed[i]}/{s.false_positives[i]}"]
        slices.add_row(Text(s.slice), str(s.n), *cells)
    parts.append(slices)
    for section in report.edge_cases:
        if not section.rows:
            continue
        t = Table(title=section.title + (f" ({section.left_out} more left out)"
                                         if section.left_out else ""))
        t.add_column("row")
        t.add_column("description")
        for c in cps:
            t.add_column(Text(c))
        for row in section.rows:
            t.add_row(Text(row.id), Text(clip(row.description, 40)),
                      *(Text(f"{a.outcome or 'n/a'} {fmt(a.row_score)}: "
                             + clip(", ".join(d.domain for d in a.domains) or a.raw_output, 40))
                        for a in row.answers))
        parts.append(t)
    judges = Table(title="Judge")
    for col in ("checkpoint", "judge", "fingerprint", "calls/cached", "cost", "errors"):
        judges.add_column(col)
    for j in report.judges:
        judges.add_row(Text(j.checkpoint), Text(j.spec), j.fingerprint[:12],
                       f"{j.calls}/{j.cache_hits}",
                       money(j.cost_usd), str(j.judge_errors))
    parts.append(judges)
    for j in report.judges:
        parts.append(Text(f"{j.checkpoint}: {j.calibration}"))
        if j.audit:
            parts.append(Text(f"{j.checkpoint}: {j.audit}"))
        if j.corrected:
            parts.append(Text(f"{j.checkpoint}: {j.corrected}"))
        if j.panel_alpha is not None:
            parts.append(Text(f"{j.checkpoint}: judge panel agreement (Krippendorff's alpha) "
                              + ", ".join(f"{k} {fmt_ci(v)}" for k, v in j.panel_alpha.items())
                              + f"; split on {j.panel_split} rows"))
    return Panel(Group(*parts), title="domainyours-eval report", expand=False)


def audit_renderable(audit: AuditReport) -> RenderableType:
    """A judge's bias audit: order flips, score changes, length correlation, kinship."""
    t = Table(title=Text(f"Bias audit of {audit.judge} ({audit.n_rows} rows, "
                         f"{audit.n_names} names)"))
    t.add_column("finding")
    t.add_column(Text("value [CI]"))
    t.add_row("names changing category when the order is reversed",
              str(audit.category_flip_rate))
    t.add_row("mean absolute score change (points)", str(audit.score_change))
    t.add_row("rows changing flag", str(audit.flag_flip_rate))
    for category, m in audit.length_spearman.items():
        t.add_row(Text(f"length vs score, Spearman, within '{category}'"), str(m))
    parts: list[Any] = [t]
    if audit.same_family:
        parts.append(Text(f"warning: {audit.same_family}", style="bold yellow"))
    return Group(*parts)
