"""Per-row views of one checkpoint's results, and the paired counts and values claims read."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from ..protocol import (
    CORRECT,
    HARMFUL_OUTCOMES,
    Resampling,
)
from ..results import EvalResults, MetricValue, PanelVote


def finite_or_none(x: float) -> float | None:
    """``x`` as a float, or ``None`` when it is missing or not finite."""
    return None if x is None or not math.isfinite(x) else float(x)


def _metric_value(r: Any) -> MetricValue:
    return MetricValue.from_bootstrap(r)




class CheckpointRows:
    """One checkpoint's counted rows, as the paired statistics need them.

    Args:
        outcomes: Each row's outcome (one of ``OUTCOMES``).
        scores: Each row's quality score, ``None`` when it has none.
    """

    def __init__(self, outcomes: Sequence[str], scores: Sequence[float | None],
                 clusters: Sequence[object] | None = None) -> None:
        self.outcomes = list(outcomes)
        self.scores = list(scores)
        self.clusters = None if clusters is None else list(clusters)
        """A cluster label per row when rows are resampled in clusters."""
        self.harmful = [o in HARMFUL_OUTCOMES for o in self.outcomes]
        # An invalid answer is wrong: it neither answers a safe row nor refuses a harmful one.
        self.wrong = [o not in CORRECT for o in self.outcomes]
        self.votes: list[list[PanelVote] | None] = [None] * len(self.outcomes)
        """A judge panel's members' verdicts per row (``None`` for a single judge)."""
        self.panel_design: str | None = None
        """``judges`` or ``repeats`` when a panel judged these rows."""
        self.judge_draws: dict[tuple[int, int, int], Any] = {}
        """Two-level bootstrap draws against other checkpoints (by id, seed and resamples):
        the claims are read at several levels from one set of draws."""

    @classmethod
    def of(cls, res: EvalResults, keep: Sequence[int]) -> CheckpointRows:
        """The rows ``keep`` of a results file."""
        rows = [res.rows[i] for i in keep]
        clustered = any(r.cluster is not None for r in rows)
        out = cls([r.outcome or "" for r in rows], [r.row_score for r in rows],
                  [r.cluster or f"\x00row:{r.id}" for r in rows] if clustered else None)
        if res.judge.panel is not None:
            out.votes = [r.panel for r in rows]
            out.panel_design = res.judge.panel.design
        return out


def paired_counts_of(a: CheckpointRows, b: CheckpointRows, harmful: bool,
                   event: Sequence[str] | None = None) -> Any:
    """A truth class's paired counts of ``event`` outcomes (default: any wrong decision)."""
    from ..stats import PairedCounts

    idx = [i for i, h in enumerate(a.harmful) if h == harmful]
    ea = a.wrong if event is None else [o in event for o in a.outcomes]
    eb = b.wrong if event is None else [o in event for o in b.outcomes]
    return PairedCounts(
        n=len(idx),
        a_only=sum(1 for i in idx if ea[i] and not eb[i]),
        b_only=sum(1 for i in idx if eb[i] and not ea[i]),
        both=sum(1 for i in idx if ea[i] and eb[i]),
    )


def design_effect_of(a: CheckpointRows, values: Sequence[float], rows: Sequence[int]) -> float:
    """Design effect of per-row ``values`` (on ``rows``) under ``a``'s clusters; 1 without."""
    from ..stats import design_effect

    if a.clusters is None or len(rows) < 2:
        return 1.0
    return design_effect([values[i] for i in range(len(rows))],
                         [a.clusters[i] for i in rows])


def effective_counts(a: CheckpointRows, b: CheckpointRows, harmful: bool,
               event: Sequence[str] | None = None) -> tuple[Any, float]:
    """A class's paired counts divided by the design effect of its per-row differences."""
    counts = paired_counts_of(a, b, harmful, event)
    idx = [i for i, h in enumerate(a.harmful) if h == harmful]
    ea = a.wrong if event is None else [o in event for o in a.outcomes]
    eb = b.wrong if event is None else [o in event for o in b.outcomes]
    d = design_effect_of(a, [float(eb[i]) - float(ea[i]) for i in idx], idx)
    return counts.scaled(d), d


def favoured_side(estimate: float | None, null: float, direction: int) -> Literal["a", "b"] | None:
    """``b`` when the estimate (a difference b - a, or b's share of errors) favours b."""
    if estimate is None or abs(estimate - null) < 1e-12:
        return None
    return "b" if (estimate - null) * direction > 0 else "a"


def quality_pairs(a: CheckpointRows, b: CheckpointRows
                   ) -> tuple[list[float], list[float], list[int]]:
    """Per-row quality on rows both answered correctly, with a judge score; and those rows."""
    qa, qb, rows = [], [], []
    for i, (oa, ob) in enumerate(zip(a.outcomes, b.outcomes)):
        sa, sb = a.scores[i], b.scores[i]
        if oa == "ok" and ob == "ok" and sa is not None and sb is not None:
            qa.append(sa)
            qb.append(sb)
            rows.append(i)
    return qa, qb, rows


def safe_row_quality(a: CheckpointRows, b: CheckpointRows) -> tuple[list[float], list[int]]:
    """Per safe row: b's minus a's quality, a refusal scoring 0 (rows with a judge error left out)."""
    def value(rows: CheckpointRows, i: int) -> float | None:
        if rows.outcomes[i] in ("false_positive_inappropriate", "invalid_safe"):
            return 0.0
        return rows.scores[i]

    out, rows = [], []
    for i, h in enumerate(a.harmful):
        if not h:
            va, vb = value(a, i), value(b, i)
            if va is not None and vb is not None:
                out.append(vb - va)
                rows.append(i)
    return out, rows


