import os
import tempfile

import pytest

from domainyours_eval.tasks import data_path


def pytest_configure(config):
    # Module-scoped fixtures run before any test's own cache folder is set: they must not read
    # the developer's cache (a judge calibrated there would change every report).
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="domainyours-tests-")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path_factory):
    # Secrets and settings from the developer's shell must not leak into tests.
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    # Caches of one test (and of the developer) are not another's: each gets its own.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    # rich sizes a piped console from the terminal stdin is attached to, whatever it is (a
    # 16-column one wrapped CLI output mid-word in CI); a fixed width keeps output comparable.
    monkeypatch.setenv("COLUMNS", "160")


@pytest.fixture
def testset_path():
    return data_path("test_set.csv")


@pytest.fixture
def v1_path():
    return data_path("predictions_v1.jsonl")


@pytest.fixture
def v2_path():
    return data_path("predictions_v2.jsonl")


# --- scripted LLM providers on the SDKs' own mock transport ------------------------------------

import json  # noqa: E402
import re  # noqa: E402

SECRET = "sk-test-SECRET-0123456789"


def names_in(user_text):
    """The names a rendered judge prompt shows, in order."""
    m = re.search(r"<<<NAMES (\w+)>>>\n(.*?)\n<<<END NAMES \1>>>", user_text, re.S)
    body = m.group(2)
    return [] if body.startswith("(") else [ln[2:] for ln in body.splitlines()]


def verdict_for(user_text, *, appropriate=True, score=4, category="good", overrides=None):
    domains = [{"domain": n, "relevance": score, "memorability": score, "conciseness": score,
                "distinctiveness": score, "constraint_fit": score, "category": category}
               for n in names_in(user_text)]
    data = {"appropriate": appropriate, "reason": "scripted", "domains": domains}
    data.update(overrides or {})
    return data


class Provider:
    """A scripted provider: each call pops the next step (or repeats the last one).

    A step is a callable ``(request_json) -> (status, body, headers)``. Every request's JSON body
    and headers are recorded.
    """

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests = []
        self.headers = []

    async def __call__(self, request):
        import httpx2

        body = json.loads(request.content)
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        status, payload, headers = step(body)
        return httpx2.Response(status, json=payload, headers=headers or {})

    @property
    def calls(self):
        return len(self.requests)


def openai_user_text(body):
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def anthropic_user_text(body):
    return body["messages"][0]["content"]


def openai_answer(content=None, **verdict_kwargs):
    def step(body):
        text = content if content is not None else json.dumps(
            verdict_for(openai_user_text(body), **verdict_kwargs))
        return 200, {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": None}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
                      "prompt_tokens_details": {"cached_tokens": 400}},
        }, None
    return step


def anthropic_answer(tool_input=None, **verdict_kwargs):
    def step(body):
        data = tool_input if tool_input is not None else verdict_for(
            anthropic_user_text(body), **verdict_kwargs)
        return 200, {
            "id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "record_verdict",
                         "input": data}],
            "stop_reason": "tool_use", "stop_sequence": None,
            "usage": {"input_tokens": 300, "output_tokens": 200,
                      "cache_read_input_tokens": 900, "cache_creation_input_tokens": 0},
        }, None
    return step


def error(status, message="error", headers=None):
    def step(body):
        return status, {"error": {"message": message, "type": "error", "code": None}}, headers
    return step


def openai_client(provider, base_url="https://api.openai.test/v1"):
    import httpx2
    import openai

    return openai.AsyncOpenAI(api_key=SECRET, base_url=base_url, max_retries=0,
                              http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(provider)),
                              _strict_response_validation=True)


def anthropic_client(provider):
    import anthropic
    import httpx2

    return anthropic.AsyncAnthropic(api_key=SECRET, base_url="https://api.anthropic.test",
                                    max_retries=0,
                                    http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(provider)),
                                    _strict_response_validation=True)


async def _no_sleep(delay):
    _no_sleep.delays.append(delay)


@pytest.fixture
def no_sleep():
    _no_sleep.delays = []
    return _no_sleep
