import pytest
from conftest import SECRET, Provider, anthropic_answer, anthropic_client, error

from domainyours_eval import JudgeAuthError, JudgeInput, JudgeResponseError, get_judge
from domainyours_eval.judges import judge_sync
from domainyours_eval.judges.prompt import output_schema

ITEM = JudgeInput("Organic coffee shop; playful names.", ("beanburst", "roastlab"))


def make(provider, tmp_path, **kw):
    return get_judge("anthropic/claude-sonnet-4-6", client=anthropic_client(provider),
                     cache_dir=tmp_path / "cache", **kw)


def test_forced_tool_request_as_sent_and_parsed(tmp_path):
    provider = Provider(anthropic_answer(score=2, category="ok"))
    judge = make(provider, tmp_path)
    verdict = judge_sync(judge.judge(ITEM))
    (body,) = provider.requests
    assert body["model"] == "claude-sonnet-4-6"
    # anthropic 2.x has no temperature argument: it travels in the body via extra_body.
    assert body["temperature"] == 0.0 and body["temperature"] is not None
    assert body["tool_choice"] == {"type": "tool", "name": "record_verdict"}
    assert body["tools"][0]["input_schema"] == output_schema()
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "<<<NAMES" in body["messages"][0]["content"]
    assert SECRET in provider.headers[0].get("x-api-key", provider.headers[0].get("authorization", ""))
    assert {d.category for d in verdict.domains} == {"ok"}
    # Two names at 0.25 each, over the five requested slots.
    assert verdict.row_score == pytest.approx(2 * 0.25 / 5)
    info = judge.info()
    assert info["usage"]["cache_read_tokens"] == 900
    # Cached system tokens are billed at a tenth of the input price.
    assert info["cost_usd"] == pytest.approx((300 * 3 + 900 * 0.3 + 200 * 15) / 1e6)


def test_out_of_range_tool_input_is_rejected(tmp_path):
    bad = {"appropriate": True, "reason": "x", "domains": [
        {"domain": d, "relevance": 0, "memorability": 3, "conciseness": 3, "distinctiveness": 3,
         "constraint_fit": 3, "category": "good"} for d in ITEM.domains]}
    provider = Provider(anthropic_answer(tool_input=bad))
    with pytest.raises(JudgeResponseError, match="relevance"):
        judge_sync(make(provider, tmp_path, max_attempts=2).judge(ITEM))
    assert provider.calls == 2


def test_overloaded_is_retried_and_auth_is_fatal(tmp_path, no_sleep):
    provider = Provider(error(529, "overloaded"), anthropic_answer())
    judge = make(provider, tmp_path, sleep=no_sleep)
    judge_sync(judge.judge(ITEM))
    assert provider.calls == 2 and len(no_sleep.delays) == 1
    provider = Provider(error(401, "invalid x-api-key"))
    with pytest.raises(JudgeAuthError, match="ANTHROPIC_API_KEY") as err:
        judge_sync(make(provider, tmp_path / "b", sleep=no_sleep).judge(ITEM))
    assert SECRET not in str(err.value)


def test_missing_sdk_gives_the_install_command(monkeypatch):
    import importlib.util

    from domainyours_eval import MissingDependencyError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "anthropic" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"pip install 'domainyours-eval\[anthropic\]'"):
        get_judge("anthropic/claude-sonnet-4-6")
