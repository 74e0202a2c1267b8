"""What a judge panel adds to results: each member's verdicts, and how far the members agree.

Agreement is Krippendorff's alpha, the measure that allows any number of raters and missing
verdicts: nominal on the appropriateness flag (units: rows), interval on the 1-5 rubric scores
(units: a row's name on one criterion), nominal on the categories (units: a row's name). Each
comes with a percentile bootstrap interval over rows (a row's names and criteria move together),
and alpha is undefined (null) when every verdict is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .config import EvalConfig
from .judges.panel import PANEL_RULES
from .results import MetricValue, PanelAgreement, PanelVote, RowResult
from .stats import bootstrap_clusters, krippendorff_alpha
from .types import CRITERIA, Judgment

__all__ = ["panel_agreement", "panel_votes", "panel_split_rows"]


def panel_votes(judged: Judgment | None) -> list[PanelVote] | None:
    """Each member's verdict on the row, in member order (``None`` for a single judge)."""
    if judged is None or not judged.members:
        return None
    return [PanelVote(judge=name, appropriate=None if v is None else v.appropriate,
                      scores={} if v is None else {d.domain: dict(d.scores) for d in v.domains},
                      categories={} if v is None else {d.domain: d.category for d in v.domains})
            for name, v in zip(judged.member_names, judged.members)]


def panel_split_rows(rows: Sequence[RowResult]) -> list[int]:
    """Rows whose members did not all give the same flag."""
    return [r.index for r in rows if r.panel is not None and
            len({v.appropriate for v in r.panel if v.appropriate is not None}) > 1]


def _units(rows: Sequence[RowResult], idx: Sequence[int], what: str) -> list[list[object]]:
    units: list[list[object]] = []
    for i in idx:
        panel = rows[i].panel or []
        if what == "flag":
            units.append([v.appropriate for v in panel if v.appropriate is not None])
            continue
        for name in rows[i].suggestions:
            if what == "category":
                units.append([v.categories[name] for v in panel if name in v.categories])
            else:
                units.extend([v.scores[name][c] for v in panel if name in v.scores]
                             for c in CRITERIA)
    return units


def _alpha_of(rows: Sequence[RowResult], what: str, level: str) -> Callable[[Any], float]:
    def alpha(idx: Any) -> float:
        return krippendorff_alpha(_units(rows, [int(i) for i in idx], what), level=level)

    return alpha


def panel_agreement(rows: Sequence[RowResult], members: Sequence[str], cfg: EvalConfig,
                    design: str = "judges") -> PanelAgreement:
    """Krippendorff's alpha on the three jobs, each with its bootstrap interval over rows."""
    panelled = [r for r in rows if r.panel is not None]
    values = {}
    for what, level, offset in (("flag", "nominal", 51), ("score", "interval", 52),
                                ("category", "nominal", 53)):
        res = bootstrap_clusters(len(panelled), _alpha_of(panelled, what, level),
                                 n_resamples=min(cfg.n_resamples, 1000), seed=cfg.seed + offset,
                                 confidence=cfg.confidence)
        values[what] = MetricValue.from_bootstrap(res)
    return PanelAgreement(members=list(members), rules=PANEL_RULES,
                          design="repeats" if design == "repeats" else "judges",
                          flag_alpha=values["flag"],
                          score_alpha=values["score"], category_alpha=values["category"])
