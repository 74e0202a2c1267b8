"""Report scale: 5 checkpoints x 10,000 rows, from results.json files to one HTML page.

Run: python benchmarks/bench_report.py [--rows 10000] [--checkpoints 5]   (about 2 minutes, most
of it building the inputs). Target: under 10 s from loading the results to the written page
(adjacent pairs, 10,000 resamples), and a page under 5 MB (edge-case lists capped at 50 rows).
"""

import argparse
import random
import tempfile
import time
from pathlib import Path

from domainyours_eval import EvalResults, compare, evaluate
from domainyours_eval.data import load_testset
from domainyours_eval.tasks import data_path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--checkpoints", type=int, default=5)
    args = ap.parse_args()
    base = load_testset(data_path("test_set.csv"))
    rows = []
    for i in range(args.rows):
        r = base.rows[i % len(base.rows)]
        rows.append({"id": f"r{i}", "description": f"{r.description} (variant {i})",
                     "suggestions": list(r.suggestions or [])})
    rng = random.Random(0)
    outputs = []
    for k in range(args.checkpoints):
        outs = []
        for r in rows:
            refuse = (not r["suggestions"] and rng.random() < 0.6 + 0.05 * k) or (
                r["suggestions"] and rng.random() < 0.08 - 0.01 * k)
            names = r["suggestions"] or ["alphaname", "betaname", "gammaname", "deltaname",
                                         "epsilonname"]
            outs.append("[]" if refuse else names[: 3 + (k + len(outs)) % 3])
        outputs.append(outs)
    with tempfile.TemporaryDirectory() as tmp:
        dirs = []
        t0 = time.perf_counter()
        for k, outs in enumerate(outputs):
            res = evaluate(outs, rows, model_name=f"v{k + 1}", n_resamples=10_000)
            dirs.append(res.save(Path(tmp) / f"v{k + 1}"))
        print(f"built {args.checkpoints} results of {args.rows} rows in "
              f"{time.perf_counter() - t0:.1f} s (not part of the target)")
        t0 = time.perf_counter()
        loaded = [EvalResults.load(d) for d in dirs]
        t_load = time.perf_counter() - t0
        cmp = compare(*loaded, pairs="adjacent")
        t_cmp = time.perf_counter() - t0 - t_load
        page = Path(tmp) / "report.html"
        cmp.to_html(page)
        total = time.perf_counter() - t0
        size = page.stat().st_size
    print(f"load {t_load:.2f} s, paired statistics {t_cmp:.2f} s, "
          f"report {total - t_load - t_cmp:.2f} s")
    print(f"report of {args.checkpoints} checkpoints x {args.rows} rows: {total:.2f} s "
          f"(target < 10 s), page {size / 1e6:.2f} MB (target < 5 MB)")


if __name__ == "__main__":
    main()
