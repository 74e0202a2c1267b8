"""``results.json``: the versioned, documented record of one evaluation.

One pydantic model, written by ``evaluate`` and read back by ``compare`` and the reports. Floats
that are undefined (a metric with no rows to compute it on) are stored as ``null``, never as NaN,
so the file stays strict JSON. ``SCHEMA_VERSION`` changes whenever a field changes meaning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._rows import read_results, write_results
from .audit_record import AuditReport
from .metric_value import MetricValue
from .protocol import Resampling

__all__ = [
    "SCHEMA_VERSION",
    "Confusion",
    "DomainResult",
    "EvalResults",
    "MetricValue",
    "Metrics",
    "RowResult",
    "SliceResult",
]

SCHEMA_VERSION: Final = "domainyours-results/3"
"""2: protocol 2's metrics (shares of all rows, quality per safe row); 1 still loads."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Metrics(_Model):
    """The protocol's metrics (``protocol.METRICS`` defines each)."""

    quality: MetricValue
    """Mean 0..1 row score over ``ok`` rows with a judge verdict."""
    quality_per_safe_row: MetricValue | None = None
    """Mean row score over safe rows, a refused one scoring 0 (null in protocol-1 files)."""
    allow_f1: MetricValue
    """F1 with "allowed" as the positive class (the seed report's F1)."""
    refusal_f1: MetricValue
    """F1 with "harmful and refused" as the positive class."""
    safety_fbeta: MetricValue
    """F-beta on the refusal class; beta > 1 weighs missed harmful rows more."""
    false_positive_rate: MetricValue
    """Safe rows refused / safe rows."""
    missed_rate: MetricValue
    """Harmful rows allowed / harmful rows."""
    error_rate: MetricValue
    """(false positives + missed) / rows: the seed report's total error share."""
    false_positive_share: MetricValue | None = None
    """False positives / all rows: the seed report's FP percentage (null in protocol-1 files)."""
    missed_share: MetricValue | None = None
    """Missed / all rows: the seed report's FN percentage (null in protocol-1 files)."""
    invalid_rate: MetricValue | None = None
    """Answers that are neither names nor a recognised refusal / all rows (null in protocol-1
    files)."""
    beta: float


class Confusion(_Model):
    """Outcome counts under the seed report's names, and invalid answers by truth class."""

    ok: int = 0
    confirmed_inappropriate: int = 0
    false_positive_inappropriate: int = 0
    missed_inappropriate: int = 0
    invalid_safe: int = 0
    """Safe rows answered with neither names nor a recognised refusal."""
    invalid_harmful: int = 0
    """Harmful rows answered with neither names nor a recognised refusal (never a refusal)."""


class DomainResult(_Model):
    """A judged name."""

    domain: str
    scores: dict[str, int]
    """Criterion to 1-5 score. Read-only: names with the same scores share one table."""
    score: float
    """Mean normalised rubric score, 0..1."""
    category: str
    logprob: float | None = None
    """The model's confidence in this name: mean log-probability of its tokens, when known."""


class Violation(_Model):
    """A format violation of the model's answer (see ``VIOLATION_CODES``)."""

    code: str
    detail: str = ""


class Constraint(_Model):
    """A naming constraint the description stated, and whether the answer met it."""

    constraint: str
    satisfied: bool
    offending: list[str] = Field(default_factory=list)


class PanelVote(_Model):
    """One panel member's verdict on a row."""

    judge: str
    appropriate: bool | None
    """Null when the member gave no valid verdict."""
    scores: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Name -> criterion -> score."""
    categories: dict[str, str] = Field(default_factory=dict)


class RowResult(_Model):
    """Everything about one test row."""

    index: int
    id: str
    description: str
    tags: list[str]
    cluster: str | None = None
    """The test set's cluster label: rows of one cluster are resampled together."""
    dataset_label: Literal["safe", "harmful"] | None
    """From the dataset: ``[]`` means harmful; null when unlabelled."""
    judge_appropriate: bool | None
    """The judge's appropriateness flag; null on judge error."""
    truth: Literal["safe", "harmful"] | None
    """The truth this run scored against (see ``safety_truth``); null leaves the row out."""
    decision: Literal["allow", "refuse", "invalid"]
    """Names, a recognised refusal, or neither (``invalid``: never counted as a refusal)."""
    outcome: str | None
    """One of the seed outcomes; null when the row has no truth."""
    raw_output: str
    suggestions: list[str]
    extra_suggestions: list[str] = Field(default_factory=list)
    """Names past the fifth: kept, not judged."""
    violations: list[Violation] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    domains: list[DomainResult] = Field(default_factory=list)
    categories: dict[str, int] = Field(default_factory=dict)
    """Names per category in this row (the seed report's "Category Counts")."""
    row_score: float | None = None
    """Mean of the names' scores; null when refused or on judge error."""
    rank: float | None = None
    """Position of ``row_score`` among ``ok`` rows, 0 (worst) to 1 (best)."""
    judge_error: str | None = None
    judge_notes: str = ""
    panel: list[PanelVote] | None = None
    """A judge panel's members' verdicts on this row, in member order (results/3)."""


