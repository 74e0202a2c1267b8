import json

import pytest
from conftest import SECRET, Provider, error, openai_answer, openai_client

from domainyours_eval import JudgeAuthError, JudgeInput, JudgeResponseError, evaluate, get_judge
from domainyours_eval.judges import judge_sync
from domainyours_eval.judges.prompt import output_schema

ITEM = JudgeInput("Organic coffee shop; playful names.", ("beanburst", "roastlab", "brewbuddy"))


def make(provider, tmp_path, **kw):
    return get_judge("openai/gpt-4o-mini", client=openai_client(provider),
                     cache_dir=tmp_path / "cache", **kw)


def test_structured_request_as_sent_and_parsed_verdict(tmp_path):
    provider = Provider(openai_answer(score=5))
    judge = make(provider, tmp_path)
    verdict = judge_sync(judge.judge(ITEM))
    (body,) = provider.requests
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.0 and body["temperature"] is not None
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == output_schema()
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert provider.headers[0]["authorization"] == f"Bearer {SECRET}"
    assert [d.domain for d in verdict.domains] == list(ITEM.domains)
    assert all(d.normalised == 1.0 for d in verdict.domains)
    assert verdict.appropriate is True
    info = judge.info()
    assert info["usage"] == {"input_tokens": 600, "output_tokens": 200, "cache_read_tokens": 400,
                             "cache_write_tokens": 0}
    assert info["cost_usd"] == pytest.approx((600 * 0.15 + 400 * 0.015 + 200 * 0.6) / 1e6)
    assert info["details"]["structured_output"] == "json_schema"


def test_names_are_shown_shuffled_with_a_recorded_seed(tmp_path):
    from conftest import names_in, openai_user_text

    item = JudgeInput("Coffee", tuple(f"name{i}x" for i in range(5)))
    provider = Provider(openai_answer())
    judge_sync(make(provider, tmp_path, shuffle_seed=1).judge(item))
    judge_sync(make(provider, tmp_path, shuffle_seed=2, use_cache=False).judge(item))
    orders = [names_in(openai_user_text(b)) for b in provider.requests]
    assert sorted(orders[0]) == sorted(item.domains)
    assert orders[0] != orders[1] or orders[0] != list(item.domains)


@pytest.mark.parametrize("bad", [
    "not json at all",
    '{"appropriate": true, "reason": "x", "domains": []}',
    json.dumps({"appropriate": True, "reason": "x", "domains": [
        {"domain": n, "relevance": 6, "memorability": 3, "conciseness": 3, "distinctiveness": 3,
         "constraint_fit": 3, "category": "good"} for n in ITEM.domains]}),
    json.dumps({"appropriate": "yes", "reason": "x", "domains": []}),
])
def test_malformed_answers_are_retried_then_raised(tmp_path, bad):
    provider = Provider(openai_answer(content=bad))
    judge = make(provider, tmp_path, max_attempts=3)
    with pytest.raises(JudgeResponseError) as err:
        judge_sync(judge.judge(ITEM))
    assert provider.calls == 3
    assert err.value.raw
    assert len(judge.cache) == 0  # failures are never cached


@pytest.mark.parametrize("body", ["a bare string", [1, 2], {"id": "x", "choices": []},
                                  {"choices": [{"message": None}]}])
def test_a_body_that_is_not_a_completion_is_a_judge_error(tmp_path, body):
    provider = Provider(lambda _: (200, body, None))
    judge = make(provider, tmp_path, max_attempts=2)
    with pytest.raises(JudgeResponseError):
        judge_sync(judge.judge(ITEM))
    assert provider.calls == 2 and len(judge.cache) == 0


def test_a_retry_that_succeeds_counts(tmp_path):
    provider = Provider(openai_answer(content="{broken"), openai_answer())
    judge = make(provider, tmp_path)
    assert judge_sync(judge.judge(ITEM)).appropriate
    assert provider.calls == 2 and len(judge.cache) == 1


def test_500_and_429_are_retried_with_backoff(tmp_path, no_sleep):
    provider = Provider(error(500), error(429, headers={"retry-after": "7"}), openai_answer())
    judge = make(provider, tmp_path, sleep=no_sleep, backoff_base=1.0)
    judge_sync(judge.judge(ITEM))
    assert provider.calls == 3
    first, second = no_sleep.delays
    assert 0.5 <= first <= 1.0          # jittered base delay
    assert second >= 7.0                 # at least Retry-After


