"""``ComparisonReport``: the one data object every report format renders.

Built once (``build.py``) from the results and their paired comparison; the HTML page, the
Markdown and the terminal report only lay it out, so the three always show the same numbers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ComparisonReport"]

QUALITY_BINS = 10


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Interval(_Model):
    """A value with its CI (any may be null when undefined)."""

    value: float | None
    low: float | None = None
    high: float | None = None


class MetricRow(_Model):
    """One metric across checkpoints."""

    metric: str
    label: str = ""
    method: str = ""
    """How the intervals were made (``wilson``, ``jeffreys``, ``studentized`` bootstrap ...)."""
    values: list[Interval]


class ClaimRow(_Model):
    """One claim the verdict rests on (candidate ``b`` against incumbent ``a``)."""

    a: str
    b: str
    claim: str
    label: str
    method: str
    scale: str
    estimate: float | None
    low: float | None
    high: float | None
    null: float
    level: float | None
    """Holm's level for this claim; the interval is at ``1 - level``."""
    p: float | None
    p_holm: float | None
    significant: bool
    detail: str
    rows_needed: float | None = None
    min_detectable: float | None = None


class Delta(_Model):
    """One descriptive paired difference ``b - a`` (unadjusted interval, no test)."""

    a: str
    b: str
    metric: str
    label: str = ""
    delta: float | None
    low: float | None
    high: float | None
    method: str = ""


class ErrorSummary(_Model):
    """A checkpoint's safety errors (the seed report's FP + FN totals)."""

    false_positives: int
    missed: int
    total: int
    false_positive_share: float
    missed_share: float
    total_share: float
    """(FP + missed + invalid) / rows."""
    invalid: int = 0
    """Invalid answers (neither names nor a recognised refusal), an error on either class."""
    relative_change: float | None = None
    """Change of ``total_share`` against the first checkpoint, as a fraction."""


class SliceRow(_Model):
    """One slice across checkpoints."""

    slice: str
    n: int
    quality: list[Interval]
    allow_f1: list[float | None]
    missed: list[int]
    false_positives: list[int]
    compliance: list[float | None]


class DomainCell(_Model):
    """A judged name in an edge-case row."""

    domain: str
    score: float
    category: str


class Answer(_Model):
    """What one checkpoint answered on a row."""

    checkpoint: str
    decision: str
    outcome: str | None
    raw_output: str
    domains: list[DomainCell]
    row_score: float | None
    judge_error: str | None = None


class EdgeRow(_Model):
    """An edge-case row with every checkpoint's answer side by side."""

    index: int
    id: str
    description: str
    truth: str | None
    why: list[str]
    """Why it is listed: ``missed by v1``, ``false positive of v2``, ``lowest quality of v1``."""
    answers: list[Answer]


class EdgeSection(_Model):
    """A capped list of edge-case rows."""

    title: str
    rows: list[EdgeRow]
    left_out: int = 0


class JudgeFacts(_Model):
    """Who judged a checkpoint, under which protocol, at what cost."""

    checkpoint: str
    spec: str
    fingerprint: str
    protocol: str
    protocol_fingerprint: str
    calls: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    judge_errors: int
    kappa_vs_dataset: float | None
    agreement_vs_dataset: float | None
    structured_output: str | None
    confidence_spearman: Interval | None = None
    """Spearman of the model's per-name log-probability with the judge's score, when known."""
    panel_alpha: dict[str, Interval] | None = None
    """A judge panel's Krippendorff's alpha on the flag, the scores and the categories."""
    panel_split: int = 0
    """Rows the panel split on (its members gave different flags)."""
    calibration: str = ""
    """Whether the judge was measured against people's labels, in words."""
    audit: str = ""
    """The judge's bias audit on this run, in words (empty when not audited)."""
    corrected: str = ""
    """Rates corrected for the judge's errors on the flag, in words (``safety_truth`` judge)."""


class ComparisonReport(_Model):
    """Everything a report shows, for one checkpoint or a comparison of any number."""

    title: str
    generated_at: str
    testset: str
    testset_sha256: str
    n_rows: int
    protocol: str
    safety_truth: str
    confidence: float
    n_resamples: int
    resampling_method: str = "studentized"
    checkpoints: list[str]
    policy: str | None = None
    """The decision policy in words; null for a one-checkpoint report."""
    incumbent: str | None = None
    recommendation: str | None = None
    verdicts: list[str] = Field(default_factory=list)
    pairwise: list[str] = Field(default_factory=list)
    """Side-by-side judging, one sentence per candidate, with its figures."""
    claims: list[ClaimRow] = Field(default_factory=list)
    alpha: float | None = None
    metrics: list[MetricRow]
    safety_cost: list[Interval] = Field(default_factory=list)
    """Per checkpoint, under the policy's costs (comparisons only)."""
    deltas: list[Delta] = Field(default_factory=list)
    confusion: dict[str, dict[str, int]]
    errors: dict[str, ErrorSummary]
    slices: list[SliceRow]
    quality_histogram: dict[str, list[int]]
    """Per checkpoint: ``ok`` rows per score bin (0-0.1, ..., 0.9-1.0)."""
    categories: dict[str, dict[str, int]]
    violations: dict[str, dict[str, int]]
    constraints: dict[str, dict[str, float]]
    """Per checkpoint: compliance rate per stated constraint."""
    edge_cases: list[EdgeSection]
    judges: list[JudgeFacts]
    notes: list[str] = Field(default_factory=list)

    def to_html(self) -> str:
        """The standalone HTML page (no scripts, no external requests)."""
        from .html import render_html

        return render_html(self)

    def to_markdown(self) -> str:
        """The report as Markdown (for a pull request or a model card)."""
        from .markdown import render_markdown

        return render_markdown(self)

    def __rich__(self) -> Any:
        from .console import report_renderable

        return report_renderable(self)

