"""Provider batch jobs through the real SDKs against a loopback server with the batch endpoints."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("openai")
pytest.importorskip("anthropic")

from batch_server import BatchServer  # noqa: E402
from conftest import SECRET  # noqa: E402

from domainyours_eval import ConfigError, CostLimitError, evaluate, get_judge  # noqa: E402

ROWS = [{"id": f"r{i}", "description": f"Organic coffee shop number {i}",
         "suggestions": [f"bean{i}burst", f"roast{i}lab"]} for i in range(20)]
OUTPUTS = [r["suggestions"] for r in ROWS]
FAST = {"n_resamples": 10, "batch": True, "batch_poll": 0.01}


def openai_judge(server, cache):
    return get_judge("openai/gpt-4o-mini", base_url=server.base_url, cache_dir=cache,
                     backoff_base=0.0)


def test_openai_batch_run_matches_by_custom_id_and_calls_failed_lines_directly(tmp_path):
    with BatchServer(polls=2, fail_every=7) as server:
        updates = []
        res = evaluate(OUTPUTS, ROWS, judge=openai_judge(server, tmp_path),
                       on_batch=lambda jobs, t: updates.append([j.status for j in jobs]), **FAST)
        assert res.judge.n_errors == 0
        assert [[d.domain for d in r.domains] for r in res.rows] == OUTPUTS  # not by order
        assert len(server.created) == 1 and len(server.uploads) == 1
        lines = [json.loads(x) for x in server.uploads[0].splitlines()]
        assert len(lines) == 20 and all(x["url"] == "/v1/chat/completions" for x in lines)
        # Lines 7 and 14 failed, one in each shape; each was called directly.
        assert len(server.direct) == 2
        assert updates[0] == ["running"] and updates[-1] == ["ended"]
        assert "20 answers from batch jobs" not in res.judge.details["batch"]
        assert "18 answers from batch jobs (20 lines submitted" in res.judge.details["batch"]
        # Half price for the 18 batch answers, full price for the 2 direct calls.
        per_call = (1000 * 0.15 + 200 * 0.6) / 1e6
        assert res.judge.cost_usd == pytest.approx(18 * per_call * 0.5 + 2 * per_call)
        again = evaluate(OUTPUTS, ROWS, judge=openai_judge(server, tmp_path), **FAST)
        assert len(server.created) == 1 and len(server.direct) == 2  # nothing new at all
        assert again.judge.cache_hits == 20 and again.judge.calls == 0


def test_a_run_killed_after_submitting_resumes_the_same_job(tmp_path):
    with BatchServer(polls=3) as server:
        script = tmp_path / "run.py"
        script.write_text(textwrap.dedent(f"""
            import os, sys
            sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
            from test_batches import ROWS, OUTPUTS, FAST
            from domainyours_eval import evaluate, get_judge
            judge = get_judge("openai/gpt-4o-mini", base_url={server.base_url!r},
                              cache_dir={str(tmp_path / "cache")!r})
            evaluate(OUTPUTS, ROWS, judge=judge, on_batch=lambda jobs, t: os._exit(9), **FAST)
        """))
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        assert proc.returncode == 9, proc.stderr
        assert len(server.created) == 1 and not server.direct
        res = evaluate(OUTPUTS, ROWS, judge=openai_judge(server, tmp_path / "cache"), **FAST)
        assert len(server.created) == 1 and not server.direct  # polled, never submitted twice
        assert res.judge.n_errors == 0
        assert "0 lines submitted, 20 resumed" in res.judge.details["batch"]


def test_anthropic_message_batches_with_errored_requests(tmp_path, monkeypatch):
    with BatchServer(polls=1, fail_every=5) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.root)
        judge = get_judge("anthropic/claude-haiku-4-5", cache_dir=tmp_path, backoff_base=0.0)
        res = evaluate(OUTPUTS, ROWS, judge=judge, **FAST)
        assert res.judge.n_errors == 0 and len(server.created) == 1
        job = server.anthropic[server.created[0]]
        params = job["requests"][0]["params"]
        assert params["tool_choice"] == {"type": "tool", "name": "record_verdict"}
        assert params["temperature"] == 0.0 and params["system"][0]["cache_control"]
        assert len(server.direct) == 4  # the errored requests, called directly


def test_many_failed_lines_go_as_a_follow_up_job(tmp_path):
    rows = [{"id": f"r{i}", "description": f"Bakery number {i}", "suggestions": [f"crumb{i}co"]}
            for i in range(60)]
    with BatchServer(polls=0, fail_every=2) as server:
        res = evaluate([r["suggestions"] for r in rows], rows,
                       judge=openai_judge(server, tmp_path), **FAST)
        # 30 failed lines: a second job; half of those fail again: 15 direct calls.
        assert len(server.created) == 2 and len(server.direct) == 15
        assert res.judge.n_errors == 0


def test_cost_guard_counts_the_batch_price_and_stops_before_submitting(tmp_path):
    with BatchServer() as server:
        judge = openai_judge(server, tmp_path)
        from domainyours_eval import JudgeInput

        items = [JudgeInput(r["description"], tuple(r["suggestions"])) for r in ROWS]
        direct = judge.estimate_cost(items)
        with pytest.raises(CostLimitError, match="projected cost"):
            evaluate(OUTPUTS, ROWS, judge=judge, max_cost=direct / 10, **FAST)
        assert judge.estimate_cost(items) == pytest.approx(direct / 2)
        assert not server.created and not server.uploads and not server.direct


def test_batch_mode_needs_a_batch_capable_judge_and_the_cache(tmp_path):
    with pytest.raises(ConfigError, match="no provider calls to batch"):
        evaluate(OUTPUTS, ROWS, judge="reference", **FAST)
    with BatchServer() as server:
        judge = get_judge("openai/m", base_url=server.base_url, use_cache=False)
        with pytest.raises(ConfigError, match="no-cache"):
            evaluate(OUTPUTS, ROWS, judge=judge, **FAST)


def test_no_key_reaches_a_batch_file_or_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with BatchServer(fail_every=6) as server:
        evaluate(OUTPUTS, ROWS, judge=openai_judge(server, tmp_path), **FAST)
        assert server.uploads and all(SECRET not in text for text in server.uploads)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _cli(*args, env_extra=None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "domainyours_eval", *args], capture_output=True,
                          text=True, env=env)


def test_the_command_line_batches_judging_and_generation_and_manages_jobs(tmp_path):
    testset = tmp_path / "t.jsonl"
    testset.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": r["id"], "suggestions": r["suggestions"]}) + "\n"
                             for r in ROWS))
    cache = tmp_path / "cache"
    with BatchServer(polls=1) as server:
        env = {"OPENAI_BASE_URL": server.base_url}
        run = _cli("evaluate", "--testset", str(testset), "--predictions", str(preds),
                   "--judge", "openai/gpt-4o-mini", "--batch", "--batch-poll", "0.01",
                   "--resamples", "10", "--out", str(tmp_path / "out"), "--cache-dir", str(cache),
                   env_extra=env)
        assert run.returncode == 0, run.stderr
        job = server.created[0]
        assert f"batch job {job}: in_progress" in run.stdout
        assert f"batch job {job}: completed" in run.stdout and not server.direct
        listed = _cli("batches", "list", "--cache-dir", str(cache))
        assert job in listed.stdout and "ended" in listed.stdout and "20" in listed.stdout
        status = _cli("batches", "status", job, "--cache-dir", str(cache), env_extra=env)
        assert status.returncode == 0 and f"{job}: completed" in status.stdout
        cancel = _cli("batches", "cancel", job, "--cache-dir", str(cache), env_extra=env)
        assert cancel.returncode == 0 and server.cancelled == [job]
        assert "cancelled" in _cli("batches", "list", "--cache-dir", str(cache)).stdout
        unknown = _cli("batches", "status", "batch_nope", "--cache-dir", str(cache))
        assert unknown.returncode == 2 and "no batch job 'batch_nope'" in unknown.stderr
        out = tmp_path / "gen.jsonl"
        gen = _cli("generate", "--model", "openai/gpt-4o-mini", "--batch", "--batch-poll", "0.01",
                   "--testset", str(testset), "--out", str(out), env_extra={
                       **env, "XDG_CACHE_HOME": str(tmp_path / "xdg")})
        assert gen.returncode == 0, gen.stderr
        lines = [json.loads(x) for x in out.read_text().splitlines()]
        assert len(lines) == 20 and lines[0]["parsed"][0] == "beanburst"
        sent = [json.loads(x) for x in server.uploads[-1].splitlines()]
        assert len(server.created) == 2 and len(sent) == 20
        assert all("response_format" not in x["body"] for x in sent) and not server.direct


def test_jobs_are_split_to_the_providers_request_and_size_limits(tmp_path, monkeypatch):
    from domainyours_eval.providers.batch import split_batches
    from domainyours_eval.providers.openai import OpenAIProvider

    lines = [(f"c{i}", "x" * 99) for i in range(10)]  # 100 bytes a line with its newline
    assert [len(j) for j in split_batches(lines, max_requests=4, max_bytes=10**6)] == [4, 4, 2]
    assert [len(j) for j in split_batches(lines, max_requests=100, max_bytes=350)] == [3] * 3 + [1]
    assert [c for j in split_batches(lines, max_requests=3, max_bytes=250) for c, _ in j] == \
        [c for c, _ in lines]  # order kept, nothing lost
    monkeypatch.setattr(OpenAIProvider, "max_batch_requests", 7)
    with BatchServer(polls=0) as server:
        res = evaluate(OUTPUTS, ROWS, judge=openai_judge(server, tmp_path), **FAST)
        assert len(server.created) == 3 and [len(u.splitlines()) for u in server.uploads] == \
            [7, 7, 6]
        assert res.judge.n_errors == 0 and not server.direct