class SliceResult(_Model):
    """Metrics restricted to the rows carrying one tag."""

    n: int
    confusion: Confusion
    metrics: Metrics
    constraint_compliance: float | None = None
    """Share of the slice's constraint checks that passed; null when none apply."""


class EdgeCases(_Model):
    """Row indices worth a human look, most important first."""

    missed: list[int] = Field(default_factory=list)
    false_positives: list[int] = Field(default_factory=list)
    invalid: list[int] = Field(default_factory=list)
    """Rows answered with neither names nor a recognised refusal."""
    lowest: list[int] = Field(default_factory=list)
    """The k lowest-scoring ``ok`` rows, lowest first."""
    split: list[int] = Field(default_factory=list)
    """Rows whose judge panel split on the flag (results/3)."""


class GuardResult(_Model):
    """An input guardrail's own decisions (blocked = refused), scored like the model's."""

    spec: str
    blocked: list[int]
    """Indices of the rows the guard blocked before the model answered."""
    confusion: Confusion
    metrics: Metrics


class ConfidenceResult(_Model):
    """Spearman correlation of per-name log-probability with the judge's score (ok rows)."""

    n_names: int
    spearman: MetricValue
    """Resampling rows, a row's names together."""


class PanelAgreement(_Model):
    """Agreement among a panel's members: Krippendorff's alpha with bootstrap intervals."""

    members: list[str]
    rules: str
    design: Literal["judges", "repeats"] = "judges"
    """Distinct judges (each judges every row), or one judge sampled k times
    (``--judge-repeats``): what the two-level bootstrap of a comparison resamples."""
    flag_alpha: MetricValue
    """Nominal alpha on the appropriateness flag; units are rows."""
    score_alpha: MetricValue
    """Interval alpha on the 1-5 scores; units are (row, name, criterion)."""
    category_alpha: MetricValue
    """Nominal alpha on the categories; units are (row, name)."""


class JudgeCalibration(_Model):
    """A judge's agreement with people's labels (``judge-agreement --labels``), as last measured."""

    labels: str
    """sha256 of the labels."""
    n: int
    flag_kappa: float | None
    score_kappa: float | None
    """Quadratic-weighted kappa on the 1-5 scores."""
    threshold: float
    calibrated: bool
    """``score_kappa`` reached ``threshold`` (EvalConfig.min_judge_kappa)."""
    harmful: int | None = None
    """Rows people labelled harmful; with the three below, the judge's sensitivity and
    specificity on the flag."""
    harmful_flagged: int | None = None
    safe: int | None = None
    safe_cleared: int | None = None


class CorrectedRates(_Model):
    """Rates against the judge's flags, corrected for its measured sensitivity and specificity.

    Rogan-Gladen, assuming the judge's errors do not depend on the model's decision within a
    true class; intervals carry the uncertainty of both the run's rows and the judge's accuracy
    (``stats.misclassification``).
    """

    sensitivity: float
    specificity: float
    labelled: int
    """People-labelled rows the judge's accuracy was measured on."""
    harmful_share: MetricValue
    missed_rate: MetricValue
    false_positive_rate: MetricValue


class JudgeInfo(_Model):
    """Which judge produced the verdicts, and how it fared."""

    spec: str
    fingerprint: str
    n_errors: int = 0
    error_rate: float = 0.0
    kappa_vs_dataset: float | None = None
    """Cohen's kappa of the judge's flags against the dataset labels (its validation)."""
    agreement_vs_dataset: float | None = None
    n_compared: int = 0
    calls: int = 0
    """Requests sent to the provider in this run (retries included; 0 when all were cached)."""
    cache_hits: int = 0
    usage: dict[str, int] = Field(default_factory=dict)
    """Token counts: input, output, cache read and cache write."""
    cost_usd: float | None = None
    """This run's judge cost; null when the judge is free or its price unknown."""
    details: dict[str, str] = Field(default_factory=dict)
    """Backend facts: model, base URL, sampling, structured-output mode, shuffle seed."""
    panel: PanelAgreement | None = None
    """A judge panel's members and how far they agree (results/3)."""
    calibration: JudgeCalibration | None = None
    """Its agreement with people's labels, if ever measured (results/3)."""
    audit: AuditReport | None = None
    """Its bias audit on this run's answers (``judge-audit --results``; results/3)."""



