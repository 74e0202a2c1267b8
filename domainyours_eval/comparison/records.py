"""The comparison records: claims, descriptive deltas, pairs, checkpoints and the comparison."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..errors import DataError, DataProblem
from ..policy import DecisionPolicy, Status
from ..protocol import (
    METRIC_BY_NAME,
    Resampling,
)
from ..results import Confusion, EvalResults, Metrics, MetricValue, write_output

COMPARISON_VERSION: Final = "domainyours-comparison/2"
POWER = 0.8
"""Power at which rows needed and the smallest detectable difference are stated."""

DELTA_METRICS = ("safety_cost", "false_positive_rate", "missed_rate", "false_positive_share",
                 "missed_share", "error_rate", "invalid_rate", "allow_f1", "refusal_f1",
                 "safety_fbeta", "quality_both_ok", "quality_per_safe_row")
"""Descriptive paired differences, in report order."""

DELTA_LABELS = {
    "safety_cost": "safety cost per row",
    "quality_both_ok": "quality on rows both answered correctly",
    **{m.name: m.label for m in METRIC_BY_NAME.values()},
}
BETTER = {"safety_cost": -1, "quality_both_ok": 1,
          **{m.name: m.direction for m in METRIC_BY_NAME.values()}}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Claim(_Model):
    """One test the verdict rests on: candidate ``b`` against incumbent ``a``."""

    name: Literal["misses", "safety_cost", "quality"]
    label: str
    method: str
    """The named test; the interval inverts it, at ``1 - level``."""
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    null: float
    """The value of "no difference" on the estimate's scale (0, or 1/2 for a share)."""
    scale: str
    """What the estimate measures, in words."""
    level: float | None
    """Significance level Holm's procedure tested this claim at; the interval is at 1 - level."""
    p_value: float | None
    """Unadjusted two-sided p-value of the named test."""
    p_holm: float | None
    """Holm-adjusted over every claim of every candidate."""
    significant: bool
    favours: Literal["a", "b"] | None
    """Which checkpoint the estimate favours; null when it is exactly the null."""
    rows: int
    """Rows the test used."""
    detail: str
    rows_needed: float | None = None
    """Test-set rows (same class mix) this test needs to detect the observed difference at 80%
    power and ``level``; null when nothing differs."""
    min_detectable: float | None = None
    """Smallest difference detectable now at 80% power and ``level``; null when undefined."""


class MetricDelta(_Model):
    """``b - a`` for one metric, with an unadjusted interval (descriptive, no test)."""

    a: float | None
    b: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    better: Literal["a", "b"] | None = None
    """Which checkpoint the point estimates favour; null when equal or undefined."""


class PairComparison(_Model):
    """Checkpoint ``b`` against checkpoint ``a``."""

    a: str
    b: str
    n: int
    claims: list[Claim] = Field(default_factory=list)
    """Filled when ``a`` is the incumbent: the tests the verdict uses."""
    status: Status | None = None
    """The candidate's standing under the policy; null for a descriptive-only pair."""
    deltas: dict[str, MetricDelta]
    verdict: str


class CheckpointSummary(_Model):
    """One compared checkpoint, its metrics recomputed under the current protocol."""

    name: str
    source: str
    metrics: Metrics
    safety_cost: MetricValue
    """(cost_missed x misses + cost_false_refusal x false refusals) / rows, Jeffreys interval."""
    confusion: Confusion
    judge_errors: int
    protocol: str
    """The protocol the results file was scored under."""
    results_file: str | None = None
    """The results file compared (absolute), so that a comparison read back from JSON can
    render its report; null for results given in memory."""


class PairwiseResult(_Model):
    """A judge's side-by-side preferences between two checkpoints' names."""

    a: str
    b: str
    judge: str
    n: int
    """Rows both checkpoints answered with names (the only ones with two lists to compare)."""
    a_wins: int
    ties: int
    """Rows judged equal, or whose preference flipped with the order the lists were shown in."""
    b_wins: int
    p_value: float | None
    """Exact two-sided sign test on the rows not tied (null when all tied)."""
    b_share: MetricValue
    """Share of the rows not tied that ``b`` wins, with a Clopper-Pearson interval at the level
    of the policy's alpha: it excludes 0.5 exactly when ``p_value`` is below alpha."""
    significant: bool
    method: str = "exact sign test, ties dropped; Clopper-Pearson interval"


