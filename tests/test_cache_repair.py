"""A damaged judge cache is rebuilt from what can be read; processes sharing one pay once."""

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest
from loopback import LoopbackServer

from domainyours_eval.cache import CACHE_FILE, LEASE_SECONDS, JudgeCache
from domainyours_eval.cache_repair import check_cache, repair_cache

CLI = [sys.executable, "-m", "domainyours_eval"]


def _evaluate(server, testset, preds, out, cache, *extra, wait=True):
    args = [*CLI, "evaluate", "--testset", str(testset), "--predictions", str(preds), "--out",
            str(out), "--judge", "openai/j", "--cache-dir", str(cache), "--resamples", "50",
            *extra]
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
    if not wait:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
    return subprocess.run(args, capture_output=True, text=True, timeout=180, env=env)


def _metrics(out):
    data = json.loads((out / "results.json").read_text())
    return data["metrics"], [r["row_score"] for r in data["rows"]]


@pytest.fixture()
def judged(tmp_path, testset_path, v1_path):
    """A server, a full cache of the v1 rows, and the first run's results."""
    with LoopbackServer() as server:
        proc = _evaluate(server, testset_path, v1_path, tmp_path / "first", tmp_path / "cache")
        assert proc.returncode == 0, proc.stderr
        yield server, tmp_path / "cache", server.requests


def _salvaged(stderr):
    m = re.search(r"(\d+) stored call\(s\) were read back", stderr.replace("\n", " "))
    assert m, stderr
    return int(m.group(1))


def test_a_cache_replaced_by_another_file_is_moved_aside_and_the_run_goes_on(
        judged, tmp_path, testset_path, v1_path):
    server, cache, paid = judged
    (cache / CACHE_FILE).write_bytes(os.urandom(50_000))
    proc = _evaluate(server, testset_path, v1_path, tmp_path / "again", cache)
    assert proc.returncode == 0, proc.stderr
    text = proc.stderr.replace("\n", " ")
    assert "warning: the judge cache" in text and "file is not a database" in text
    assert str(cache / CACHE_FILE) in text and "Traceback" not in text
    aside = list(cache.glob(f"{CACHE_FILE}.damaged-*"))
    assert len(aside) == 1 and str(aside[0]) in text
    assert _salvaged(proc.stderr) == 0 and server.requests == 2 * paid
    assert _metrics(tmp_path / "again") == _metrics(tmp_path / "first")


def test_a_truncated_cache_keeps_what_can_be_read_and_pays_only_for_the_rest(
        judged, tmp_path, testset_path, v1_path):
    server, cache, paid = judged
    path = cache / CACHE_FILE
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size * 6 // 10)
    check = subprocess.run([*CLI, "cache", "check", "--cache-dir", str(cache)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 1 and "damaged" in check.stdout and "cache repair" in check.stdout
    proc = _evaluate(server, testset_path, v1_path, tmp_path / "again", cache)
    assert proc.returncode == 0, proc.stderr
    kept = _salvaged(proc.stderr)
    assert 0 < kept < paid
    assert server.requests == paid + (paid - kept)  # only what was lost is paid again
    assert _metrics(tmp_path / "again") == _metrics(tmp_path / "first")
    check = subprocess.run([*CLI, "cache", "check", "--cache-dir", str(cache)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and f"ok, {paid} stored call(s)" in check.stdout


def test_cache_repair_command_rebuilds_a_page_damaged_file(judged, tmp_path):
    _, cache, paid = judged
    path = cache / CACHE_FILE
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 2, len(data) - page, page * 3):
        data[start:start + 16] = b"\xff" * 16  # b-tree page headers
    path.write_bytes(bytes(data))
    assert not check_cache(cache).ok
    proc = subprocess.run([*CLI, "cache", "repair", "--cache-dir", str(cache)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "damaged" in proc.stdout and "moved to" in proc.stdout
    found = check_cache(cache)
    assert found.ok and 0 <= found.calls <= paid
    # Whatever was read back is verified: each row's key is the hash of its request.
    conn = sqlite3.connect(path)
    from domainyours_eval.cache import request_key

    for key, request in conn.execute("SELECT key, request FROM calls"):
        assert request_key(request) == key
    conn.close()
    assert repair_cache(cache).ok  # a sound cache is left as it is


def test_two_processes_on_one_cache_pay_once_for_each_request(tmp_path, testset_path, v1_path):
    with LoopbackServer(latency=0.15) as server:
        proc = _evaluate(server, testset_path, v1_path, tmp_path / "alone", tmp_path / "c1",
                         "--concurrency", "4")
        assert proc.returncode == 0, proc.stderr
        distinct = server.requests
        both = [_evaluate(server, testset_path, v1_path, tmp_path / f"p{i}", tmp_path / "c2",
                          "--concurrency", "4", wait=False) for i in range(2)]
        errors = [p.communicate(timeout=180)[1] for p in both]  # both finish before any check
        for p, err in zip(both, errors):
            assert p.returncode == 0, err
        assert server.requests == 2 * distinct
    assert _metrics(tmp_path / "p0") == _metrics(tmp_path / "p1") == _metrics(tmp_path / "alone")


def test_a_live_lease_is_waited_for_and_a_lapsed_one_taken_over(tmp_path):
    first, second = JudgeCache(tmp_path), JudgeCache(tmp_path)
    assert first.claim("k") and not second.claim("k")

    async def wait_for_answer():
        async with second.lease("k") as hit:
            return hit

    async def answer_later():
        await asyncio.sleep(0.3)
        first.put("k", "{}", {"text": "answer"})

    async def both():
        return (await asyncio.gather(wait_for_answer(), answer_later()))[0]

    assert asyncio.run(both()) == {"text": "answer"}
    # A lease held by a process on another machine lapses after LEASE_SECONDS.
    first._conn.execute("INSERT INTO leases VALUES ('j', 'elsewhere:1:x', ?)",
                        (time.time() + LEASE_SECONDS,))
    assert not second.claim("j")
    first._conn.execute("UPDATE leases SET expires = ? WHERE key = 'j'", (time.time() - 1,))
    assert second.claim("j")
    # One held by a process of this machine that is gone is taken over at once.
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    first._conn.execute("INSERT INTO leases VALUES ('m', ?, ?)",
                        (f"{socket.gethostname()}:{dead}:x", time.time() + LEASE_SECONDS))
    assert second.claim("m")