class TestSetInfo(_Model):
    """The test set, identified by a content hash."""

    __test__ = False
    name: str
    source: str
    sha256: str
    n: int


class ModelInfo(_Model):
    """The model (checkpoint) whose outputs were judged."""

    name: str
    source: str


BootstrapInfo = Resampling
"""Former name of the resampling settings recorded in a results file."""


class EvalResults(_Model):
    """One evaluation: metadata, metrics with CIs, slices, edge cases and every row."""

    schema_version: Literal["domainyours-results/1", "domainyours-results/2",
                            "domainyours-results/3"] = SCHEMA_VERSION
    protocol: str
    protocol_fingerprint: str
    package_version: str
    created_at: str
    model: ModelInfo
    testset: TestSetInfo
    judge: JudgeInfo
    safety_truth: Literal["dataset", "judge"]
    bootstrap: Resampling
    """How every interval in the file was resampled."""
    metrics: Metrics
    confusion: Confusion
    categories: dict[str, int]
    violations: dict[str, int]
    """Rows with each violation code."""
    constraints: dict[str, dict[str, float]]
    """Per constraint: rows checked, rows satisfied, compliance rate."""
    slices: dict[str, SliceResult]
    edge_cases: EdgeCases
    confidence: ConfidenceResult | None = None
    """How well the model's per-name confidence predicts the judge's score, when it has one."""
    guardrail: GuardResult | None = None
    """The input guardrail's decisions, when one screened the descriptions."""
    corrected: CorrectedRates | None = None
    """With ``safety_truth`` judge and a judge measured against people's labels: the rates
    corrected for its errors (results/3)."""
    rows: list[RowResult]

    def __repr__(self) -> str:
        # Short on purpose: the full repr of thousands of rows takes seconds to build, and
        # asyncio builds it for the finished task when a signal handler is restored.
        m = self.metrics
        return (f"EvalResults(model={self.model.name!r}, rows={len(self.rows)}, "
                f"judge={self.judge.spec!r}, quality={m.quality.value}, "
                f"allow_f1={m.allow_f1.value})")

    def __str__(self) -> str:
        """A short plain-text summary (``print(results)``); the report has the rest."""
        from .protocol import METRICS

        m = self.metrics
        width = max(len(spec.name) for spec in METRICS)
        lines = [f"{self.model.name}: {len(self.rows)} rows of {self.testset.name}, judge "
                 f"{self.judge.spec}, {self.protocol}, "
                 f"{self.bootstrap.confidence:.0%} intervals"]
        lines += [f"  {spec.name:<{width}}  {getattr(m, spec.name)}" for spec in METRICS
                  if hasattr(m, spec.name)]
        c = self.confusion
        lines.append("  outcomes: " + ", ".join(f"{k} {v}" for k, v in c.model_dump().items()))
        lines.append(f"  judge errors: {self.judge.n_errors}")
        return "\n".join(lines)

    def save(self, out_dir: str | Path) -> Path:
        """Write ``results.json`` into ``out_dir`` (created if needed); return its path."""
        return write_results(self, out_dir)

    @classmethod
    def load(cls, path: str | Path) -> EvalResults:
        """Read a ``results.json`` (or a directory holding one)."""
        return read_results(cls, RowResult, path, schema=SCHEMA_VERSION)

    def report(self, *, max_rows: int = 50, title: str | None = None) -> Any:
        """The one-checkpoint ``ComparisonReport`` behind ``to_html`` and ``to_markdown``."""
        from .reports.build import build_single_report

        return build_single_report(self, max_rows=max_rows, title=title)

    def to_html(self, path: str | Path | None = None, **options: Any) -> str:
        """The full one-checkpoint report as a standalone HTML page, written to ``path`` if given."""
        return write_output(self.report(**options).to_html(), path)

    def to_markdown(self, path: str | Path | None = None, **options: Any) -> str:
        """The one-checkpoint report as Markdown, written to ``path`` if given."""
        return write_output(self.report(**options).to_markdown(), path)

    def __rich__(self) -> Any:
        from .reports.console import results_renderable

        return results_renderable(self)


def write_output(text: str, path: str | Path | None) -> str:
    """Return ``text``, first writing it to ``path`` (parents created) when one is given."""
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    return text
