"""The provider layer both roles share, through the real SDKs on their mock transports."""

import asyncio
import json
import subprocess
import sys
import warnings

import pytest
from conftest import Provider, anthropic_answer, anthropic_client, error, openai_answer, openai_client

from domainyours_eval import ConfigError
from domainyours_eval.cache import JudgeCache
from domainyours_eval.errors import JudgeError, JudgeResponseError
from domainyours_eval.providers import ChatRequest, Transport, get_provider, list_providers

pytest.importorskip("openai")
pytest.importorskip("anthropic")


def test_registry_lists_builtins_and_names_the_fix_for_a_typo():
    assert {"anthropic", "hf", "openai"} <= set(list_providers())
    with pytest.raises(ConfigError, match="Did you mean 'openai'"):
        get_provider("opneai/gpt-4o-mini")
    with pytest.raises(ConfigError, match="names no model"):
        get_provider("openai")


def test_importing_the_layer_loads_no_sdk():
    code = ("import sys, domainyours_eval.providers, domainyours_eval.models; "
            "print(sorted(m for m in ('openai', 'anthropic', 'torch', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_openai_provider_sends_one_body_for_either_role_and_reads_logprobs():
    def step(body):
        status, reply, headers = openai_answer(content='["beanburst"]')(body)
        reply["choices"][0]["logprobs"] = {"content": [
            {"token": "bean", "logprob": -0.5, "top_logprobs": []},
            {"token": "burst", "logprob": -1.5, "top_logprobs": []}]}
        return status, reply, headers

    sdk = Provider(step)
    provider = get_provider("openai/gpt-4o-mini", client=openai_client(sdk), max_tokens=90)
    plain = asyncio.run(provider.complete(ChatRequest(user="hello", logprobs=True)))
    assert plain.tokens == (("bean", -0.5), ("burst", -1.5))
    body = sdk.requests[0]
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["logprobs"] is True and body["max_tokens"] == 90 and "response_format" not in body
    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    asyncio.run(provider.complete(ChatRequest(user="row", system="rules", schema=schema)))
    judged = sdk.requests[1]
    assert judged["messages"][0] == {"role": "system", "content": "rules"}
    assert judged["response_format"]["json_schema"]["schema"] == schema and "logprobs" not in judged


def test_anthropic_provider_forces_the_tool_only_when_a_schema_is_asked_for():
    sdk = Provider(anthropic_answer(tool_input={"appropriate": True}))
    provider = get_provider("anthropic/claude-haiku-4-5", client=anthropic_client(sdk))
    schema = {"type": "object", "properties": {}}
    asyncio.run(provider.complete(ChatRequest(user="row", system="rules", schema=schema)))
    asyncio.run(provider.complete(ChatRequest(user="plain")))
    tool, plain = sdk.requests
    assert tool["tool_choice"] == {"type": "tool", "name": "record_verdict"}
    assert tool["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "tools" not in plain and "system" not in plain and plain["temperature"] == 0.0


def test_transport_caches_accepted_answers_only_and_retries_transient_errors(tmp_path, no_sleep):
    sdk = Provider(error(500), openai_answer(content="bad"), openai_answer(content="good"))
    provider = get_provider("openai/gpt-4o-mini", client=openai_client(sdk))
    transport = Transport(provider, name="openai/gpt-4o-mini", cache=JudgeCache(tmp_path),
                          sleep=no_sleep)

    def accept(c):
        if c.text != "good":
            raise JudgeResponseError("not good", raw=c.text)
        return c.text

    key = {"what": "row 1"}
    assert asyncio.run(transport.call(ChatRequest(user="x"), key=key, accept=accept,
                                      attempts=2)) == "good"
    assert transport.calls == 3 and transport.cache_hits == 0 and len(transport.cache) == 1
    again = Transport(provider, name="openai/gpt-4o-mini", cache=JudgeCache(tmp_path))
    assert asyncio.run(again.call(ChatRequest(user="x"), key=key, accept=accept)) == "good"
    assert again.calls == 0 and again.cache_hits == 1
    failing = Provider(error(401))
    bad = Transport(get_provider("openai/m", client=openai_client(failing)), name="openai/m",
                    cache=None)
    with pytest.raises(JudgeError, match="OPENAI_API_KEY"):
        asyncio.run(bad.call(ChatRequest(user="x"), key=key, accept=accept))
    assert failing.calls == 1  # credentials refused: not retried


@pytest.mark.parametrize(("old", "name", "new"), [
    ("domainyours_eval.generation", "generate", "domainyours_eval.models"),
    ("domainyours_eval.generation", "load_model", "domainyours_eval.models"),
    ("domainyours_eval.models_api", "APIModel", "domainyours_eval.models.api"),
    ("domainyours_eval.predictions", "read_predictions", "domainyours_eval.models.predictions"),
    ("domainyours_eval.lm_eval_import", "import_lm_eval_samples", "domainyours_eval.harness"),
    ("domainyours_eval.cache", "repair_cache", "domainyours_eval.cache_repair"),
])
def test_former_module_names_still_import_with_a_deprecation_warning(old, name, new):
    import importlib

    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=f"moved to {new}.{name}"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError):
            module.no_such_name  # noqa: B018


@pytest.fixture
def echo_plugin(tmp_path, monkeypatch):
    """A third-party provider registered by entry point: it answers with names or a verdict."""
    from importlib.metadata import EntryPoint

    import domainyours_eval._plugins as plugins
    from domainyours_eval.providers import ENTRY_POINT_GROUP

    (tmp_path / "echo_provider.py").write_text(
        "import json\n"
        "from conftest import verdict_for\n"
        "from domainyours_eval.providers import Completion\n"
        "class Echo:\n"
        "    backend, env_var = 'echo', None\n"
        "    def __init__(self, model, **options):\n"
        "        self.model, self.options, self.seen = model, options, []\n"
        "    def describe(self):\n"
        "        return {'model': self.model}\n"
        "    async def complete(self, request):\n"
        "        self.seen.append(request)\n"
        "        if request.schema is not None:\n"
        "            return Completion(text=json.dumps(verdict_for(request.user)))\n"
        "        return Completion(text='[\"beanburst\", \"roastlab\"]')\n"
        "    async def aclose(self):\n"
        "        pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="echo", value="echo_provider:Echo", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points",
                        lambda group: [ep] if group == ENTRY_POINT_GROUP else [])
    return ep


def test_a_plug_in_provider_serves_both_roles(echo_plugin, tmp_path):
    from domainyours_eval import evaluate, get_judge
    from domainyours_eval.models import is_model_spec, load_model

    assert "echo" in list_providers() and is_model_spec("echo/any")
    provider = get_provider("echo/any")
    assert json.dumps(provider.describe()) == '{"model": "any"}'
    judge = get_judge("echo/judge-model", cache_dir=tmp_path, max_attempts=1)
    assert judge.name == "echo/judge-model" and judge.provider.options["role"] == "judge"
    model = load_model("echo/model-under-test", cache_dir=tmp_path / "m")
    rows = [{"id": "a", "description": "Organic coffee shop"},
            {"id": "b", "description": "Sourdough bakery"}]
    res = evaluate(model, rows, judge=judge, n_resamples=10)
    assert res.model.source == "echo/model-under-test" and res.judge.n_errors == 0
    assert [[d.domain for d in r.domains] for r in res.rows] == [["beanburst", "roastlab"]] * 2
    sent = model.provider.seen
    assert len(sent) == 2 and all(r.schema is None and r.system is None for r in sent)
    assert all(r.schema is not None for r in judge.provider.seen)
