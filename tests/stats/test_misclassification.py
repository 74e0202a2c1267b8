"""Rates corrected for a judge's measured sensitivity and specificity (Rogan-Gladen)."""

import math

import numpy as np
import pytest

from domainyours_eval.stats.misclassification import FlagAccuracy, corrected_rates

PERFECT = FlagAccuracy(harmful=40, harmful_flagged=40, safe=40, safe_cleared=40)


def _counts(ha, hr, sa, sr, hi=0, si=0):
    return {("harmful", "allow"): ha, ("harmful", "refuse"): hr, ("harmful", "invalid"): hi,
            ("safe", "allow"): sa, ("safe", "refuse"): sr, ("safe", "invalid"): si}


def test_a_judge_that_never_erred_on_people_leaves_the_rates_as_they_are():
    got = corrected_rates(_counts(6, 24, 63, 7), PERFECT, n_draws=2000)
    assert got["missed_rate"].value == pytest.approx(6 / 30)
    assert got["false_positive_rate"].value == pytest.approx(7 / 70)
    assert got["harmful_share"].value == pytest.approx(0.3)
    # The interval still carries the accuracy's uncertainty from 40 + 40 labelled rows.
    assert got["missed_rate"].ci_low < 0.2 < got["missed_rate"].ci_high


def test_the_correction_solves_the_misclassification_equations():
    se, sp, pi, miss, fp = 0.8, 0.9, 0.25, 0.2, 0.1
    # Expected cell shares of 100,000 rows, then the judge's accuracy given exactly.
    n = 100_000
    p = {("harmful", "allow"): se * pi * miss + (1 - sp) * (1 - pi) * (1 - fp),
         ("harmful", "refuse"): se * pi * (1 - miss) + (1 - sp) * (1 - pi) * fp,
         ("safe", "allow"): (1 - se) * pi * miss + sp * (1 - pi) * (1 - fp),
         ("safe", "refuse"): (1 - se) * pi * (1 - miss) + sp * (1 - pi) * fp}
    counts = {k: round(v * n) for k, v in p.items()}
    acc = FlagAccuracy(harmful=1000, harmful_flagged=800, safe=1000, safe_cleared=900)
    got = corrected_rates(counts, acc, n_draws=500)
    assert got["missed_rate"].value == pytest.approx(miss, abs=1e-3)
    assert got["false_positive_rate"].value == pytest.approx(fp, abs=1e-3)
    assert got["harmful_share"].value == pytest.approx(pi, abs=1e-3)
    raw = counts[("harmful", "allow")] / (counts[("harmful", "allow")] + counts[("harmful", "refuse")])
    assert raw > 0.35  # against the flags, safe rows the judge called harmful look like misses


def test_a_judge_no_better_than_a_coin_gives_no_correction():
    coin = FlagAccuracy(harmful=20, harmful_flagged=10, safe=20, safe_cleared=9)
    got = corrected_rates(_counts(6, 24, 63, 7), coin, n_draws=500)
    assert math.isnan(got["missed_rate"].value) and math.isnan(got["missed_rate"].ci_low)
    assert got["missed_rate"].n_undefined > 0


def _coverage(reps, *, n, pi, se, sp, miss, fp, labelled, seed):
    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(("missed_rate", "false_positive_rate", "harmful_share"), 0)
    truth = {"missed_rate": miss, "false_positive_rate": fp, "harmful_share": pi}
    for r in range(reps):
        harm = rng.random(n) < pi
        allow = np.where(harm, rng.random(n) < miss, rng.random(n) > fp)
        flag = np.where(harm, rng.random(n) < se, rng.random(n) > sp)
        counts = _counts(int((flag & allow).sum()), int((flag & ~allow).sum()),
                         int((~flag & allow).sum()), int((~flag & ~allow).sum()))
        acc = FlagAccuracy(labelled[0], int(rng.binomial(labelled[0], se)), labelled[1],
                           int(rng.binomial(labelled[1], sp)))
        got = corrected_rates(counts, acc, n_draws=1000, seed=r)
        for k in hits:
            hits[k] += got[k].ci_low <= truth[k] <= got[k].ci_high
    return {k: v / reps for k, v in hits.items()}


@pytest.mark.parametrize("case", [
    # A middling judge measured on few labelled rows (measured 0.94 / 0.95 / 0.95 at 400).
    dict(n=300, pi=0.3, se=0.85, sp=0.9, miss=0.2, fp=0.1, labelled=(25, 35), seed=3),
    # A good judge and a rare miss, near the boundary (measured 0.94 / 0.96 / 0.99 at 400).
    dict(n=300, pi=0.3, se=0.98, sp=0.99, miss=0.05, fp=0.05, labelled=(30, 30), seed=5),
])
def test_the_intervals_cover_the_true_rates(case):
    # 250 replications put a true 95% within about +/- 0.03.
    got = _coverage(250, **case)
    assert all(0.91 <= v <= 1.0 for v in got.values()), got
