"""Judging in batch mode at scale, against a loopback server with the batch endpoints.

Run: python benchmarks/bench_batch.py [--rows 10000] [--poll 0.5] (about a minute on 2 cores).
The server (tests/batch_server.py) runs in a child process, so the client CPU measured here is
ours alone: rendering 10,000 requests, writing the batch file, reading results,
validating, caching and scoring. Targets: client CPU under 2 ms a row; then the SQLite store at
100,000 cached entries (its size and the time to look one up), and the wall time beyond the
server's own batch delay (the time spent waiting between polls).
Measured on the 2-core development VM, two runs: 10,000 rows in 5.7 / 5.8 s wall (0.5 s of it
waiting between polls), client CPU 0.41 ms a row both times, peak RSS 411 / 412 MB; the store at
100,000 entries: 278 MB, 8 us a lookup.
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def serve(conn, polls):
    from batch_server import BatchServer

    with BatchServer(polls=polls) as server:
        conn.send(server.base_url)
        conn.recv()  # until the benchmark is done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--entries", type=int, default=100_000)
    args = ap.parse_args()

    from domainyours_eval import evaluate, get_judge
    from domainyours_eval.cache import JudgeCache, request_key

    parent, child = multiprocessing.get_context("fork").Pipe()
    proc = multiprocessing.get_context("fork").Process(target=serve, args=(child, 1), daemon=True)
    proc.start()
    base_url = parent.recv()
    rows = [{"id": f"r{i}", "description": f"Organic coffee shop number {i} in town {i % 97}",
             "suggestions": [f"bean{i}burst", f"roast{i}lab", f"brew{i}buddy"]}
            for i in range(args.rows)]
    waited = [0.0]

    async def sleep(seconds):
        waited[0] += seconds
        await asyncio.sleep(seconds)

    with tempfile.TemporaryDirectory() as tmp:
        judge = get_judge("openai/gpt-4o-mini", base_url=base_url, cache_dir=tmp, sleep=sleep)
        cpu0, t0 = time.process_time(), time.perf_counter()
        res = evaluate([r["suggestions"] for r in rows], rows, judge=judge, batch=True,
                       batch_poll=args.poll, n_resamples=1000)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        parent.send("done")
        proc.join(timeout=10)
        print(f"{args.rows} rows in batch mode: {wall:.1f} s wall, {waited[0]:.1f} s of it waiting "
              f"between polls, {wall - waited[0]:.1f} s beyond the server's batch delay")
        print(f"client CPU {cpu:.1f} s = {1000 * cpu / args.rows:.2f} ms a row (target < 2 ms); "
              f"judge errors {res.judge.n_errors}; {res.judge.details['batch']}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {rss:.0f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        store = JudgeCache(tmp)
        keys = []
        t0 = time.perf_counter()
        batch = []
        for i in range(args.entries):
            request = f'{{"row":{i},"user":"{"x" * 400}"}}'
            key = request_key(request)
            keys.append(key)
            batch.append((key, time.time(), request, '{"text":"' + "y" * 600 + '","usage":{}}'))
        store.execute_many("INSERT INTO calls (key, created, request, response) VALUES "
                           "(?, ?, ?, ?)", batch)
        filled = time.perf_counter() - t0
        picks = random.Random(0).sample(keys, 10_000)
        t0 = time.perf_counter()
        for k in picks:
            store.get(k)
        per = (time.perf_counter() - t0) / len(picks)
        size = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
        print(f"store with {args.entries:,} entries: {size:.0f} MB on disk (filled in "
              f"{filled:.1f} s), lookup {per * 1e6:.0f} us each (10,000 random keys)")
        store.close()
    os._exit(0)


if __name__ == "__main__":
    main()
