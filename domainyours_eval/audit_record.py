"""The record of a judge's bias audit, kept in ``results.json`` when attached to a run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .metric_value import MetricValue

__all__ = ["AuditReport"]


class AuditReport(BaseModel):
    """What ``judge-audit`` found."""

    model_config = ConfigDict(extra="forbid")

    judge: str
    fingerprint: str
    n_rows: int
    """Rows judged validly in both orders."""
    n_names: int
    category_flip_rate: MetricValue
    """Share of names whose category changes when the order is reversed."""
    score_change: MetricValue
    """Mean absolute change of a name's 1-5 score on a criterion, in points."""
    flag_flip_rate: MetricValue
    """Share of rows whose appropriateness flag changes."""
    length_spearman: dict[str, MetricValue]
    """Per category: Spearman of name length with the judge's normalised score."""
    same_family: str | None = None
    """The warning, when the judge and the model under test come from one model family."""

    def __rich__(self) -> Any:
        from .reports.console import audit_renderable

        return audit_renderable(self)
