"""Coverage study: do the default intervals cover, and do the verdict's flags hold alpha?

Run: python benchmarks/bench_coverage.py [--reps 1000] [--draws 2000] [--workers 2]
(about 25 minutes on 2 cores at the defaults). Prints one table per population and test-set size.

Two known populations: "seed-like" (the seed report's v1: 79% safe rows, 14.7% false refusals,
44.4% misses, name quality 0.69) and "good" (80% safe, 3% false refusals, 10% misses, quality
0.80). The truth-class sizes are fixed by design, as the protocol assumes. For each population and
n = 30, 100, 400 it draws ``reps`` test sets and prints:

* the coverage of every default single-checkpoint interval (Wilson rates, Jeffreys F-scores,
  studentized bootstrap quality) of its true value;
* the coverage of every default paired interval (Tango, MOVER, paired Jeffreys, paired t) for a
  candidate that truly improves (false refusals and misses x 0.6, quality + 0.03), its errors
  correlated with the incumbent's;
* the type I error of every flag the verdict uses, for two checkpoints drawn from the same
  population (exchangeable, errors correlated), with Holm over the three claims as compare does.

Bootstrap resamples and posterior draws are ``--draws`` (2,000 by default, 10,000 in the
library) to keep the run short; the Monte Carlo error this adds to an interval end is small
beside the sampling error the study measures. With ``reps`` = 1,000 a coverage of 0.95 has a
standard error of 0.007.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import time
from dataclasses import dataclass

import numpy as np

from domainyours_eval.comparison import CheckpointRows, pair_claims, pair_deltas
from domainyours_eval.policy import DecisionPolicy
from domainyours_eval.protocol import Resampling, metric_functions, score_metrics
from domainyours_eval.results import MetricValue
from domainyours_eval.stats import holm

BETA = 2.0
RHO = 0.5
"""Share of rows whose error draw the two checkpoints share (their errors are correlated)."""
QUALITY_SD = 0.12


@dataclass(frozen=True)
class Population:
    name: str
    safe_share: float
    false_refusal: float
    miss: float
    quality: float


POPULATIONS = (Population("seed-like", 34 / 43, 5 / 34, 4 / 9, 0.69),
               Population("good", 0.8, 0.03, 0.10, 0.80))
BETTER = (0.6, 0.6, 0.03)
"""The improved candidate: false refusals x 0.6, misses x 0.6, quality + 0.03."""


def _beta_params(mean: float, sd: float) -> tuple[float, float]:
    k = mean * (1 - mean) / sd**2 - 1
    return mean * k, (1 - mean) * k


def _true_metrics(n_safe: int, n_harm: int, f: float, m: float, q: float) -> dict[str, float]:
    n = n_safe + n_harm
    sums = np.zeros(6)
    sums[0], sums[2] = n_safe * (1 - f), n_safe * f
    sums[1], sums[3] = n_harm * (1 - m), n_harm * m
    sums[4], sums[5] = n_safe * (1 - f) * q, n_safe * (1 - f)
    out = {k: float(fn(sums)) for k, fn in metric_functions(BETA).items()}
    out["quality_per_safe_row"] = q * (1 - f)
    out["safety_cost"] = (n_safe * f + 4 * n_harm * m) / n
    return out


def _draw(rng: np.random.Generator, n_safe: int, n_harm: int, fa: float, ma: float, qa: float,
          fb: float, mb: float, qb: float) -> tuple[CheckpointRows, CheckpointRows]:
    n = n_safe + n_harm
    shared = rng.random(n) < RHO
    u = rng.random(n)
    ua = np.where(shared, u, rng.random(n))
    ub = np.where(shared, u, rng.random(n))
    harmful = np.r_[np.zeros(n_safe, bool), np.ones(n_harm, bool)]
    wrong_a = ua < np.where(harmful, ma, fa)
    wrong_b = ub < np.where(harmful, mb, fb)
    # Row difficulty is shared, so the two checkpoints' scores are paired. Scores live in
    # [0.01, 0.97] by construction (no clipping), so the true means are exactly qa and qb.
    a, b = _beta_params((qa - 0.05) / 0.85, QUALITY_SD / 0.85)
    base = 0.05 + 0.85 * rng.beta(a, b, n)
    sa = base + rng.uniform(-0.04, 0.04, n)
    sb = base + (qb - qa) + rng.uniform(-0.04, 0.04, n)

    def rows(wrong: np.ndarray, scores: np.ndarray) -> CheckpointRows:
        outcomes = [("missed_inappropriate" if w else "confirmed_inappropriate") if h else
                    ("false_positive_inappropriate" if w else "ok")
                    for w, h in zip(wrong, harmful)]
        return CheckpointRows(outcomes, [float(s) if o == "ok" else None
                                         for s, o in zip(scores, outcomes)])

    return rows(wrong_a, sa), rows(wrong_b, sb)


def _covers(lo: float | None, hi: float | None, truth: float) -> bool:
    return lo is not None and hi is not None and lo - 1e-12 <= truth <= hi + 1e-12


def _one(args: tuple[Population, int, int, int]) -> dict[str, float]:
    pop, n, rep, draws = args
    rng = np.random.default_rng([n, rep, len(pop.name)])
    n_safe = round(n * pop.safe_share)
    n_harm = n - n_safe
    rs = Resampling(n_resamples=draws, seed=rep)
    policy = DecisionPolicy()
    f, m, q = pop.false_refusal, pop.miss, pop.quality
    fb, mb, qb = f * BETTER[0], m * BETTER[1], q + BETTER[2]
    out: dict[str, float] = {}

    # Single checkpoint and the improved pair.
    a, b = _draw(rng, n_safe, n_harm, f, m, q, fb, mb, qb)
    truth_a = _true_metrics(n_safe, n_harm, f, m, q)
    truth_b = _true_metrics(n_safe, n_harm, fb, mb, qb)
    ma = score_metrics(a.outcomes, a.scores, beta=BETA, resampling=rs)
    mb_ = score_metrics(b.outcomes, b.scores, beta=BETA, resampling=rs)
    for k, r in ma.items():
        out[f"single:{k}"] = float(_covers(r.ci_low, r.ci_high, truth_a[k]))

    def maps(res: dict, rows: CheckpointRows) -> dict[str, MetricValue]:
        out_map = {k: MetricValue.from_bootstrap(v) for k, v in res.items()}
        cost = sum(4 if o == "missed_inappropriate" else o == "false_positive_inappropriate"
                   for o in rows.outcomes) / n
        out_map["safety_cost"] = MetricValue(value=cost, ci_low=None, ci_high=None, n=n,
                                             n_resamples=0, seed=0, method="-", confidence=0.95)
        return out_map

    deltas = pair_deltas(a, b, maps(ma, a), maps(mb_, b), policy, rs, BETA)
    truth_delta = {k: truth_b[k] - truth_a[k] for k in truth_a}
    truth_delta["quality_both_ok"] = qb - q
    for k, d in deltas.items():
        out[f"paired:{k}"] = float(_covers(d.ci_low, d.ci_high, truth_delta[k]))
    claims = {c.name: c for c in pair_claims(a, b, policy, 0.05)}
    # The misses claim estimates B's share of the discordant harmful rows.
    both = RHO * min(m, mb) + (1 - RHO) * m * mb
    share = (mb - both) / ((m - both) + (mb - both))
    out["claim:misses"] = float(_covers(claims["misses"].ci_low, claims["misses"].ci_high, share)) \
        if claims["misses"].ci_low is not None else math.nan
    out["claim:safety_cost"] = float(_covers(claims["safety_cost"].ci_low,
                                             claims["safety_cost"].ci_high,
                                             truth_delta["safety_cost"]))
    out["claim:quality"] = float(_covers(claims["quality"].ci_low, claims["quality"].ci_high,
                                         qb - q))

    # Null: two checkpoints from one population.
    a0, b0 = _draw(rng, n_safe, n_harm, f, m, q, f, m, q)
    null = pair_claims(a0, b0, policy, 0.05)
    ps = [math.nan if c.p_value is None else c.p_value for c in null]
    adjusted = holm(ps)
    for c, p, ph in zip(null, ps, adjusted):
        out[f"type1:{c.name}"] = float(not math.isnan(p) and p < 0.05)
        out[f"type1-holm:{c.name}"] = float(not math.isnan(ph) and ph < 0.05)
    out["type1-holm:any"] = float(any(not math.isnan(ph) and ph < 0.05 for ph in adjusted))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="+", default=[30, 100, 400])
    args = ap.parse_args()
    start = time.perf_counter()
    print(f"coverage study: {args.reps} replications per cell, {args.draws} resamples/draws, "
          f"errors shared on {RHO:.0%} of rows; target coverage 0.93-0.97, type I <= 0.06\n")
    with mp.Pool(args.workers) as pool:
        for pop in POPULATIONS:
            cells = {}
            for n in args.sizes:
                jobs = [(pop, n, rep, args.draws) for rep in range(args.reps)]
                rows = pool.map(_one, jobs, chunksize=10)
                keys = rows[0].keys()
                cells[n] = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
            keys = list(cells[args.sizes[0]])
            print(f"population {pop.name}: {pop.safe_share:.0%} safe rows, false refusals "
                  f"{pop.false_refusal:.1%}, misses {pop.miss:.1%}, quality {pop.quality:.2f}")
            print(f"{'interval or flag':44s}" + "".join(f"{'n=' + str(n):>10s}"
                                                       for n in args.sizes))
            for k in keys:
                print(f"{k:44s}" + "".join(f"{cells[n][k]:10.3f}" for n in args.sizes))
            print()
    print(f"took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