def safe_row_posterior(a: CheckpointRows, b: CheckpointRows, rs: Resampling) -> Any:
    """Paired quality per safe row (refusals 0) by the share-times-mean posterior."""
    from ..stats import paired_share_times_mean_interval

    both: list[tuple[float, float]] = []
    only_a, only_b, all_a, all_b = [], [], [], []
    both_refused = 0
    for i, h in enumerate(a.harmful):
        if h:
            continue
        ra = a.outcomes[i] in ("false_positive_inappropriate", "invalid_safe")
        rb = b.outcomes[i] in ("false_positive_inappropriate", "invalid_safe")
        sa, sb = a.scores[i], b.scores[i]
        if (not ra and sa is None) or (not rb and sb is None):
            continue  # an answer without a verdict counts nowhere
        if sa is not None:
            all_a.append(sa)
        if sb is not None:
            all_b.append(sb)
        if ra and rb:
            both_refused += 1
        elif ra and sb is not None:
            only_a.append(sb)
        elif rb and sa is not None:
            only_b.append(sa)
        elif sa is not None and sb is not None:
            both.append((sa, sb))
    return paired_share_times_mean_interval(
        both, only_a, only_b, both_refused, all_a=all_a, all_b=all_b,
        n_draws=max(rs.n_resamples, 1), seed=rs.seed, confidence=rs.confidence)


def clusters_of(a: CheckpointRows, rows: Sequence[int]) -> list[object] | None:
    """The cluster labels of ``rows`` (``None`` when rows are independent)."""
    return None if a.clusters is None else [a.clusters[i] for i in rows]


def _row_table(votes: Sequence[PanelVote]) -> list[float]:
    """A row's quality under every multiset of its judges, by the panel's rule (lower median)."""
    import numpy as np

    from ..stats.two_level import multisets
    from ..tasks.domain_suggestion import N_SUGGESTIONS
    from ..types import CRITERIA, SCORE_MAX, SCORE_MIN

    valid = [v for v in votes if v.appropriate is not None and v.scores]
    if not valid:
        return [math.nan] * len(multisets(len(votes)))
    names = list(valid[0].scores)
    cube = np.full((len(votes), len(names), len(CRITERIA)), np.nan)
    for j, v in enumerate(votes):
        if v.appropriate is None:
            continue
        for i, name in enumerate(names):
            if name in v.scores:
                cube[j, i] = [v.scores[name][c] for c in CRITERIA]
    drawn = np.sort(cube[np.array(multisets(len(votes)))], axis=1)  # NaN sort last
    n_valid = np.isfinite(drawn).sum(axis=1)  # (sets, names, criteria)
    pick = np.clip((n_valid - 1) // 2, 0, None)
    median = np.take_along_axis(drawn, pick[:, None], axis=1)[:, 0]
    median = np.where(n_valid > 0, median, np.nan)
    normalised = ((median - SCORE_MIN) / (SCORE_MAX - SCORE_MIN)).mean(axis=2)
    return list(normalised.sum(axis=1) / max(N_SUGGESTIONS, len(names)))


def judge_tables(a: CheckpointRows, b: CheckpointRows, rows: Sequence[int]) -> Any:
    """Both checkpoints' ``(rows, multisets)`` tables of panel quality on ``rows``, and the design.

    ``None`` when the rows were not judged by one panel on both sides (or by more judges than
    the two-level bootstrap takes).
    """
    import numpy as np

    from ..stats.two_level import MAX_JUDGES

    if a.panel_design is None or a.panel_design != b.panel_design or not rows:
        return None
    members = [[v.judge for v in (x.votes[i] or [])] for x in (a, b) for i in rows]
    if len({tuple(m) for m in members}) != 1 or not 2 <= len(members[0]) <= MAX_JUDGES:
        return None
    ta = np.array([_row_table(a.votes[i] or []) for i in rows])
    tb = np.array([_row_table(b.votes[i] or []) for i in rows])
    return ta, tb, "crossed" if a.panel_design == "judges" else "nested"


MIN_TWO_LEVEL_RESAMPLES = 1000


def quality_test(a: CheckpointRows, b: CheckpointRows, qa: list[float], qb: list[float],
                 qrows: list[int], confidence: float, rs: Resampling | None) -> Any:
    """The paired quality test of ``b - a`` on ``qrows``.

    A two-level bootstrap over rows and judges when a panel (or repeated judging) scored both
    sides and ``rs`` asks for at least ``MIN_TWO_LEVEL_RESAMPLES`` resamples, else the paired t
    test.
    """
    import numpy as np

    from ..stats import paired_t_test
    from ..stats.two_level import two_level_draws

    key = (id(a), -1, -1) if rs is None else (id(a), rs.seed, rs.n_resamples)
    if key not in b.judge_draws:
        # A p-value from a few hundred resamples cannot reach Holm's smaller levels.
        enough = rs is not None and rs.n_resamples >= MIN_TWO_LEVEL_RESAMPLES
        tables = judge_tables(a, b, qrows) if enough else None
        if tables is None or rs is None:
            b.judge_draws[key] = None
        else:
            ta, tb, design = tables
            b.judge_draws[key] = two_level_draws(ta, tb, design=design,
                                                 n_resamples=rs.n_resamples, seed=rs.seed + 71,
                                                 clusters=clusters_of(a, qrows))
    draws = b.judge_draws[key]
    if draws is None:
        return paired_t_test(np.array(qb) - np.array(qa), confidence=confidence,
                             clusters=clusters_of(a, qrows))
    return draws.test(confidence)
