"""Paired bootstrap speed: all protocol metrics of two checkpoints, ours vs scipy.stats.bootstrap.

Run: python benchmarks/bench_bootstrap.py [--rows 10000] [--resamples 10000]   (about 1 minute)
Target (2-core machine): ours under 2 s, at least 10x faster than scipy computing the same
statistic (the 7 paired metric differences, one multi-output ``scipy.stats.bootstrap`` call),
with CIs agreeing within Monte-Carlo error. Each timing is the best of a few runs, so neither side
pays first-touch memory costs. A single statistic (the quality difference) is timed too: there the
gap is smaller, since the cost of drawing 10^8 row indices is the same for both.
"""

import argparse
import time

import numpy as np
import scipy.stats as st

from domainyours_eval.scoring import OUTCOMES, metric_functions, paired_bootstrap, row_features


def best_of(k, fn):
    times, out = [], None
    for _ in range(k):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def synthetic(n):
    rng = np.random.default_rng(0)
    harmful = rng.random(n) < 0.15
    refused_a = np.where(harmful, rng.random(n) < 0.7, rng.random(n) < 0.08)
    refused_b = np.where(harmful, rng.random(n) < 0.8, rng.random(n) < 0.05)

    def outcomes(refused):
        return [OUTCOMES[(1 if r else 3) if h else (2 if r else 0)] for h, r in zip(harmful, refused)]

    # Row scores are means of integer rubric scores: multiples of 0.01.
    sa = np.round(rng.random(n), 2)
    sb = np.round(np.clip(rng.random(n) + 0.02, 0, 1), 2)
    return row_features(outcomes(refused_a), list(sa)), row_features(outcomes(refused_b), list(sb))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--resamples", type=int, default=10_000)
    args = ap.parse_args()
    n, b = args.rows, args.resamples
    fa, fb = synthetic(n)
    fns = metric_functions()
    k = fa.shape[1]

    def scipy_all(*cols, axis=-1):
        sums = np.stack([c.sum(axis=axis) for c in cols], axis=-1)
        return np.stack([fn(sums[..., k:]) - fn(sums[..., :k]) for fn in fns.values()])

    def scipy_quality(*cols, axis=-1):
        return scipy_all(*cols, axis=axis)[0]

    cols = tuple(fa[:, j] for j in range(k)) + tuple(fb[:, j] for j in range(k))
    t_ours, ours = best_of(3, lambda: paired_bootstrap(fa, fb, fns, n_resamples=b, seed=1))
    t_scipy, ref = best_of(2, lambda: st.bootstrap(
        cols, scipy_all, paired=True, vectorized=True, n_resamples=b, method="percentile",
        rng=np.random.default_rng(2)))
    t_q, ours_q = best_of(3, lambda: paired_bootstrap(fa, fb, {"quality": fns["quality"]},
                                                      n_resamples=b, seed=1))
    t_q_scipy, _ = best_of(2, lambda: st.bootstrap(
        cols, scipy_quality, paired=True, vectorized=True, n_resamples=b, method="percentile",
        rng=np.random.default_rng(2)))

    print(f"rows {n}, resamples {b}, percentile CIs of the paired differences (B - A)")
    print(f"{'metric':20s} {'ours':>22s} {'scipy':>22s}  agree")
    all_agree = True
    for i, (name, (res, _)) in enumerate(ours.items()):
        lo, hi = ref.confidence_interval.low[i], ref.confidence_interval.high[i]
        se = float(ref.standard_error[i])
        # Percentile ends move by about 0.04 SE between seeds at 10,000 resamples; allow 4x.
        agree = abs(res.ci_low - lo) < 0.15 * se and abs(res.ci_high - hi) < 0.15 * se
        all_agree &= agree
        print(f"{name:20s} [{res.ci_low:+.4f}, {res.ci_high:+.4f}]   [{lo:+.4f}, {hi:+.4f}]  "
              f"{'yes' if agree else 'NO'}")
    print(f"agree within Monte-Carlo error: {'yes' if all_agree else 'NO'}")
    print(f"single statistic (quality delta): ours {t_q:.2f} s, scipy {t_q_scipy:.2f} s, "
          f"{t_q_scipy / t_q:.1f}x")
    print(f"all {len(fns)} metrics of two checkpoints: ours {t_ours:.2f} s (target < 2 s), "
          f"scipy {t_scipy:.2f} s")
    print(f"speedup vs scipy: {t_scipy / t_ours:.1f}x")


if __name__ == "__main__":
    main()
