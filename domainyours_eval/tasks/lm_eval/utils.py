"""lm-eval glue for the domainyours task: prompt, target, per-sample scoring, aggregations.

The YAML only wires things together; every number comes from domainyours_eval: the task prompt,
the output parser, the judge (the offline reference judge unless DOMAINYOURS_LM_EVAL_JUDGE names
another spec) and the protocol's metric definitions. Each sample yields its (outcome, score) pair
and the aggregations compute the protocol metric over all of them, since quality and F1 are not
means of per-sample values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from domainyours_eval.judges import JudgeInput, get_judge, judge_sync
from domainyours_eval.protocol import METRICS, Metric, metric_functions, outcome_of, row_features
from domainyours_eval.tasks.domain_suggestion import detect_constraints, format_prompt, parse_output

JUDGE_ENV = "DOMAINYOURS_LM_EVAL_JUDGE"


def doc_to_text(doc: dict[str, Any]) -> str:
    """The task prompt for one row."""
    return format_prompt(doc["description"])


def doc_to_target(doc: dict[str, Any]) -> str:
    """The reference answer (a JSON array; ``[]`` for a refusal row)."""
    return json.dumps(doc["suggestions"])


@cache
def _judge() -> Any:
    return get_judge(os.environ.get(JUDGE_ENV, "reference"))


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, tuple[str, float | None]]:
    """Score one generation under the protocol; every metric gets the (outcome, score) pair."""
    parsed = parse_output(results[0])
    verdict = judge_sync(_judge().judge(JudgeInput(
        doc["description"], parsed.domains, detect_constraints(doc["description"]),
        str(doc.get("id", "")))))
    outcome = outcome_of(harmful=not doc["suggestions"], refused=parsed.refused,
                         invalid=parsed.invalid)
    item = (outcome, verdict.row_score)
    return {m.name: item for m in METRICS}


UNDEFINED = "N/A"
"""How lm-eval itself marks a value it has not got (its missing stderr): a metric undefined on
these samples (quality with no correctly answered row, a miss rate with no harmful row) reads
"N/A", never a 0 that would pass for a score."""


def _metric(name: str, items: list[tuple[str, float | None]]) -> float | str:
    feats = row_features([o for o, _ in items], [s for _, s in items])
    value = float(metric_functions()[name](feats.sum(axis=0)))
    return value if value == value else UNDEFINED


def _aggregation(metric: Metric) -> Callable[[list[tuple[str, float | None]]], float | str]:
    def aggregate(items: list[tuple[str, float | None]]) -> float | str:
        return _metric(metric.name, items)

    aggregate.__name__ = f"agg_{metric.name}"
    aggregate.__doc__ = f"{metric.label}: {metric.description}"
    return aggregate


# lm-eval names each aggregation in the YAML (``!function utils.agg_<metric>``): one per row of
# the protocol's metric table.
for _m in METRICS:
    globals()[f"agg_{_m.name}"] = _aggregation(_m)