def test_retries_are_bounded(tmp_path, no_sleep):
    provider = Provider(error(503))
    judge = make(provider, tmp_path, sleep=no_sleep, max_retries=2)
    with pytest.raises(Exception, match="giving up after 3 attempts"):
        judge_sync(judge.judge(ITEM))
    assert provider.calls == 3


def test_401_stops_at_once_and_names_the_variable(tmp_path, no_sleep):
    provider = Provider(error(401, "Incorrect API key provided"))
    judge = make(provider, tmp_path, sleep=no_sleep)
    with pytest.raises(JudgeAuthError) as err:
        judge_sync(judge.judge(ITEM))
    assert provider.calls == 1 and no_sleep.delays == []
    assert "OPENAI_API_KEY" in str(err.value) and SECRET not in str(err.value)


@pytest.mark.parametrize("status", [400, 404])
def test_other_client_errors_are_not_retried(tmp_path, no_sleep, status):
    provider = Provider(error(status, "bad request"))
    judge = make(provider, tmp_path, sleep=no_sleep)
    with pytest.raises(Exception, match=f"HTTP {status}"):
        judge_sync(judge.judge(ITEM))
    assert provider.calls == 1


def test_schema_rejection_falls_back_once_and_is_recorded(tmp_path):
    rejected = error(500, "1 validation error: response_format.type Input should be 'text' or "
                          "'json_object'")

    def server(body):
        if body.get("response_format", {}).get("type") == "json_schema":
            return rejected(body)
        return openai_answer()(body)

    provider = Provider(server)
    strict = make(Provider(openai_answer()), tmp_path / "a")
    judge = make(provider, tmp_path / "b")
    fp_before = judge.fingerprint
    judge_sync(judge.judge(ITEM))
    judge_sync(judge.judge(JudgeInput("Bakery", ("crumbco",))))
    modes = [b.get("response_format", {}).get("type") for b in provider.requests]
    assert modes == ["json_schema", "json_object", "json_object"]
    assert provider.requests[1]["response_format"]["schema"] == output_schema()
    assert judge.info()["details"]["structured_output"] == "json_object_schema"
    assert judge.fingerprint != fp_before == strict.fingerprint


def test_prompt_only_mode_when_nothing_structured_is_accepted(tmp_path):
    def server(body):
        if "response_format" in body:
            return error(400, "response_format is not supported")(body)
        return openai_answer()(body)

    provider = Provider(server)
    judge = make(provider, tmp_path)
    judge_sync(judge.judge(ITEM))
    assert "response_format" not in provider.requests[-1]
    assert judge.backend.mode == "prompt_only"


def test_base_url_points_at_any_compatible_server(tmp_path):
    provider = Provider(openai_answer())
    judge = get_judge("openai/local-model", client=openai_client(provider, "http://127.0.0.1:8080/v1"),
                      cache_dir=tmp_path)
    judge_sync(judge.judge(ITEM))
    assert judge.backend.describe()["base_url"].startswith("http://127.0.0.1:8080")


def test_evaluate_records_judge_errors_and_reports_usage(tmp_path):
    rows = [{"id": "a", "description": "Coffee shop", "suggestions": ["beanburst"] * 1},
            {"id": "b", "description": "Bakery", "suggestions": ["crumbco"]}]

    def server(body):
        from conftest import openai_user_text
        if "Bakery" in openai_user_text(body):
            return openai_answer(content="garbage")(body)
        return openai_answer()(body)

    provider = Provider(server)
    judge = make(provider, tmp_path)
    res = evaluate([["beanburst"], ["crumbco"]], rows, judge=judge, n_resamples=100,
                   max_judge_error_rate=0.5)
    assert res.judge.spec == "openai/gpt-4o-mini"
    assert res.judge.n_errors == 1 and "no valid verdict" in res.rows[1].judge_error
    assert res.rows[1].row_score is None and res.rows[0].row_score is not None
    assert res.judge.calls == 4 and res.judge.usage["output_tokens"] == 800
    assert res.judge.cost_usd > 0


def test_the_key_stays_in_the_environment_and_the_sdk(monkeypatch):
    from domainyours_eval import get_judge

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    judge = get_judge("openai/gpt-4o-mini", use_cache=False)
    assert SECRET not in repr(vars(judge.backend)) and SECRET not in repr(vars(judge))
    assert judge.backend.client.api_key == SECRET  # where the SDK keeps it
