"""The OpenAI judge over real HTTP, against a loopback server started by the test."""

from loopback import LoopbackServer

from domainyours_eval import evaluate, get_judge

ROWS = [{"id": str(i), "description": f"Coffee shop number {i}",
         "suggestions": [f"brew{i}cup", f"bean{i}bar", "roastlab"]} for i in range(20)]
ROWS.append({"id": "bad", "description": "Shop selling counterfeit watches", "suggestions": []})


def test_one_call_per_row_then_none_on_rerun(tmp_path):
    outputs = [r["suggestions"] for r in ROWS]
    with LoopbackServer(latency=0.02) as server:
        judge = get_judge("openai/local-model", base_url=server.base_url, cache_dir=tmp_path)
        res = evaluate(outputs, ROWS, judge=judge, concurrency=8, n_resamples=50)
        assert server.requests == len(ROWS)
        assert res.confusion.confirmed_inappropriate == 1 and res.judge.n_errors == 0
        assert res.judge.details["base_url"].startswith("http://127.0.0.1")
        again = get_judge("openai/local-model", base_url=server.base_url, cache_dir=tmp_path)
        rerun = evaluate(outputs, ROWS, judge=again, concurrency=8, n_resamples=50)
        assert server.requests == len(ROWS)  # zero new calls
        assert rerun.judge.cache_hits == len(ROWS)


def test_one_judge_object_serves_several_runs(tmp_path):
    # Each evaluate() has its own event loop; the judge must not carry connections across.
    with LoopbackServer() as server:
        judge = get_judge("openai/local-model", base_url=server.base_url, use_cache=False)
        for _ in range(2):
            res = evaluate([r["suggestions"] for r in ROWS], ROWS, judge=judge, n_resamples=20)
            assert res.judge.n_errors == 0
        assert server.requests == 2 * len(ROWS)
