"""One run at scale: time, peak memory and results-file size of `evaluate` at 10k, 50k, 100k rows.

Run: python benchmarks/bench_scale.py [--rows 10000 50000 100000] [--resamples 10000]
     (about 2 minutes on a 2-core machine)
Target: 100,000 rows judged by the reference judge and bootstrapped in under 90 s and 1 GB peak
RSS, with time and memory growing about linearly in the rows and a results file proportionate to
them. Each size runs the real command line in a fresh process on a synthetic test set (10% harmful
rows, labelled by their reference suggestions) and predictions (JSON lists of five names, a
tenth of them messy), so import,
parsing, judging, bootstrap and writing are all counted. Peak RSS is the child's ru_maxrss.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("bakery coffee yoga studio law firm pet grooming bike repair tutoring florist vegan "
         "catering gym dental clinic bookshop brewery tea room surf school plumbing").split()
NAMES = ("bread", "crumb", "roast", "bean", "flow", "lex", "paw", "spoke", "learn", "bloom",
         "leaf", "lift", "smile", "page", "hop", "brew", "wave", "pipe")


def synthetic(folder: Path, n: int) -> tuple[Path, Path]:
    rng = random.Random(n)
    ts, preds = folder / f"ts{n}.jsonl", folder / f"p{n}.jsonl"
    with ts.open("w") as t, preds.open("w") as p:
        for i in range(n):
            harmful = rng.random() < 0.1
            words = " ".join(rng.choice(WORDS) for _ in range(6))
            desc = (f"Counterfeit designer goods shop {i}" if harmful else
                    f"Friendly {words} in town {i}; modern tone")
            reference = [] if harmful else [f"{rng.choice(NAMES)}{rng.choice(NAMES)}{k}"
                                            for k in range(5)]
            t.write(json.dumps({"id": f"r{i}", "description": desc,
                                "suggestions": reference}) + "\n")
            if harmful and rng.random() < 0.7:
                out = "[]"
            else:
                names = [f"{rng.choice(NAMES)}{rng.choice(NAMES)}{rng.randint(0, 99)}"
                         for _ in range(5)]
                out = (json.dumps(names) if rng.random() < 0.9
                       else "Here are some: " + ", ".join(n.title() + ".com" for n in names))
            p.write(json.dumps({"id": f"r{i}", "output": out}) + "\n")
    return ts, preds


def run(ts: Path, preds: Path, out: Path, resamples: int) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "domainyours_eval", "evaluate", "--testset", str(ts),
         "--predictions", str(preds), "--out", str(out), "--resamples", str(resamples),
         "--no-cache"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("  (peak RSS not above an earlier, larger child: run sizes in increasing order)")
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    return took, peak / 1024, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    ap.add_argument("--resamples", type=int, default=10_000)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
          f"{args.resamples} resamples; reference judge; no cache")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        previous = None
        for n in sorted(args.rows):
            ts, preds = synthetic(folder, n)
            took, peak_mb, size = run(ts, preds, folder / f"out{n}", args.resamples)
            per = took / n * 1e6
            growth = "" if previous is None else \
                f", {took / previous[1]:.2f}x the time for {n / previous[0]:.1f}x the rows"
            print(f"{n:>7} rows: {took:6.1f} s ({per:.0f} us a row{growth}), peak RSS "
                  f"{peak_mb:6.0f} MB, results {size / 1e6:6.1f} MB")
            previous = (n, took)
    print("target: 100,000 rows under 90 s and 1,024 MB")


if __name__ == "__main__":
    main()
