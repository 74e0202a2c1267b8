"""``compare``: checkpoints judged on the same test set, tested pair by pair under a stated policy.

Two kinds of numbers come out, and the reports keep them apart. *Claims* are what the verdict
rests on (``policy.py``): each candidate against the incumbent on misses (exact McNemar on the
harmful rows), safety cost (MOVER over Tango intervals) and quality on rows both answered
correctly (paired t). They form one Holm family; each claim's interval is shown at the level
Holm tested it at, and its p-value, flag and interval come from the same method, so they cannot
disagree. *Descriptive differences* (every metric, any pair) carry unadjusted intervals and no
significance flag. Every statistic is recomputed from the rows, so results written by an earlier
protocol version compare under the current one. Results judged on different test sets,
protocols, judges or ground truth are refused.
"""

from .build import compare
from .claims import pair_claims
from .deltas import pair_deltas
from .records import (
    BETTER as BETTER,
)
from .records import (
    COMPARISON_VERSION as COMPARISON_VERSION,
)
from .records import (
    DELTA_LABELS as DELTA_LABELS,
)
from .records import (
    DELTA_METRICS as DELTA_METRICS,
)
from .records import (
    POWER as POWER,
)
from .records import (
    CheckpointSummary as CheckpointSummary,
)
from .records import (
    Claim,
    Comparison,
    MetricDelta,
    PairComparison,
)
from .rows import CheckpointRows

__all__ = [
    "CheckpointRows",
    "Claim",
    "Comparison",
    "MetricDelta",
    "PairComparison",
    "compare",
    "pair_claims",
    "pair_deltas",
]
