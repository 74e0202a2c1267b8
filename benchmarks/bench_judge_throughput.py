"""Judge throughput against a loopback OpenAI-compatible server with a fixed latency.

Run: python benchmarks/bench_judge_throughput.py [--rows 1000] [--latency 0.2] [--concurrency 32]
(about 15 s). Target: the run finishes within 1.3x of the ideal rows x latency / concurrency,
makes exactly one call per row, and zero calls when rerun (everything comes from the cache).
The server runs in a child process on its own asyncio loop (exact latency, a deep listen
backlog), so its work shares neither our GIL nor thread wake-ups. It also prints the client's CPU
per call: the calls are async, but building and reading each request in the SDK and its HTTP
stack is serial Python work that adds to the ideal.
Measured on the 2-core development VM: 1.25x (7.8 s for an ideal 6.25 s), about 5 ms of client
CPU a row, 1000 calls, 0 on the rerun.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from loopback import LoopbackProcess  # noqa: E402

from domainyours_eval import evaluate, get_judge  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    rows = [{"id": str(i), "description": f"Neighbourhood coffee roaster number {i}",
             "suggestions": [f"brew{i}", f"bean{i}", f"roast{i}", f"cup{i}", f"mocha{i}"]}
            for i in range(args.rows)]
    outputs = [r["suggestions"] for r in rows]
    ideal = args.rows * args.latency / args.concurrency
    with tempfile.TemporaryDirectory() as cache, LoopbackProcess(args.latency) as server:
        judge = get_judge("openai/loopback", base_url=server.base_url, cache_dir=cache)
        t0, c0 = time.perf_counter(), time.process_time()
        evaluate(outputs, rows, judge=judge, concurrency=args.concurrency, n_resamples=0)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        first_calls = server.requests
        t0 = time.perf_counter()
        evaluate(outputs, rows, judge=judge, concurrency=args.concurrency, n_resamples=0)
        rerun = time.perf_counter() - t0
        rerun_calls = server.requests - first_calls
    print(f"rows {args.rows}, latency {args.latency:.3f} s, concurrency {args.concurrency}")
    print(f"ideal {ideal:.2f} s, measured {elapsed:.2f} s, ratio {elapsed / ideal:.2f}x "
          f"(target <= 1.3x)")
    # All calls return after the same latency, so they stay in step: each round of
    # `concurrency` calls also waits for their client-side CPU, one after another.
    print(f"client CPU {cpu:.2f} s = {1000 * cpu / args.rows:.2f} ms a row (SDK, HTTP stack, "
          "cache, validation, scoring)")
    print(f"calls on the first run: {first_calls} (one per row: "
          f"{'yes' if first_calls == args.rows else 'NO'})")
    print(f"calls on the rerun: {rerun_calls} in {rerun:.2f} s (target 0)")


if __name__ == "__main__":
    main()