class Comparison(_Model):
    """Paired comparison of two or more checkpoints under a decision policy."""

    schema_version: Literal["domainyours-comparison/2",
                            "domainyours-comparison/3"] = COMPARISON_VERSION
    fingerprint: str
    """sha256 of the compared results, the policy and the resampling settings."""
    testset: str
    testset_sha256: str
    protocol: str
    judge: str
    safety_truth: str
    resampling: Resampling
    policy: DecisionPolicy
    policy_summary: str
    incumbent: str
    checkpoints: list[CheckpointSummary]
    pairs: list[PairComparison]
    decision: Literal["replace", "keep"]
    deploy: str
    """The checkpoint the policy recommends (the incumbent unless one candidate clearly wins)."""
    recommendation: str
    notes: list[str] = Field(default_factory=list)
    pairwise: list[PairwiseResult] = Field(default_factory=list)
    """Side-by-side judging of each candidate against the incumbent (comparison/3)."""
    _results: list[EvalResults] = PrivateAttr(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> Comparison:
        """Read a comparison written by ``to_json``; its report reloads the results it names."""
        p = Path(path)
        try:
            return cls.model_validate_json(p.read_bytes())
        except OSError as err:
            raise DataError([DataProblem(str(p), None, None, f"cannot read: {err}")],
                            summary="Cannot load the comparison") from err
        except ValidationError as err:
            problems = [DataProblem(str(p), None, ".".join(map(str, e["loc"])) or None, e["msg"])
                        for e in err.errors()[:20]]
            raise DataError(problems, summary=f"{p} is not a valid {COMPARISON_VERSION} "
                                              "file") from err

    def report(self, *, max_rows: int = 50, title: str | None = None,
               results: Sequence[EvalResults] | None = None) -> Any:
        """The ``ComparisonReport`` behind the HTML, Markdown and terminal reports.

        A comparison read back from JSON reloads the results files it names (checked against
        its fingerprint); ``results`` gives them instead, in checkpoint order.
        """
        from ..reports.build import build_report
        from .build import results_of

        if results is not None or not self._results:
            self._results = results_of(self, results)
        return build_report(self, self._results, max_rows=max_rows, title=title)

    def to_html(self, path: str | Path | None = None, **options: Any) -> str:
        """The standalone HTML report, also written to ``path`` when given."""
        return write_output(self.report(**options).to_html(), path)

    def to_markdown(self, path: str | Path | None = None, **options: Any) -> str:
        """The report as Markdown, also written to ``path`` when given."""
        return write_output(self.report(**options).to_markdown(), path)

    def to_json(self, path: str | Path | None = None) -> str:
        """Return the comparison as JSON, also writing it to ``path`` when given."""
        # Without pairwise judging the file is exactly a comparison/2 one, for older readers.
        data = self.model_dump(mode="json", exclude=set() if self.pairwise else {"pairwise"})
        return write_output(json.dumps(data, indent=2), path)

    def __rich__(self) -> Any:
        from ..reports.console import comparison_renderable

        return comparison_renderable(self)

    def __repr__(self) -> str:
        return (f"Comparison(incumbent={self.incumbent!r}, checkpoints="
                f"{[c.name for c in self.checkpoints]!r}, decision={self.decision!r}, "
                f"deploy={self.deploy!r})")

    def __str__(self) -> str:
        """A short plain-text summary (``print(comparison)``): verdict, policy, claims."""
        lines = [self.recommendation, f"policy: {self.policy_summary}"]
        for pair in self.pairs:
            if not pair.claims:
                continue
            lines.append(f"{pair.b} vs {pair.a}: {pair.status or ''}".rstrip())
            for c in pair.claims:
                # A difference carries its sign; a share tested against 0.5 does not.
                fmt = "+.3f" if c.null == 0 else ".3f"
                est = "n/a" if c.estimate is None else format(c.estimate, fmt)
                ci = ("" if c.ci_low is None or c.ci_high is None
                      else f" [{format(c.ci_low, fmt)}, {format(c.ci_high, fmt)}]")
                p = "" if c.p_holm is None else f", p (Holm) {c.p_holm:.3g}"
                flag = "significant" if c.significant else "not significant"
                lines.append(f"  {c.label}: {est}{ci} ({c.scale}; {c.method}{p}; {flag})")
                lines.append(f"    {c.detail}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)
