"""The report as Markdown, from the same ``ComparisonReport`` the HTML page uses.

Model text is made table-safe: pipes and newlines are escaped, and HTML-significant characters
are written as entities, so a pasted report cannot inject markup into a pull request or a card.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..protocol import OUTCOMES
from ..types import CATEGORIES
from ._format import claim_ci, claim_est, fmt, fmt_ci, fmt_p, fmt_pair, money, pct, rows_needed

if TYPE_CHECKING:
    from .model import ComparisonReport

__all__ = ["render_markdown"]


def _cell(text: object) -> str:
    s = html.escape(str(text), quote=False)
    return s.replace("|", "\\|").replace("\n", " ").replace("`", "\\`")


def _table(head: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    out.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return out + [""]


def render_markdown(r: ComparisonReport) -> str:
    """Render the report as GitHub-flavoured Markdown."""
    cps = r.checkpoints
    lines = [f"# {_cell(r.title)}", "",
             f"Test set `{_cell(r.testset)}` ({r.n_rows} rows), protocol {r.protocol}, truth: "
             f"{r.safety_truth}; {r.confidence:.0%} intervals: rates Wilson, F-scores Jeffreys, "
             f"quality {r.resampling_method} bootstrap stratified by truth class "
             f"({r.n_resamples} resamples).", ""]
    if r.recommendation:
        lines += ["## Verdict", "", f"_Decision policy._ {_cell(r.policy)}", "",
                  f"**{_cell(r.recommendation)}**", ""]
        lines += _table(
            ["candidate vs incumbent", "claim", "estimate", "interval at Holm's level", "test",
             "p", "p (Holm)", f"significant (Holm, alpha {r.alpha})", "rows needed (80% power)"],
            [[f"{c.b} vs {c.a}", f"{c.label}: {c.detail}", f"{claim_est(c)} ({c.scale})",
              claim_ci(c), c.method, fmt_p(c.p), fmt_p(c.p_holm),
              "yes" if c.significant else "no", rows_needed(c.rows_needed)] for c in r.claims])
        lines += [f"- {_cell(v)}" for v in r.verdicts]
        if r.pairwise:
            lines += ["", "### Pairwise judging", ""] + [f"- {_cell(t)}" for t in r.pairwise]
    else:
        lines += [f"One checkpoint ({_cell(cps[0])}): no comparison and no verdict.", ""]
    lines += [f"- _{_cell(n)}_" for n in r.notes] + [""]
    lines += ["## Metrics", ""]
    metric_rows: list[list[object]] = [[f"{m.label or m.metric} ({m.metric})", m.method,
                                        *(fmt_ci(v) for v in m.values)] for m in r.metrics]
    if r.safety_cost:
        metric_rows.append(["safety cost per row (policy costs)", "jeffreys",
                            *(fmt_ci(v) for v in r.safety_cost)])
    lines += _table(["metric", "interval", *cps], metric_rows)
    if r.deltas:
        lines += ["## Paired differences (descriptive)", "",
                  f"Unadjusted {r.confidence:.0%} intervals of b - a, no significance test: the "
                  "verdict uses only the claims above.", ""]
        lines += _table(["pair", "metric", "delta", f"{r.confidence:.0%} interval", "method"],
                        [[f"{d.b} - {d.a}", d.label or d.metric, fmt(d.delta, signed=True),
                          fmt_pair(d.low, d.high), d.method] for d in r.deltas])
    lines += ["## Safety outcomes", ""]
    rows: list[list[object]] = [[o, *(r.confusion[c][o] for c in cps)] for o in OUTCOMES]
    rows.append(["FP + missed + invalid (share)", *(f"{r.errors[c].total} ({pct(r.errors[c].total_share)})"
                                          for c in cps)])
    rows.append([f"relative change vs {cps[0]}",
                 *(pct(r.errors[c].relative_change, signed=True) for c in cps)])
    lines += _table(["outcome", *cps], rows)
    lines += ["## Slices", ""]
    lines += _table(["slice", "rows", *(f"{c} quality" for c in cps), *(f"{c} missed/FP" for c in cps)],
                    [[s.slice, s.n, *(fmt_ci(q) for q in s.quality),
                      *(f"{m}/{f}" for m, f in zip(s.missed, s.false_positives))]
                     for s in r.slices])
    lines += ["## Name categories", ""]
    lines += _table(["category", *cps], [[k, *(r.categories[c][k] for c in cps)]
                                         for k in CATEGORIES])
    for section in r.edge_cases:
        lines += [f"## {_cell(section.title)}", ""]
        if not section.rows:
            lines += ["None.", ""]
        for row in section.rows:
            lines += [f"**Row {_cell(row.id)}** (truth {row.truth}; {_cell(', '.join(row.why))}): "
                      f"{_cell(row.description)}", ""]
            lines += _table(["checkpoint", "decision", "outcome", "score", "names"],
                            [[a.checkpoint, a.decision, a.outcome or "n/a", fmt(a.row_score),
                              ", ".join(f"{d.domain} ({d.category})" for d in a.domains)
                              or a.raw_output[:120]] for a in row.answers])
        if section.left_out:
            lines += [f"_{section.left_out} more rows left out._", ""]
    lines += ["## Judge", ""]
    lines += _table(["checkpoint", "judge", "fingerprint", "calls/cached", "cost", "judge errors",
                     "kappa vs labels", "confidence Spearman"],
                    [[j.checkpoint, j.spec, j.fingerprint[:16], f"{j.calls}/{j.cache_hits}",
                      money(j.cost_usd), j.judge_errors, fmt(j.kappa_vs_dataset),
                      fmt_ci(j.confidence_spearman) if j.confidence_spearman else "-"]
                     for j in r.judges])
    lines += [""] + [f"- {j.checkpoint}: {j.calibration}" for j in r.judges]
    lines += [f"- {j.checkpoint}: {_cell(j.audit)}" for j in r.judges if j.audit]
    lines += [f"- {j.checkpoint}: {_cell(j.corrected)}" for j in r.judges if j.corrected]
    panels = [j for j in r.judges if j.panel_alpha is not None]
    if panels:
        lines += ["", "Judge panel agreement (Krippendorff's alpha, bootstrap intervals over rows):",
                  ""]
        lines += _table(["checkpoint", "flag", "scores", "categories", "rows split"],
                        [[j.checkpoint, *(fmt_ci(v) for v in (j.panel_alpha or {}).values()),
                          j.panel_split] for j in panels])
    return "\n".join(lines)
